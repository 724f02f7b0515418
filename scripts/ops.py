"""Operator commands (issue 2 item 2), run against the tables of the configured endpoint.

  python scripts/ops.py create-tables
  python scripts/ops.py create-tenant --id shop-1 --currency RUB --timezone Europe/Moscow [--earn-rate-bp 700 ...]
      [--language ru --sms-sender-id Shop --reminders '[{"days_before": 30, "channels": ["email"]}]' ...]
  python scripts/ops.py set-webhook-secret --id shop-1 --platform shopify [--secret ...]
  python scripts/ops.py suspend-tenant --id shop-1 [--reason "unpaid invoice"]
  python scripts/ops.py resume-tenant --id shop-1
  python scripts/ops.py set-sender --id shop-1 (--email-from news@shop-1.example | --clear)
  python scripts/ops.py set-staff-topic --id shop-1 (--topic-arn arn:aws:sns:...:loyalty-prod-staff-shop-1 | --clear)
  python scripts/ops.py rotate-key --id shop-1 [--grace-minutes 60]
  python scripts/ops.py revoke-keys --id shop-1 [--retiring-only]
  python scripts/ops.py redrive-dead-letters [--queue loyalty-prod-sweep] [--limit N]

Configuration from the environment: AWS_REGION, AWS_ENDPOINT_URL (an emulator; unset for AWS itself),
TENANTS_TABLE, LEDGER_TABLE. create-tables creates the tables of infra/resources.json that are missing.
create-tenant prints the new tenant's API key and Standard Webhooks secret once, as JSON on stdout
(`{"tenant_id", "api_key", "webhook_secrets": {"standard": "whsec_…"}}`) and logs nothing: the key is
stored only as a hash, so it cannot be shown again. An existing tenant is an error (exit 1) unless
--if-missing is given (exit 0, nothing printed on stdout).
suspend-tenant / resume-tenant set the tenant's status (an unknown tenant is an error, exit 1) and print
`{"tenant_id", "status", "reason", "changed_at"}`; a suspended tenant's webhooks and API calls answer 503
`tenant_suspended` and record nothing until it is resumed (docs/operations.md, "Tenants: the ops command").
set-sender binds the tenant's e-mail sender: an SES identity verified in this account and region (the address or
its domain), whose domain no other tenant holds. set-staff-topic binds its managers' SNS topic, which must exist and
be named <stack>-staff-<tenant id> (loyalty-prod-staff-shop-1). Merchants cannot set either (PUT /program answers
403 operator_setting); create-tenant's --email-from and --staff-topic-arn are checked the same way.
rotate-key prints `{"tenant_id", "api_key", "previous_valid_until"}` once: the new key; the previous keys stop at once
(a leak) or, with --grace-minutes (at most 7 days), at previous_valid_until. revoke-keys stops every key (the tenant
has none until the next rotate-key), or with --retiring-only the keys still in their grace period, and prints
`{"tenant_id", "revoked"}`. API containers follow within TENANT_CACHE_SECONDS (their tenant cache).
redrive-dead-letters moves the messages of <queue>-dlq back to <queue> (default: SWEEP_QUEUE_NAME) and prints
`{"queue", "moved"}` (docs/runbook.md, "Redriving dead letters").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from datetime import timedelta
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
from shared.tenants import ACTIVE, SUSPENDED, WEBHOOK_PLATFORMS, Tenant, staff_topic_owned

OPTIONAL_SETTINGS = [name for name in ProgramSettings.model_fields if name not in ("currency", "timezone")]


class OpsError(Exception):
    """A failure explained to the operator (stderr, exit 1)."""


def client(service: str) -> Any:
    import boto3

    settings = get_settings()
    return boto3.client(service, region_name=settings.region, endpoint_url=settings.endpoint_url)


def messaging(service: str) -> Any:
    """SES or SNS, where the functions find them (an emulator may keep them apart from the tables)."""
    import boto3

    settings = get_settings()
    endpoint = settings.messaging_endpoint_url or settings.endpoint_url
    return boto3.client(service, region_name=settings.region, endpoint_url=endpoint)


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
    """Create a tenant; its credentials, or None when it exists already. A sender or staff topic in ``program`` is
    checked as set-sender and set-staff-topic check it."""
    from shared.container import container

    require_tables()
    if container().tenants.get(tenant_id) is not None:
        return None
    if program.email_from is not None:
        verify_sender(program.email_from)
    if program.staff_topic_arn is not None:
        verify_staff_topic(tenant_id, program.staff_topic_arn)
    created = container().tenants.create(tenant_id, program, clock.now())
    return credentials(tenant_id, created.api_key, created.tenant.webhook_secrets)


def existing_tenant(tenant_id: str) -> Tenant:
    """The tenant as stored now (never a cached copy: the commands below rewrite what they read)."""
    from shared.container import container

    require_tables()
    container().tenants.forget(tenant_id)
    tenant = container().tenants.get(tenant_id)
    if tenant is None:
        raise OpsError(f"tenant {tenant_id} does not exist")
    return tenant


def verify_sender(address: str) -> None:
    """The address, or its domain, is an identity SES verified in this account and region."""
    domain = address.rpartition("@")[2].lower()
    identities = [address, domain]
    found = messaging("ses").get_identity_verification_attributes(Identities=identities)["VerificationAttributes"]
    if not any(found.get(i, {}).get("VerificationStatus") == "Success" for i in identities):
        raise OpsError(
            f"sender {address}: neither the address nor {domain} is a verified SES identity in "
            f"{get_settings().region}; verify it in SES first (docs/runbook.md, 'Sender and staff topic')"
        )


def verify_staff_topic(tenant_id: str, topic_arn: str) -> None:
    """The topic is named for this tenant (``<stack>-staff-<tenant id>``) and exists."""
    from botocore.exceptions import ClientError

    prefix = get_settings().staff_topic_prefix
    if not staff_topic_owned(topic_arn, tenant_id, prefix):
        raise OpsError(f"the staff topic of tenant {tenant_id} must be an SNS topic named {prefix}{tenant_id}")
    try:
        messaging("sns").get_topic_attributes(TopicArn=topic_arn)
    except ClientError as exc:
        raise OpsError(f"staff topic {topic_arn}: {exc.response['Error'].get('Code', 'not found')}") from exc


def set_sender(tenant_id: str, address: str | None) -> dict[str, Any]:
    from shared.container import container

    tenant = existing_tenant(tenant_id)
    if address is not None:
        verify_sender(address)
    container().tenants.bind_sender(tenant, address)
    return {"tenant_id": tenant_id, "email_from": existing_tenant(tenant_id).email_from}


def set_staff_topic(tenant_id: str, topic_arn: str | None) -> dict[str, Any]:
    from shared.container import container

    tenant = existing_tenant(tenant_id)
    if topic_arn is not None:
        verify_staff_topic(tenant_id, topic_arn)
    container().tenants.bind_staff_topic(tenant, topic_arn)
    return {"tenant_id": tenant_id, "staff_topic_arn": topic_arn}


def rotate_key(tenant_id: str, grace_minutes: int) -> dict[str, Any]:
    """A new API key, printed once; the previous ones stop now or when the grace period ends."""
    from shared.container import container

    at, grace = clock.now(), timedelta(minutes=grace_minutes)
    api_key = container().tenants.rotate_api_key(existing_tenant(tenant_id), grace, at)
    until = clock.iso(at + grace) if grace else None
    return {"tenant_id": tenant_id, "api_key": api_key, "previous_valid_until": until}


def revoke_keys(tenant_id: str, retiring_only: bool) -> dict[str, Any]:
    from shared.container import container

    revoked = container().tenants.revoke_api_keys(existing_tenant(tenant_id), retiring_only, clock.now())
    return {"tenant_id": tenant_id, "revoked": revoked}


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
    binding_parsers(commands)
    key_parsers(commands)
    redrive = commands.add_parser("redrive-dead-letters", help="move dead-lettered sweep tasks back to their queue")
    redrive.add_argument("--queue", help="the source queue's name (default: SWEEP_QUEUE_NAME, loyalty-sweep)")
    redrive.add_argument("--limit", type=int, help="move at most this many (default: all)")
    return root


def binding_parsers(commands: Any) -> None:
    """set-sender and set-staff-topic: what the merchant may not set."""
    sender = commands.add_parser("set-sender", help="bind the tenant's e-mail sender (a verified SES identity)")
    sender.add_argument("--id", required=True, dest="tenant_id")
    choice = sender.add_mutually_exclusive_group(required=True)
    choice.add_argument("--email-from", dest="value", help="the address; it or its domain verified in SES")
    choice.add_argument("--clear", action="store_true", help="send from the platform's EMAIL_FROM again")
    topic = commands.add_parser("set-staff-topic", help="bind the tenant's managers' SNS topic for call tasks")
    topic.add_argument("--id", required=True, dest="tenant_id")
    choice = topic.add_mutually_exclusive_group(required=True)
    choice.add_argument("--topic-arn", dest="value", help="an existing topic named <stack>-staff-<tenant id>")
    choice.add_argument("--clear", action="store_true", help="send no call tasks")


def key_parsers(commands: Any) -> None:
    rotate = commands.add_parser("rotate-key", help="issue a new API key (printed once) and retire the old ones")
    rotate.add_argument("--id", required=True, dest="tenant_id")
    rotate.add_argument(
        "--grace-minutes", type=int, default=0, help="keep the previous keys valid this long (default 0: stop now)"
    )
    revoke = commands.add_parser("revoke-keys", help="stop every API key of the tenant (or those in grace)")
    revoke.add_argument("--id", required=True, dest="tenant_id")
    revoke.add_argument("--retiring-only", action="store_true", help="only the keys still in their grace period")


def run_tenant_command(args: argparse.Namespace) -> dict[str, Any] | None:
    """The commands that print one JSON object; None for any other."""
    if args.command == "set-sender":
        return set_sender(args.tenant_id, None if args.clear else args.value)
    if args.command == "set-staff-topic":
        return set_staff_topic(args.tenant_id, None if args.clear else args.value)
    if args.command == "rotate-key":
        return rotate_key(args.tenant_id, args.grace_minutes)
    if args.command == "revoke-keys":
        return revoke_keys(args.tenant_id, args.retiring_only)
    return None


def run(args: argparse.Namespace) -> int:
    printed = run_tenant_command(args)
    if printed is not None:
        print(json.dumps(printed))
        ttl = get_settings().tenant_cache_seconds
        print(
            f"tenant {args.tenant_id}: every API container follows within {ttl} s (its tenant cache)", file=sys.stderr
        )
        return 0
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
