"""Shared fixtures: emulated AWS with tables built from infra/, a tenant, a Chalice test client."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

os.environ.update(
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    POWERTOOLS_TRACE_DISABLED="1",
    POWERTOOLS_METRICS_NAMESPACE="Loyalty",
    TENANT_CACHE_SECONDS="0",
)
os.environ.pop("AWS_ENDPOINT_URL", None)
# The scripts find `make run`'s stack through .local/stack.json: a developer's running stack must not catch the
# tests' requests (tests that want a stack file name their own).
os.environ["LOCAL_STACK_FILE"] = os.path.join(os.path.dirname(__file__), "no-such-stack.json")


# `make test` runs the tests on two workers (pytest-xdist, --dist loadgroup). Tests that build the package or start
# a stack share one worker per kind: the deployed tier deploys once per worker that runs any of it, and two `chalice
# package` runs in one checkout would race for its dependency cache.
WORKER_GROUPS = {  # the first prefix that matches
    "tests/deployed/": "stack",
    "tests/e2e/test_load.py": "stack",  # starts `make run` when no stack runs: it packages into build/package
    "tests/test_packaging.py": "stack",
    "tests/test_iam.py": "stack",
    "tests/test_handlers.py": "stack",  # runs the packaged functions: tests/test_packaging.py ``packaged``
    "tests/e2e/": "e2e",
}


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups (a root conftest loads first)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for item in items:
        path = os.path.relpath(str(item.fspath), root)
        group = next((name for prefix, name in WORKER_GROUPS.items() if path.startswith(prefix)), None)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))


@dataclass(frozen=True)
class TenantCreds:
    tenant_id: str
    api_key: str
    secret: str

    @property
    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.api_key}", "content-type": "application/json"}


@pytest.fixture
def aws() -> Iterator[None]:
    """moto in-process, tables created from infra/resources.json, a fresh container."""
    import boto3
    from moto import mock_aws

    from scripts.emulator_atomicity import cheap_transaction_backups
    from shared.container import reset
    from tests.aws import create_tables_from_infra

    cheap_transaction_backups()
    with mock_aws():
        create_tables_from_infra(boto3.client("dynamodb", region_name="us-east-1"))
        reset()
        yield
        reset()


def make_tenant(tenant_id: str = "demo", **program: Any) -> TenantCreds:
    from shared import clock
    from shared.container import container
    from shared.program import ProgramSettings

    settings = ProgramSettings(**{"currency": "RUB", **program})
    created = container().tenants.create(tenant_id, settings, clock.now())
    return TenantCreds(tenant_id, created.api_key, created.tenant.webhook_secrets["standard"][0])


@pytest.fixture
def tenant(aws: None) -> TenantCreds:
    return make_tenant()


@pytest.fixture
def client(aws: None) -> Iterator[Any]:
    from chalice.test import Client

    from app import app

    with Client(app) as test_client:
        yield test_client


def signed_headers(secret: str, raw: bytes, msg_id: str | None = None, ts: int | None = None) -> dict[str, str]:
    from shared.webhooks.standard import sign

    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    ts = int(time.time()) if ts is None else ts
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign(secret, msg_id, ts, raw),
    }


def post_webhook(client: Any, creds: TenantCreds, body: Any, msg_id: str | None = None, **kw: Any) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = signed_headers(creds.secret, raw, msg_id, kw.get("ts"))
    return client.http.post(f"/v1/tenants/{creds.tenant_id}/webhooks/standard", body=raw, headers=headers)


def paid_event(
    order_id: str, member_id: str = "c1", total: int = 100_000, paid_at: datetime | None = None, **data: Any
) -> dict[str, Any]:
    from shared import clock

    return {
        "type": "order.paid",
        "timestamp": clock.iso(clock.now()),
        "data": {
            "order_id": order_id,
            "customer": {"id": member_id},
            "currency": "RUB",
            "total_minor": total,
            "paid_at": clock.iso(paid_at or clock.now()),
            **data,
        },
    }


def refund_event(order_id: str, refund_id: str, amount: int) -> dict[str, Any]:
    from shared import clock

    return {
        "type": "order.refunded",
        "timestamp": clock.iso(clock.now()),
        "data": {"order_id": order_id, "refund_id": refund_id, "amount_minor": amount},
    }


def cancel_event(order_id: str) -> dict[str, Any]:
    from shared import clock

    return {"type": "order.cancelled", "timestamp": clock.iso(clock.now()), "data": {"order_id": order_id}}


def body(response: Any) -> Any:
    return json.loads(response.body)
