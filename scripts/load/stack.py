"""The local stack a load run talks to: the one `make run` serves, or one started for the run and stopped after.

A running stack is found the way the README's commands find it: the API at http://127.0.0.1:$PORT (default
8000, or API_URL) and the tenant credentials `make run` wrote (.local/tenant.json, or LOCAL_TENANT_FILE).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scripts.localenv import ROOT, free_port, http_ok, stop_process, wait_until_ok

START_TIMEOUT = 90
BANNER = "Stop with Ctrl-C"  # scripts/local_stack.py prints it once the API answers and the tenant is saved


class StackError(Exception):
    """The stack cannot be used or did not start: the message says why."""


@dataclass(frozen=True)
class Target:
    api: str
    tenant_file: Path
    started: bool  # True when this run started the stack (and stops it)


def credentials_work(api: str, tenant_file: Path) -> bool:
    """Whether the API knows the saved tenant and key: an unknown member is a 404, a foreign key a 403."""
    saved = json.loads(tenant_file.read_text())
    url = f"{api}/v1/tenants/{saved['tenant_id']}/members/load-probe"
    request = urllib.request.Request(url, headers={"authorization": f"Bearer {saved['api_key']}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return bool(response.status == 200)
    except urllib.error.HTTPError as error:
        return error.code == 404
    except OSError:
        return False


def running(api: str, tenant_file: Path) -> Target | None:
    """The running stack at ``api`` (None when nothing answers there); StackError when its tenant is not ours."""
    if not http_ok(f"{api}/v1/health"):
        return None
    if not tenant_file.exists():
        raise StackError(f"an API answers at {api} but {tenant_file} does not exist: is it `make run`?")
    if not credentials_work(api, tenant_file):
        raise StackError(f"the API at {api} does not accept the tenant in {tenant_file}: restart `make run`")
    return Target(api, tenant_file, started=False)


@contextmanager
def own_stack(workdir: Path) -> Iterator[Target]:
    """scripts/local_stack.py on free ports with its own emulator and tenant file, stopped (SIGTERM) on exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    api_port, aws_port = free_port(), free_port()
    tenant_file = workdir / "tenant.json"
    tenant_file.unlink(missing_ok=True)  # a fresh emulator: the old credentials would not match
    log = workdir / "stack.log"
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    env.update(PORT=str(api_port), AWS_PORT=str(aws_port), LOCAL_TENANT_FILE=str(tenant_file), PYTHONUNBUFFERED="1")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "scripts/local_stack.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        api = f"http://127.0.0.1:{api_port}"
        try:
            wait_until_ok(f"{api}/v1/health", proc, START_TIMEOUT)
            wait_for_banner(log, proc)
        except RuntimeError as exc:
            raise StackError(f"the local stack did not start ({exc}); its log: {log}") from exc
        yield Target(api, tenant_file, started=True)
    finally:
        stop_process(proc, timeout=20)  # SIGTERM, like Ctrl-C: it stops `chalice local`, then the emulator


def wait_for_banner(log: Path, proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while BANNER not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the stack never printed its banner")
        time.sleep(0.1)
