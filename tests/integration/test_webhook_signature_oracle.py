"""Signature failures tell an unauthenticated caller nothing (issue 13 item 13): whatever the tenant (unknown, known,
suspended) and whatever went wrong (no header, a stale or unreadable timestamp, a wrong HMAC), every webhook answers
the same 401 body; the detailed reason goes to the log only. WooCommerce's unsigned creation ping answers the same
200 for every tenant, so it reveals neither existence nor suspension."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from shared import clock
from shared.container import container
from tests.conftest import TenantCreds, body, make_tenant, paid_event, signed_headers
from tests.integration.conftest import Clock
from tests.integration.platforms.conftest import platform_tenant, post
from tests.logs import captured_logs

UNIFORM = (401, {"error": {"code": "invalid_signature", "message": "signature does not match"}})
PLATFORM_SECRET = "hush-platform-secret"


def answer(response: Any) -> tuple[int, Any]:
    return response.status_code, body(response)


def suspend(tenant_id: str) -> None:
    container().tenants.set_status(tenant_id, "suspended", "unpaid invoice", clock.now())


def standard(client: Any, tenant_id: str, raw: bytes, headers: dict[str, str]) -> Any:
    return client.http.post(f"/v1/tenants/{tenant_id}/webhooks/standard", body=raw, headers=headers)


def test_every_standard_signature_failure_answers_the_same_whatever_the_tenant(client: Any, frozen: Clock) -> None:
    # Given a known tenant, a suspended tenant and a signed order
    known = make_tenant("known")
    make_tenant("paused")
    suspend("paused")
    raw = json.dumps(paid_event("o1")).encode()
    good = signed_headers(known.secret, raw, "msg_1", frozen.ts)
    without = {name: {k: v for k, v in good.items() if k != name} for name in good if name.startswith("webhook-")}
    failures = {
        "unknown tenant": ("nobody", good),
        **{f"no {name}": ("known", headers) for name, headers in without.items()},
        "unreadable timestamp": ("known", {**good, "webhook-timestamp": "yesterday"}),
        "stale timestamp": ("known", signed_headers(known.secret, raw, "msg_1", frozen.ts - 301)),
        "future timestamp": ("known", signed_headers(known.secret, raw, "msg_1", frozen.ts + 301)),
        "wrong signature": ("known", {**good, "webhook-signature": "v1,AAAA"}),
        "suspended, unsigned": ("paused", without["webhook-signature"]),
        "suspended, stale": ("paused", signed_headers(known.secret, raw, "msg_1", frozen.ts - 3600)),
    }
    # When each is delivered
    answers = {what: answer(standard(client, tenant, raw, headers)) for what, (tenant, headers) in failures.items()}
    # Then every answer is the same 401 body, so none tells which tenants exist or are suspended
    assert answers == dict.fromkeys(failures, UNIFORM)


@pytest.mark.parametrize("platform", ["shopify", "stripe", "woocommerce"])
def test_every_platform_signature_failure_answers_the_same_whatever_the_tenant(
    client: Any, frozen: Clock, platform: str
) -> None:
    # Given a known tenant with the platform's secret, and a suspended one
    platform_tenant(platform, PLATFORM_SECRET, "known", currency="USD")
    platform_tenant(platform, PLATFORM_SECRET, "paused", currency="USD")
    suspend("paused")
    raw = json.dumps({"id": 1, "status": "processing"}).encode()
    topic = {"X-Shopify-Topic": "orders/paid", "X-WC-Webhook-Topic": "order.created"}
    bad = {"content-type": "application/json", **topic, **_bad_signature(platform, frozen.ts)}
    unsigned = {"content-type": "application/json", **topic}
    # When an unknown tenant, the known and the suspended tenant get unsigned and badly signed deliveries
    answers = [
        answer(post(client, tenant, platform, raw, headers))
        for tenant in ("nobody", "known", "paused")
        for headers in (unsigned, bad)
    ]
    # Then every answer is the same 401 body
    assert answers == [UNIFORM] * 6


def test_a_stale_stripe_delivery_answers_like_any_other_signature_failure(client: Any, frozen: Clock) -> None:
    # Given a Stripe delivery correctly signed 301 seconds ago
    platform_tenant("stripe", PLATFORM_SECRET, "known", currency="USD")
    raw = b'{"id": "evt_1", "object": "event", "type": "charge.refunded"}'
    stamp = frozen.ts - 301
    digest = hmac.new(PLATFORM_SECRET.encode(), f"{stamp}.".encode() + raw, hashlib.sha256).hexdigest()
    headers = {"content-type": "application/json", "Stripe-Signature": f"t={stamp},v1={digest}"}
    # When delivered, then it is the uniform 401, and the log says why
    with captured_logs() as logs:
        assert answer(post(client, "known", "stripe", raw, headers)) == UNIFORM
    [line] = logs.with_message("webhook signature refused")
    assert line["reason"] == "timestamp_out_of_tolerance"


def test_the_reason_of_a_refused_signature_is_logged_not_answered(client: Any, frozen: Clock) -> None:
    # Given a known tenant and an order delivered without its webhook-signature header
    known = make_tenant("known")
    raw = json.dumps(paid_event("o1")).encode()
    headers = {
        k: v for k, v in signed_headers(known.secret, raw, "msg_1", frozen.ts).items() if k != "webhook-signature"
    }
    # When delivered
    with captured_logs() as logs:
        response = standard(client, "known", raw, headers)
    # Then the answer is the uniform 401 and the log line names the reason
    assert answer(response) == UNIFORM
    [line] = logs.with_message("webhook signature refused")
    assert line["reason"] == "missing_signature"


def test_the_woocommerce_ping_answers_the_same_for_every_tenant(client: Any, frozen: Clock) -> None:
    # Given a known tenant and a suspended tenant
    platform_tenant("woocommerce", PLATFORM_SECRET, "known", currency="USD")
    platform_tenant("woocommerce", PLATFORM_SECRET, "paused", currency="USD")
    suspend("paused")
    ping = {"content-type": "application/x-www-form-urlencoded"}
    # When WooCommerce's unsigned creation ping reaches an unknown, the known and the suspended tenant
    answers = [answer(post(client, t, "woocommerce", b"webhook_id=12", ping)) for t in ("nobody", "known", "paused")]
    # Then each answers the same 200 "ignored", so the ping reveals neither existence nor suspension
    assert answers[0][0] == 200 and answers[0][1]["results"][0]["status"] == "ignored"
    assert answers == [answers[0]] * 3


def test_a_suspended_tenants_signed_delivery_is_still_503(client: Any, frozen: Clock) -> None:
    # Given a suspended tenant (only a sender holding its secret may learn of the suspension)
    creds: TenantCreds = make_tenant("paused")
    suspend("paused")
    raw = json.dumps(paid_event("o1")).encode()
    # When a correctly signed delivery arrives, then it is 503 tenant_suspended as before
    response = standard(client, "paused", raw, signed_headers(creds.secret, raw, "msg_1", frozen.ts))
    assert (response.status_code, body(response)["error"]["code"]) == (503, "tenant_suspended")


def _bad_signature(platform: str, ts: int) -> dict[str, str]:
    if platform == "stripe":
        return {"Stripe-Signature": f"t={ts},v1={'0' * 64}"}
    forged = base64.b64encode(b"\0" * 32).decode()
    return {"X-Shopify-Hmac-Sha256": forged, "X-Shopify-Webhook-Id": "wh-1", "X-WC-Webhook-Signature": forged}
