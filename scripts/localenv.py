"""Process and environment helpers of the local stack (`make run`) and the end-to-end tests."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, MutableMapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "POWERTOOLS_TRACE_DISABLED": "1",  # no X-Ray daemon locally
}


def aws_defaults(env: MutableMapping[str, str], endpoint: str | None = None) -> None:
    """Dummy credentials and a region when absent (an emulator needs some); the endpoint when given."""
    for name, value in DUMMY_AWS.items():
        env.setdefault(name, value)
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    env.setdefault("AWS_REGION", region)
    env.setdefault("AWS_DEFAULT_REGION", region)
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def http_ok(url: str, timeout: float = 2) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def wait_until_ok(url: str, proc: subprocess.Popen[bytes] | None, timeout: float) -> None:
    """Poll ``url`` until it answers 200; fail early when ``proc`` (the server) has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited with status {proc.returncode} before {url} answered")
        if http_ok(url):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def chalice_command(port: int, stage: str = "dev") -> list[str]:
    """`chalice local` (with a larger listen backlog, see scripts/chalice_local.py), one process, no reloader:
    code changes need a restart, and stopping it stops everything."""
    wrapper = str(ROOT / "scripts" / "chalice_local.py")
    return [
        sys.executable,
        wrapper,
        "local",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--stage",
        stage,
        "--no-autoreload",
    ]


def start_chalice(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start `chalice local` from the project directory. It ignores Ctrl-C: its owner stops it, in order."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # an ignored signal stays ignored across exec
    try:
        return subprocess.Popen(chalice_command(port), cwd=ROOT, env=env)
    finally:
        signal.signal(signal.SIGINT, previous)


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10) -> int:
    """Terminate a child we started (SIGTERM, then SIGKILL after ``timeout``); its exit status."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return int(proc.returncode)


def display_python() -> str:
    """How the user should call this interpreter in a copy-paste command (relative to the repo when inside)."""
    exe = Path(sys.executable)
    return str(exe.relative_to(ROOT)) if exe.is_relative_to(ROOT) else str(exe)


def default_api_url(env: Mapping[str, str]) -> str:
    """Where the README's commands send requests: API_URL; else the API of the stack `make run` deployed (its
    .local/stack.json, or LOCAL_STACK_FILE); else `make dev`'s `chalice local` at http://127.0.0.1:$PORT."""
    if env.get("API_URL"):
        return env["API_URL"]
    stack_file = Path(env.get("LOCAL_STACK_FILE") or ROOT / ".local" / "stack.json")
    try:
        return str(json.loads(stack_file.read_text())["api_url"])
    except (OSError, ValueError, KeyError):
        return f"http://127.0.0.1:{env.get('PORT', '8000')}"
