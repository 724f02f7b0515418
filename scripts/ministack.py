"""ministack, the AWS emulator that runs the deployed package (`make run`, tests/deployed, `make bench`).

It serves every service on one port (``GATEWAY_PORT``): CloudFormation with the SAM transform (``aws-sam-translator``
installed beside it), Lambda (function code runs in worker processes of this same Python), API Gateway, EventBridge
schedules on the wall clock, SQS event source mappings, DynamoDB, SES and SNS (sent messages kept and readable).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scripts.localenv import free_port, port_is_free

__all__ = ["ALL_SERVICES", "Ministack", "free_port", "running", "start"]

START_TIMEOUT_SECONDS = 30
# Services the platform uses, and those CloudFormation needs to deploy it (S3 holds the artifact, IAM the roles).
ALL_SERVICES = "cloudformation,s3,iam,sts,lambda,apigateway,events,sqs,dynamodb,ses,sns,logs,cloudwatch"


@dataclass
class Ministack:
    """One running ministack process."""

    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM (it stops its Lambda workers), SIGKILL after ``timeout``."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        pid_file = Path(tempfile.gettempdir()) / f"ministack-{self.port}.pid"
        if pid_file.exists() and pid_file.read_text().strip() == str(self.proc.pid):
            pid_file.unlink()


def command() -> list[str]:
    """The ministack of this interpreter's environment (its Lambda workers run with this Python)."""
    sibling = Path(sys.executable).parent / "ministack"
    if sibling.exists():
        return [str(sibling)]
    found = shutil.which("ministack")
    return [found] if found else [sys.executable, "-m", "ministack"]


def environment(port: int, services: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "GATEWAY_PORT": str(port),
        "BIND_HOST": "127.0.0.1",
        "SERVICES": services,
        "IOT_MTLS_ENABLED": "0",
        "SFTP_ENABLED": "0",
        "LOG_LEVEL": os.environ.get("MINISTACK_LOG_LEVEL", "WARNING"),
        **(extra or {}),
    }
    env.pop("AWS_ENDPOINT_URL", None)  # the emulator is the endpoint; its Lambdas get their own
    return env


def start(
    log: Path, port: int | None = None, services: str = ALL_SERVICES, extra_env: Mapping[str, str] | None = None
) -> Ministack:
    """Start ministack on ``port`` (a free one when None) and wait until it is healthy."""
    port = port or free_port()
    if not port_is_free(port):
        raise RuntimeError(f"port {port} is busy: set AWS_PORT to a free port")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command(),
            env=environment(port, services, extra_env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches our process only; we stop ministack in order
        )
    running = Ministack(proc, port, log)
    try:
        wait_healthy(running)
    except RuntimeError:
        running.stop()
        raise
    return running


def wait_healthy(stack: Ministack, timeout: float = START_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.proc.poll() is not None:
            raise RuntimeError(f"ministack exited with {stack.proc.returncode}; see {stack.log}")
        try:
            with urllib.request.urlopen(stack.url + "/_ministack/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"ministack did not answer on {stack.url} within {timeout:.0f}s; see {stack.log}")


@contextmanager
def running(log: Path, services: str = ALL_SERVICES, extra_env: Mapping[str, str] | None = None) -> Iterator[str]:
    """ministack on a free loopback port for the duration of the block; yields its URL."""
    stack = start(log, services=services, extra_env=extra_env)
    try:
        yield stack.url
    finally:
        stack.stop()
