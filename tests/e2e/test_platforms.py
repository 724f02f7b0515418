"""The platforms' own webhooks over real HTTP against `make run`'s stack (issue 4): the secrets that `make run`
writes to the tenant file and that the ops command stores are the ones the endpoints check."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.client import Answer, Api, request
from tests.e2e.stack import Stack, run_ops

pytestmark = pytest.mark.e2e
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"


def fixture(name: str, **changes: Any) -> bytes:
    return json.dumps({**json.loads((FIXTURES / name).read_bytes()), **changes}).encode()


def base64_hmac(secret: str, raw: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def deliver(api: Api, platform: str, raw: bytes, headers: dict[str, str], tenant: str | None = None) -> Answer:
    return request(
        "POST", api.url(f"/webhooks/{platform}", tenant), raw, {"content-type": "application/json", **headers}
    )


def applied(answer: Answer) -> dict[str, Any]:
    assert answer.status == 200, answer
    [result] = answer.body["results"]
    assert result["status"] == "applied", result
    return dict(result)


def test_each_platform_earns_with_the_secret_make_run_wrote(stack: Stack, api: Api) -> None:
    secrets = json.loads(stack.tenant_file.read_text())["webhook_secrets"]
    assert secrets["stripe"].startswith("whsec_") and secrets["shopify"] and secrets["woocommerce"]
    # Shopify orders/paid in the demo tenant's currency
    now = datetime.now(UTC).replace(microsecond=0)
    raw = fixture("shopify_orders_paid.json", currency="RUB", id=9_000_000_000_000_001, processed_at=now.isoformat())
    headers = {"X-Shopify-Hmac-Sha256": base64_hmac(secrets["shopify"], raw), "X-Shopify-Topic": "orders/paid"}
    shopify = applied(deliver(api, "shopify", raw, {**headers, "X-Shopify-Webhook-Id": "e2e-1"}))
    # Stripe checkout.session.completed, signed now
    event = json.loads((FIXTURES / "stripe_checkout_session_completed.json").read_bytes())
    event["id"], event["created"] = "evt_e2e_1", int(time.time())
    event["data"]["object"]["currency"] = "rub"
    raw = json.dumps(event).encode()
    stamp = int(time.time())
    digest = hmac.new(secrets["stripe"].encode(), f"{stamp}.".encode() + raw, hashlib.sha256).hexdigest()
    stripe = applied(deliver(api, "stripe", raw, {"Stripe-Signature": f"t={stamp},v1={digest}"}))
    # WooCommerce order.created, and its unsigned creation ping
    paid_gmt = now.replace(tzinfo=None).isoformat()  # WooCommerce's *_gmt fields carry no offset
    raw = fixture("woocommerce_order_created.json", currency="RUB", id=990_001, total="1029.35", date_paid_gmt=paid_gmt)
    headers = {
        "X-WC-Webhook-Signature": base64_hmac(secrets["woocommerce"], raw),
        "X-WC-Webhook-Topic": "order.created",
    }
    woo = applied(deliver(api, "woocommerce", raw, headers))
    ping = request(
        "POST", api.url("/webhooks/woocommerce"), b"webhook_id=7", {"content-type": "application/x-www-form-urlencoded"}
    )
    assert ping.status == 200 and ping.body["results"][0]["status"] == "ignored"
    # Then each member holds the points the platform's order earned (the points are young: paid now)
    for result in (shopify, stripe, woo):
        assert result["points_earned"] > 0
        assert api.member(result["member_id"])["balance"] >= result["points_earned"]


def test_a_secret_stored_by_the_ops_command_is_checked_and_the_previous_one_still_works(stack: Stack, api: Api) -> None:
    # Given a new tenant whose Shopify secret is the one Shopify's admin shows, stored by the ops command
    created = run_ops(stack, "create-tenant", "--id", "e2e-shopify", "--currency", "USD")
    assert created.returncode == 0, created.stderr
    for secret in ("shopify-issued-1", "shopify-issued-2"):  # a rotation: the first stays valid once more
        stored = run_ops(
            stack, "set-webhook-secret", "--id", "e2e-shopify", "--platform", "shopify", "--secret", secret
        )
        assert (stored.returncode, stored.stdout.strip()) == (0, secret), stored.stderr
    raw = (FIXTURES / "shopify_orders_paid.json").read_bytes()
    # When Shopify delivers orders/paid signed with each of them, and with a secret never stored
    for n, secret in enumerate(("shopify-issued-2", "shopify-issued-1")):
        headers = {"X-Shopify-Hmac-Sha256": base64_hmac(secret, raw), "X-Shopify-Topic": "orders/paid"}
        answer = deliver(api, "shopify", raw, {**headers, "X-Shopify-Webhook-Id": f"rot-{n}"}, "e2e-shopify")
        assert answer.status == 200, answer
    forged = {"X-Shopify-Hmac-Sha256": base64_hmac("never-stored", raw), "X-Shopify-Topic": "orders/paid"}
    answer = deliver(api, "shopify", raw, {**forged, "X-Shopify-Webhook-Id": "rot-x"}, "e2e-shopify")
    # Then both stored secrets are accepted (the order earns once) and the other is 401
    assert (answer.status, answer.code) == (401, "invalid_signature")
