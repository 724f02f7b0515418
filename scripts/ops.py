"""Operator commands (issue 2 item 2), run against the tables of the configured endpoint.

  python scripts/ops.py create-tables
  python scripts/ops.py create-tenant --id shop-1 --currency RUB --timezone Europe/Moscow [--earn-rate-bp 700 ...]
      [--language ru --sms-sender-id Shop --reminders '[{"days_before": 30, "channels": ["email"]}]' ...]
  python scripts/ops.py set-webhook-secret --id shop-1 --platform shopify [--secret ...]
  python scripts/ops.py suspend-tenant --id shop-1 [--reason "unpaid invoice"]
  python scripts/ops.py resume-tenant --id shop-1
  python scripts/ops.py redrive-dead-letters [--queue loyalty-prod-sweep] [--limit N]

Configuration from the environment: AWS_REGION, AWS_ENDPOINT_URL (an emulator; unset for AWS itself),
TENANTS_TABLE, LEDGER_TABLE. create-tables creates the tables of infra/resources.json that are missing.
create-tenant prints the new tenant's API key and Standard Webhooks secret once, as JSON on stdout
(`{"tenant_id", "api_key", "webhook_secrets": {"standard": "whsec_…"}}`) and logs nothing: the key is
stored only as a hash, so it cannot be shown again. An existing tenant is an error (exit 1) unless
--if-missing is given (exit 0, nothing printed on stdout).
suspend-tenant / resume-tenant set the tenant's status (an unknown tenant is an error, exit 1) and print
`{"tenant_id", "status", "reason", "changed_at"}`; a suspended tenant's webhooks and API calls answer 503
`tenant_suspended` and record nothing until it is resumed (README, "Tenants: the ops command").
redrive-dead-letters moves the messages of <queue>-dlq back to <queue> (default: SWEEP_QUEUE_NAME) and prints
`{"queue", "moved"}` (docs/runbook.md, "Redriving dead letters").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

if str(Path(__file__).resolve().parent.parent) not in sys.path:  # run as a file
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pydantic import ValidationError
from pydantic_core import to_jsonable_python

from scripts.infra_tables import create_tables_from_infra, table_exists
from scripts.localenv import aws_defaults
from scripts.redrive import RedriveError, redrive
from shared import clock
from shared.errors import AppError
from shared.program import ProgramSettings
from shared.settings import get_settings
from shared.tenants import ACTIVE, SUSPENDED, WEBHOOK_PLATFORMS

OPTIONAL_SETTINGS = [name for name in ProgramSettings.model_fields if name not in ("currency", "timezone")]


class OpsError(Exception):
    """A failure explained to the operator (stderr, exit 1)."""


def client(service: str) -> Any:
    import boto3

    settings = get_settings()
    return boto3.client(service, region_name=settings.region, endpoint_url=settings.endpoint_url)


def dynamodb() -> Any:
    return client("dynamodb")


def create_tables() -> list[str]:
    return create_tables_from_infra(dynamodb())


def require_tables() -> None:
    client, settings = dynamodb(), get_settings()
    for name in (settings.tenants_table, settings.ledger_table):
        if not table_exists(client, name):
            where = settings.endpoint_url or f"AWS {settings.region}"
            raise OpsError(f"table {name} does not exist at {where}: run `python scripts/ops.py create-tables`")


def credentials(tenant_id: str, api_key: str, secrets: dict[str, list[str]]) -> dict[str, Any]:
    """The shape printed by create-tenant and saved by the local stack in .local/tenant.json: the API key and
    each platform's newest webhook secret."""
    newest = {platform: values[0] for platform, values in secrets.items() if values}
    return {"tenant_id": tenant_id, "api_key": api_key, "webhook_secrets": newest}


def create_tenant(tenant_id: str, program: ProgramSettings) -> dict[str, Any] | None:
    """Create a tenant; its credentials, or None when it exists already."""
    from shared.container import container

    require_tables()
    if container().tenants.get(tenant_id) is not None:
        return None
    created = container().tenants.create(tenant_id, program, clock.now())
    return credentials(tenant_id, created.api_key, created.tenant.webhook_secrets)


def set_webhook_secret(tenant_id: str, platform: str, secret: str | None) -> str:
    """Store the platform's secret (Shopify's and Stripe's are issued by them) or a new one; the secret in force."""
    from shared.container import container

    require_tables()
    tenant = container().tenants.get(tenant_id)
    if tenant is None:
        raise OpsError(f"tenant {tenant_id} does not exist")
    return container().tenants.set_webhook_secret(tenant, platform, secret)


def set_status(tenant_id: str, status: str, reason: str | None) -> dict[str, Any]:
    """Suspend or resume a tenant; what was written (no secret: the status, the operator's reason, the time)."""
    from shared.container import container

    require_tables()
    at = clock.now()
    container().tenants.set_status(tenant_id, status, reason, at)
    return {"tenant_id": tenant_id, "status": status, "reason": reason, "changed_at": clock.iso(at)}


def program_settings(args: argparse.Namespace) -> ProgramSettings:
    values = {name: getattr(args, name) for name in ["currency", "timezone", *OPTIONAL_SETTINGS]}
    try:
        return ProgramSettings.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(f"--{'.'.join(map(str, e['loc'])).replace('_', '-')}: {e['msg']}" for e in exc.errors())
        raise OpsError(f"invalid program settings: {problems}") from exc


def json_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {text}") from exc


def option_type(name: str) -> tuple[Callable[[str], Any], str]:
    """How an option's text becomes the setting (int; text for text and choices; else JSON, lists and objects alike),
    and its default as shown."""
    field = ProgramSettings.model_fields[name]
    default = field.get_default(call_default_factory=True)
    if field.annotation is int:
        return int, str(default)
    if _is_text(field.annotation):
        return str, "unset" if default is None else str(default)
    return json_value, json.dumps(to_jsonable_python(default))


def _is_text(annotation: Any) -> bool:
    """str, str | None, or a Literal of strings."""
    if annotation is str:
        return True
    arguments = get_args(annotation)
    if get_origin(annotation) is Literal:
        return all(isinstance(argument, str) for argument in arguments)
    return bool(arguments) and all(argument in (str, type(None)) for argument in arguments)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(description="Loyalty platform operations.")
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser("create-tables", help="create the tables of infra/resources.json that are missing")
    tenant = commands.add_parser("create-tenant", help="create a tenant and print its credentials once")
    tenant.add_argument("--id", required=True, dest="tenant_id", help="2-63 of a-z, 0-9 and '-'")
    tenant.add_argument("--currency", required=True, help="ISO-4217 code, e.g. RUB")
    tenant.add_argument("--timezone", default="UTC", help="IANA zone, e.g. Europe/Moscow (default UTC)")
    for name in OPTIONAL_SETTINGS:
        kind, default = option_type(name)
        tenant.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind, help=f"default {default}")
    tenant.add_argument("--if-missing", action="store_true", help="an existing tenant is not an error")
    secret = commands.add_parser(
        "set-webhook-secret", help="store a platform's webhook secret (the previous one stays valid once more)"
    )
    secret.add_argument("--id", required=True, dest="tenant_id")
    secret.add_argument("--platform", required=True, choices=WEBHOOK_PLATFORMS)
    secret.add_argument("--secret", help="the secret the platform shows (Shopify, Stripe); omitted: a new one")
    suspend = commands.add_parser(
        "suspend-tenant", help="answer the tenant's webhooks and API calls 503 (platforms retry later)"
    )
    suspend.add_argument("--id", required=True, dest="tenant_id")
    suspend.add_argument("--reason", help="a note kept on the tenant's record (no personal data)")
    resume = commands.add_parser("resume-tenant", help="serve a suspended tenant again")
    resume.add_argument("--id", required=True, dest="tenant_id")
    redrive = commands.add_parser("redrive-dead-letters", help="move dead-lettered sweep tasks back to their queue")
    redrive.add_argument("--queue", help="the source queue's name (default: SWEEP_QUEUE_NAME, loyalty-sweep)")
    redrive.add_argument("--limit", type=int, help="move at most this many (default: all)")
    return root


def run(args: argparse.Namespace) -> int:
    if args.command == "create-tables":
        created = create_tables()
        print(f"created {', '.join(created)}" if created else "tables exist already", file=sys.stderr)
        return 0
    if args.command in ("suspend-tenant", "resume-tenant"):
        suspending = args.command == "suspend-tenant"
        reason = args.reason if suspending else None
        print(json.dumps(set_status(args.tenant_id, SUSPENDED if suspending else ACTIVE, reason)))
        ttl = get_settings().tenant_cache_seconds
        print(
            f"tenant {args.tenant_id} is {'suspended' if suspending else 'active'}; every API container "
            f"follows within {ttl} s (its tenant cache)",
            file=sys.stderr,
        )
        return 0
    if args.command == "redrive-dead-letters":
        queue = args.queue or get_settings().sweep_queue_name
        print(json.dumps({"queue": queue, "moved": redrive(client("sqs"), queue, args.limit)}))
        return 0
    if args.command == "set-webhook-secret":
        print(set_webhook_secret(args.tenant_id, args.platform, args.secret))
        return 0
    creds = create_tenant(args.tenant_id, program_settings(args))
    if creds is None:
        print(
            f"tenant {args.tenant_id} exists already; its credentials were shown when it was created", file=sys.stderr
        )
        return 0 if args.if_missing else 1
    print(json.dumps(creds, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    args = parser().parse_args(argv)
    if os.environ.get("AWS_ENDPOINT_URL"):  # an emulator: any credentials do
        aws_defaults(os.environ)
    try:
        return run(args)
    except (OpsError, AppError, RedriveError, BotoCoreError, ClientError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
