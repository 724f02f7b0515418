"""The local stack, what `make run` runs (issue 2 item 7).

1. An AWS emulator: the given ``AWS_ENDPOINT_URL``, or a moto server embedded in this process on
   127.0.0.1:``AWS_PORT`` (default 5000). Its data lives as long as this process.
2. The tables of infra/resources.json (existing ones are reused).
3. The demo tenant ``demo`` (RUB, Europe/Moscow), its credentials in .local/tenant.json; reused when that file
   still matches the emulator's data, created again when the emulator forgot it.
4. The API: ``chalice local`` on 127.0.0.1:``PORT`` (default 8000), then a copy-paste signed example request.

Ctrl-C (or SIGTERM/SIGHUP) stops the API, then the embedded emulator, and exits 0.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType
from typing import Any

if str(Path(__file__).resolve().parent.parent) not in sys.path:  # run as a file
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.localenv import (
    ROOT,
    aws_defaults,
    display_python,
    port_is_free,
    start_chalice,
    stop_process,
    wait_until_ok,
)

DEMO_TENANT = "demo"
READY_TIMEOUT_SECONDS = 90


class Stop(Exception):
    """Ctrl-C, SIGTERM or SIGHUP: shut down in order and exit 0."""


SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _stop(signum: int, frame: FrameType | None) -> None:
    for other in SIGNALS:  # a second Ctrl-C must not cut the shutdown short
        signal.signal(other, signal.SIG_IGN)
    raise Stop(signal.Signals(signum).name)


def tenant_file() -> Path:
    return Path(os.environ.get("LOCAL_TENANT_FILE") or ROOT / ".local" / "tenant.json")


def start_emulator() -> Any:
    """The embedded moto server when no endpoint is configured (None otherwise)."""
    if os.environ.get("AWS_ENDPOINT_URL"):
        aws_defaults(os.environ)
        return None
    from scripts.emulator import start_moto

    port = int(os.environ.get("AWS_PORT", "5000"))
    server = start_moto(port)
    aws_defaults(os.environ, f"http://127.0.0.1:{port}")
    return server


def saved_tenant_is_live(path: Path) -> dict[str, Any] | None:
    """The saved credentials when the emulator still has that tenant with that key and secret."""
    from shared.container import container
    from shared.errors import Forbidden

    try:
        saved = dict(json.loads(path.read_text()))
        tenant = container().tenants.authorize(saved["tenant_id"], saved["api_key"])
        secret = saved["webhook_secrets"]["standard"]
    except (OSError, ValueError, TypeError, KeyError, Forbidden):  # missing, unreadable, or another emulator's
        return None
    return saved if secret in tenant.webhook_secrets.get("standard", []) else None


def ensure_demo_tenant(path: Path) -> dict[str, Any]:
    from scripts.ops import create_tenant
    from shared.program import ProgramSettings

    saved = saved_tenant_is_live(path)
    if saved is not None:
        print(f"Reusing tenant {saved['tenant_id']} from {shown(path)}")
        return saved
    creds = create_tenant(DEMO_TENANT, ProgramSettings(currency="RUB", timezone="Europe/Moscow"))
    if creds is None:
        endpoint = os.environ["AWS_ENDPOINT_URL"]
        raise SystemExit(f"tenant {DEMO_TENANT} exists at {endpoint} but {path} does not hold its credentials")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps(creds, indent=2) + "\n")
    print(f"Created tenant {DEMO_TENANT}; credentials in {shown(path)}")
    return creds


def shown(path: Path) -> str:
    """A path as the user would type it from the repository root."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def banner(api: str, creds: dict[str, Any], embedded: bool) -> str:
    from scripts.signed_curl import curl_command, event_body, parse_args, signed_headers, webhook_url

    body = event_body(parse_args(["order.paid", "--member", "alice", "--total", "100000"]))
    url = webhook_url(api, creds["tenant_id"])
    curl = curl_command(url, signed_headers(creds["webhook_secrets"]["standard"], body), body)
    emulator = "embedded moto server (data lasts until Ctrl-C)" if embedded else "external endpoint"
    py = display_python()
    return "\n".join(
        [
            "",
            f"Loyalty API   {api}   (try {api}/v1/health)",
            f"AWS emulator  {os.environ['AWS_ENDPOINT_URL']}   {emulator}",
            f"Demo tenant   {creds['tenant_id']}   credentials: {shown(tenant_file())}",
            "",
            "A signed order.paid (the signature is valid for 5 minutes):",
            "",
            curl,
            "",
            "A freshly signed one at any time (see README.md for the whole walk-through):",
            f"  {py} scripts/signed_curl.py order.paid --member alice --total 100000",
            "",
            "Stop with Ctrl-C.",
            "",
        ]
    )


def serve(port: int, creds: dict[str, Any], embedded: bool) -> int:
    """Run ``chalice local`` until a signal (exit 0) or until it dies on its own (exit 1)."""
    proc: subprocess.Popen[bytes] = start_chalice(port, dict(os.environ))
    try:
        api = f"http://127.0.0.1:{port}"
        wait_until_ok(f"{api}/v1/health", proc, READY_TIMEOUT_SECONDS)
        print(banner(api, creds, embedded), flush=True)
        proc.wait()
        print(f"chalice local exited with status {proc.returncode}", file=sys.stderr)
        return 1
    finally:
        stop_process(proc)


def run() -> int:
    port = int(os.environ.get("PORT", "8000"))
    if not port_is_free(port):
        raise RuntimeError(f"port {port} is busy: set PORT to a free port")
    server = start_emulator()
    try:
        from scripts.ops import create_tables

        created = create_tables()
        print(f"Created tables {', '.join(created)}" if created else "Reusing the existing tables")
        creds = ensure_demo_tenant(tenant_file())
        return serve(port, creds, server is not None)
    finally:
        if server is not None:
            server.stop()


def main() -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from shared.errors import AppError

    for signum in SIGNALS:
        signal.signal(signum, _stop)
    try:
        return run()
    except Stop as stop:
        print(f"\n{stop}: stopped.", file=sys.stderr)
        return 0
    except (RuntimeError, BotoCoreError, ClientError, AppError) as exc:  # the emulator or the API did not start
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
