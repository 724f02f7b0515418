"""The local stack a load run talks to: the one `make run` serves, or one started for the run and stopped after.

A running stack is found the way the README's commands find it: API_URL, else the API of the stack `make run`
deployed (.local/stack.json), else `make dev`'s at http://127.0.0.1:$PORT (default 8000); and the tenant credentials
they wrote (.local/tenant.json, or LOCAL_TENANT_FILE). A stack started for the run is `make run`'s: the package
deployed on its own ministack (scripts/deployed_stack.py).
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

from scripts.localenv import ROOT, free_port, http_ok, stop_process

HEALTH_TIMEOUT = 30  # a deployed API's first request starts its Lambda (seconds in the emulator)
START_TIMEOUT = 180  # packaging, the emulator and the deployment (about 30 s on an idle machine)
BANNER = "Stop with Ctrl-C"  # scripts/deployed_stack.py prints it once the stack is deployed and the tenant saved


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
    if not http_ok(f"{api}/v1/health", timeout=HEALTH_TIMEOUT):
        return None
    if not tenant_file.exists():
        raise StackError(f"an API answers at {api} but {tenant_file} does not exist: is it `make run`?")
    if not credentials_work(api, tenant_file):
        raise StackError(f"the API at {api} does not accept the tenant in {tenant_file}: restart `make run`")
    return Target(api, tenant_file, started=False)


@contextmanager
def own_stack(workdir: Path) -> Iterator[Target]:
    """scripts/deployed_stack.py (`make run`) on a free port with its own emulator, tenant and stack files, stopped
    (SIGTERM, like Ctrl-C) on exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    tenant_file, stack_file = workdir / "tenant.json", workdir / "stack.json"
    tenant_file.unlink(missing_ok=True)  # a fresh emulator: the old credentials would not match
    log = workdir / "stack.log"
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    env.update(
        AWS_PORT=str(free_port()),
        LOCAL_TENANT_FILE=str(tenant_file),
        LOCAL_STACK_FILE=str(stack_file),
        PYTHONUNBUFFERED="1",
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "scripts/deployed_stack.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        try:
            wait_for_banner(log, proc, START_TIMEOUT)
        except RuntimeError as exc:
            raise StackError(f"the local stack did not start ({exc}); its log: {log}") from exc
        yield Target(json.loads(stack_file.read_text())["api_url"], tenant_file, started=True)
    finally:
        stop_process(proc, timeout=20)  # SIGTERM, like Ctrl-C: it stops the emulator


def wait_for_banner(log: Path, proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while BANNER not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the stack never printed its banner")
        time.sleep(0.1)
