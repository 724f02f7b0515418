"""The local stack, what `make run` runs (issue 2 item 7).

1. An AWS emulator: the given ``AWS_ENDPOINT_URL``, or a moto server embedded in this process on
   127.0.0.1:``AWS_PORT`` (default 5000). Its data lives as long as this process.
2. The tables of infra/resources.json (existing ones are reused), the queues and SES templates of the scheduled
   work, the verified SES sender (``EMAIL_FROM``) and the demo managers' SNS topic ``loyalty-staff-demo`` (``loyalty-staff-<tenant>`` for a
   reused tenant of another id).
3. The demo tenant ``demo`` (RUB, Europe/Moscow, reminders in Russian by e-mail from the verified sender, SMS
   from "Loyalty", call tasks to that topic), its credentials in .local/tenant.json; reused when that file
   still matches the emulator's data (its program gets those notification settings when it lacks them),
   created again when the emulator forgot it.
4. The API: ``chalice local`` on 127.0.0.1:``PORT`` (default 8000), then a copy-paste signed example request,
   how to run a scheduled job (`make schedule`) and how to read the sent mail and SMS back from the emulator.

Ctrl-C (or SIGTERM/SIGHUP) stops the API, then the embedded emulator, and exits 0.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

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
from shared.scheduled_jobs import job_names

DEMO_TENANT = "demo"
DEMO_TIMEZONE = "Europe/Moscow"
DEMO_LIFETIME_DAYS = 365  # the default program's
DEFAULT_ENDPOINT = "http://127.0.0.1:5000"  # what `make schedule` uses when AWS_ENDPOINT_URL is unset
DEMO_STAFF_TOPIC = "loyalty-staff-{tenant}"  # a tenant's managers ("call this customer" tasks), named for it
DEMO_SMS_SENDER_ID = "Loyalty"
DEMO_LANGUAGE = "ru"
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


def aws_client(service: str) -> Any:
    """A boto3 client of the configured endpoint (the emulator)."""
    import boto3

    from shared.settings import get_settings

    settings = get_settings()
    return boto3.client(service, region_name=settings.region, endpoint_url=settings.endpoint_url)


def create_messaging_resources() -> dict[str, str]:
    """Queues, SES templates, the verified sender and the demo managers' topic (all idempotent): the demo
    tenant's notification settings."""
    from scripts.infra_messaging import create_messaging
    from shared.settings import get_settings

    made = create_messaging(aws_client, get_settings().email_from)
    print(f"Queues {', '.join(made['queues'])}; e-mail templates {', '.join(made['email_templates'])}")
    print(f"Verified SES sender {made['sender']}")
    return {"language": DEMO_LANGUAGE, "email_from": str(made["sender"]), "sms_sender_id": DEMO_SMS_SENDER_ID}


def staff_topic(tenant_id: str) -> str:
    """The tenant's managers' topic, named for it (the only name ops accepts for it), created if missing."""
    topic = str(aws_client("sns").create_topic(Name=DEMO_STAFF_TOPIC.format(tenant=tenant_id))["TopicArn"])
    print(f"Staff topic {topic}")
    return topic


def ensure_notification_settings(tenant_id: str, notify: dict[str, str]) -> None:
    """A reused tenant whose program lacks the demo notification settings gets them as a new program version."""
    from shared import clock
    from shared.container import container
    from shared.program import OPERATOR_SETTINGS, ProgramSettings

    tenants = container().tenants
    tenants.forget(tenant_id)
    tenant = tenants.get(tenant_id)
    assert tenant is not None  # it was just authorized
    bound = {name: value for name, value in notify.items() if name in OPERATOR_SETTINGS}
    if bound.get("email_from") != tenant.email_from:
        tenants.bind_sender(tenant, bound.get("email_from"))  # the operator's, as ops set-sender binds it
        print(f"Bound the sender {bound.get('email_from')} to tenant {tenant_id}")
    if bound.get("staff_topic_arn") != tenant.staff_topic_arn:
        tenants.bind_staff_topic(tenant, bound.get("staff_topic_arn"))
        print(f"Bound the staff topic {bound.get('staff_topic_arn')} to tenant {tenant_id}")
    tenant = tenants.get(tenant_id) or tenant
    current = tenant.current.settings
    changed = {name: value for name, value in notify.items() if getattr(current, name) != value}
    if not changed:
        return
    settings = ProgramSettings.model_validate({**current.model_dump(), **changed})
    version = tenants.update_program(tenant, settings, clock.now())
    print(f"Set {', '.join(sorted(changed))} of tenant {tenant_id} (program version {version.version})")


def ensure_demo_tenant(path: Path, notify: dict[str, str], topic_for: Callable[[str], str]) -> dict[str, Any]:
    """The saved tenant, or a new demo tenant, with the demo's notification settings and a staff topic named for
    it (``topic_for(tenant id)``)."""
    from scripts.ops import create_tenant
    from shared.program import ProgramSettings

    saved = saved_tenant_is_live(path)
    if saved is not None:
        print(f"Reusing tenant {saved['tenant_id']} from {shown(path)}")
        ensure_notification_settings(saved["tenant_id"], {**notify, "staff_topic_arn": topic_for(saved["tenant_id"])})
        return ensure_platform_secrets(path, saved)
    notify = {**notify, "staff_topic_arn": topic_for(DEMO_TENANT)}
    program = ProgramSettings.model_validate({"currency": "RUB", "timezone": DEMO_TIMEZONE, **notify})
    creds = create_tenant(DEMO_TENANT, program)
    if creds is None:
        endpoint = os.environ["AWS_ENDPOINT_URL"]
        raise SystemExit(f"tenant {DEMO_TENANT} exists at {endpoint} but {path} does not hold its credentials")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps(creds, indent=2) + "\n")
    print(f"Created tenant {DEMO_TENANT}; credentials in {shown(path)}")
    return creds


def ensure_platform_secrets(path: Path, saved: dict[str, Any]) -> dict[str, Any]:
    """A tenant saved before a platform existed gets that platform's secret, and the file gets them all."""
    from shared.container import container
    from shared.tenants import WEBHOOK_PLATFORMS

    tenants = container().tenants
    tenants.forget(saved["tenant_id"])
    tenant = tenants.get(saved["tenant_id"])
    assert tenant is not None  # it was just authorized
    secrets = {p: tenant.webhook_secrets.get(p, []) for p in WEBHOOK_PLATFORMS}
    for platform in (p for p, values in secrets.items() if not values):
        secrets[platform] = [tenants.set_webhook_secret(tenant, platform)]
        tenant = tenants.get(saved["tenant_id"]) or tenant
        print(f"Added a {platform} webhook secret to tenant {tenant.tenant_id}")
    newest = {platform: values[0] for platform, values in secrets.items()}
    if saved.get("webhook_secrets") != newest:
        saved = {**saved, "webhook_secrets": newest}
        path.write_text(json.dumps(saved, indent=2) + "\n")
    return saved


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
            *job_hints(clock_now(), py),
            "",
            "Stop with Ctrl-C.",
            "",
        ]
    )


def clock_now() -> datetime:
    from shared import clock

    return clock.now()


def job_times(now: datetime) -> tuple[datetime, datetime]:
    """For points the demo tenant grants ``now`` (365-day lifetime, Moscow): noon Moscow on the day of the
    60-day reminder (e-mail and SMS, inside the SMS hours) and noon on the day after they expire."""
    zone = ZoneInfo(DEMO_TIMEZONE)
    expiry_day = (now + timedelta(days=DEMO_LIFETIME_DAYS)).astimezone(zone).date()
    noon = time(12, 0)
    return (
        datetime.combine(expiry_day - timedelta(days=60), noon, zone),
        datetime.combine(expiry_day + timedelta(days=1), noon, zone),
    )


def job_hints(now: datetime, py: str) -> list[str]:
    """How to run a scheduled job and read back what it sent, for the banner."""
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    env = "" if endpoint == DEFAULT_ENDPOINT else f"AWS_ENDPOINT_URL={endpoint} "
    remind, expire = (at.isoformat() for at in job_times(now))
    show = (
        'import json,sys; d=json.load(sys.stdin); print(json.dumps({"email": d["ses"]["TemplateMessage"], '
        '"sms": d["sns"]["SMS"]}, ensure_ascii=False, indent=2))'
    )
    return [
        *textwrap.wrap(
            f"Scheduled jobs (chalice local runs none): JOB is {job_names()}, AT the event's time with a UTC offset.",
            100,
        ),
        "For points earned now: the 60-day reminder, then the expiry:",
        f"  {env}make schedule JOB=remind AT={remind}",
        f"  {env}make schedule JOB=expire AT={expire}",
        "The e-mail and SMS sent so far, as the moto emulator keeps them:",
        f"  curl -s {endpoint}/moto-api/data.json | {py} -c {shlex.quote(show)}",
    ]


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
        notify = create_messaging_resources()
        creds = ensure_demo_tenant(tenant_file(), notify, staff_topic)
        return serve(port, creds, server is not None)
    finally:
        if server is not None:
            server.stop()


def until_stopped(run: Callable[[], int], *errors: type[Exception]) -> int:
    """Run a local stack until a signal stops it (exit 0); when it cannot start (the emulator, AWS calls, the API, or
    one of ``errors``), the error in one line and exit 1."""
    from botocore.exceptions import BotoCoreError, ClientError

    from shared.errors import AppError

    for signum in SIGNALS:
        signal.signal(signum, _stop)
    try:
        return run()
    except Stop as stop:
        print(f"\n{stop}: stopped.", file=sys.stderr)
        return 0
    except (RuntimeError, BotoCoreError, ClientError, AppError, *errors) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def main() -> int:
    return until_stopped(run)


if __name__ == "__main__":
    sys.exit(main())
