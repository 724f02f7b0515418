"""Rejections over real HTTP (docs/spec.md §5, §6): bad signatures 401, oversized bodies 413, foreign keys 403."""

from __future__ import annotations

import json
import time

import pytest

from shared.tenants import new_webhook_secret
from tests.conftest import TenantCreds, paid_event, signed_headers
from tests.e2e.client import Answer, Api

pytestmark = pytest.mark.e2e
MEMBER = "rejected"


def send(api: Api, raw: bytes, headers: dict[str, str], tenant: str | None = None) -> Answer:
    return api.webhook_raw(raw, headers, tenant)


def assert_nothing_earned(api: Api) -> None:
    answer = api.get(f"/members/{MEMBER}")
    assert (answer.status, answer.code) == (404, "member_not_found"), answer  # no order ever reached the ledger


def test_bad_signatures_are_401(api: Api) -> None:
    raw = json.dumps(paid_event("rej-1", MEMBER)).encode()
    good = signed_headers(api.creds.secret, raw)
    cases = {
        "wrong secret": (raw, signed_headers(new_webhook_secret(), raw), "invalid_signature"),
        "tampered body": (raw.replace(b"100000", b"900000"), good, "invalid_signature"),
        "no signature": (raw, {"content-type": "application/json"}, "invalid_signature"),
        "stale": (raw, signed_headers(api.creds.secret, raw, ts=int(time.time()) - 301), "invalid_signature"),
    }
    for name, (body, headers, code) in cases.items():
        answer = send(api, body, headers)
        assert (answer.status, answer.code) == (401, code), name
    assert_nothing_earned(api)


def test_body_over_256_kib_is_413(api: Api) -> None:
    event = paid_event("rej-2", MEMBER)
    event["padding"] = "x" * (256 * 1024)
    raw = json.dumps(event).encode()
    answer = send(api, raw, signed_headers(api.creds.secret, raw))
    assert (answer.status, answer.code) == (413, "payload_too_large")
    assert_nothing_earned(api)


def test_foreign_and_unknown_tenants_look_the_same(api: Api, other_tenant: TenantCreds) -> None:
    foreign = Api(api.base, other_tenant)
    assert foreign.get("/program").body["currency"] == "EUR"  # the other key works for its own tenant
    with_foreign_key = foreign.get(f"/members/{MEMBER}", tenant=api.creds.tenant_id)
    unknown_tenant = api.get(f"/members/{MEMBER}", tenant="no-such-shop")
    assert with_foreign_key.status == unknown_tenant.status == 403
    assert with_foreign_key.body == unknown_tenant.body
    assert with_foreign_key.code == "forbidden"
    hold = foreign.post("/holds", {"member_id": MEMBER, "order_id": "rej-3", "points": 1}, tenant=api.creds.tenant_id)
    assert hold.status == 403


def test_webhooks_of_unknown_tenants_look_like_bad_signatures(api: Api, other_tenant: TenantCreds) -> None:
    raw = json.dumps(paid_event("rej-4", MEMBER)).encode()
    to_unknown = send(api, raw, signed_headers(api.creds.secret, raw), tenant="no-such-shop")
    signed_for_other = send(api, raw, signed_headers(other_tenant.secret, raw))
    assert to_unknown.status == signed_for_other.status == 401
    assert to_unknown.body == signed_for_other.body
    assert_nothing_earned(api)
