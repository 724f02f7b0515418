"""Start and stop the local stack (scripts/local_stack.py: moto server + `chalice local`) for the e2e tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from scripts.localenv import ROOT, free_port, wait_until_ok
from tests.conftest import TenantCreds

START_TIMEOUT = 60


@dataclass
class Stack:
    """One running `scripts/local_stack.py` process and what it serves."""

    proc: subprocess.Popen[bytes]
    api: str
    endpoint: str
    tenant_file: Path
    log: Path

    @property
    def tenant(self) -> TenantCreds:
        saved = json.loads(self.tenant_file.read_text())
        return TenantCreds(saved["tenant_id"], saved["api_key"], saved["webhook_secrets"]["standard"])

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 20) -> int:
        """Signal the stack (as Ctrl-C or a service manager would) and wait for it; its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"the local stack ignored {signal.Signals(signum).name}:\n{self.output()}") from None


def stack_env(
    api_port: int, tenant_file: Path, aws_port: int | None, endpoint: str | None, extra: dict[str, str] | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    env.update(PORT=str(api_port), LOCAL_TENANT_FILE=str(tenant_file), PYTHONUNBUFFERED="1", **(extra or {}))
    if aws_port is not None:
        env["AWS_PORT"] = str(aws_port)
    if endpoint is not None:
        env["AWS_ENDPOINT_URL"] = endpoint
    return env


def start_stack(
    workdir: Path, tenant_file: Path, endpoint: str | None = None, extra_env: dict[str, str] | None = None
) -> Stack:
    """`scripts/local_stack.py` on free ports: its own moto server, or the given ``endpoint``."""
    api_port = free_port()
    aws_port = None if endpoint else free_port()
    log = workdir / f"stack-{api_port}.log"
    env = stack_env(api_port, tenant_file, aws_port, endpoint, extra_env)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "scripts/local_stack.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    stack = Stack(proc, f"http://127.0.0.1:{api_port}", endpoint or f"http://127.0.0.1:{aws_port}", tenant_file, log)
    try:
        wait_until_ok(f"{stack.api}/v1/health", proc, START_TIMEOUT)
        wait_for_banner(stack)
    except (RuntimeError, AssertionError) as exc:
        stack.stop(signal.SIGTERM)  # it stops its own `chalice local` on the way out
        raise AssertionError(f"the local stack did not start: {exc}\n{stack.output()}") from exc
    return stack


def wait_for_banner(stack: Stack, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while "Stop with Ctrl-C" not in stack.output():
        if time.monotonic() > deadline:
            raise AssertionError("the local stack never printed its banner")
        time.sleep(0.1)


def listening(url: str) -> bool:
    """Whether something accepts connections at the host and port of ``url`` (its path, if any, is not requested)."""
    parts = urllib.parse.urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port or 80), timeout=1).close()
    except OSError:
        return False
    return True


def run_ops(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """`python scripts/ops.py ARGS` against the stack's emulator."""
    env = {**os.environ, "AWS_ENDPOINT_URL": stack.endpoint}
    command = [sys.executable, "scripts/ops.py", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)


def run_schedule(endpoint: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python scripts/schedule.py ARGS` (what `make schedule` runs) against a stack's emulator."""
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint}
    command = [sys.executable, "scripts/schedule.py", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
