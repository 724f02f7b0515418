"""Bounds on what a webhook may claim (issue 13 items 14 and 15): ``paid_at`` within [now − 730 days, now + 5 min]
and platform amounts within the standard webhook's bound (10^12 minor units), else 422 with a stable code and
nothing written, on the standard webhook and on every platform adapter."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from shared import clock
from tests.conftest import TenantCreds, body, paid_event, post_webhook
from tests.integration.conftest import Clock
from tests.integration.platforms.conftest import fixture, platform_tenant, post
from tests.integration.support import assert_error, ledger_items

SECRET = "hush-bounds-secret"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def at_noon(frozen: Clock) -> Clock:
    frozen.now = NOW
    return frozen


def standard_paid(client: Any, creds: TenantCreds, paid_at: str, order_id: str = "o1") -> Any:
    event = paid_event(order_id)
    event["data"]["paid_at"] = paid_at
    return post_webhook(client, creds, event, ts=int(clock.now().timestamp()))


# -- the standard webhook -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "paid_at",
    [
        "9999-12-31T23:59:59Z",  # was a 500 (overflow), retried by the sender for ever
        "2090-01-01T00:00:00Z",  # earned lots available in 2090
        "2026-06-01T12:05:01Z",  # 5 minutes and 1 second ahead
        "2024-06-01T11:59:59Z",  # 730 days and 1 second ago
        "0001-01-01T00:00:00Z",
    ],
)
def test_a_paid_at_outside_the_window_is_422(client: Any, tenant: TenantCreds, at_noon: Clock, paid_at: str) -> None:
    # Given a tenant at 2026-06-01 12:00 UTC
    before = ledger_items()
    # When an order.paid claims a paid_at outside [now − 730 days, now + 5 minutes]
    response = standard_paid(client, tenant, paid_at)
    # Then it is a 422 paid_at_out_of_range and nothing is written
    assert_error(response, 422, "paid_at_out_of_range")
    assert ledger_items() == before


@pytest.mark.parametrize("paid_at", ["2026-06-01T12:05:00Z", "2024-06-01T12:00:00Z", "2026-06-01T15:05:00+03:00"])
def test_a_paid_at_at_the_edges_of_the_window_earns(
    client: Any, tenant: TenantCreds, at_noon: Clock, paid_at: str
) -> None:
    # When an order.paid claims a paid_at exactly 5 minutes ahead or exactly 730 days ago
    response = standard_paid(client, tenant, paid_at)
    # Then it is applied
    assert (response.status_code, body(response)["status"]) == (200, "applied"), response.body


def test_a_paid_at_whose_offset_overflows_is_422_not_500(client: Any, tenant: TenantCreds, at_noon: Clock) -> None:
    # When paid_at is the last second of year 9999 west of UTC (its UTC instant is past datetime's range)
    response = standard_paid(client, tenant, "9999-12-31T23:59:59-12:00")
    # Then it is refused as invalid, never a 500
    assert response.status_code == 422, response.body


# -- the platforms: paid_at -------------------------------------------------------------------------


def shopify_headers(raw: bytes, topic: str, webhook_id: str = "wh-1") -> dict[str, str]:
    digest = base64.b64encode(hmac.new(SECRET.encode(), raw, hashlib.sha256).digest()).decode()
    return {
        "content-type": "application/json",
        "X-Shopify-Hmac-Sha256": digest,
        "X-Shopify-Topic": topic,
        "X-Shopify-Webhook-Id": webhook_id,
    }


def woo_headers(raw: bytes) -> dict[str, str]:
    digest = base64.b64encode(hmac.new(SECRET.encode(), raw, hashlib.sha256).digest()).decode()
    return {"content-type": "application/json", "X-WC-Webhook-Signature": digest, "X-WC-Webhook-Topic": "order.updated"}


def stripe_headers(raw: bytes, ts: int) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), f"{ts}.".encode() + raw, hashlib.sha256).hexdigest()
    return {"content-type": "application/json", "Stripe-Signature": f"t={ts},v1={digest}"}


def shopify_order(**changes: Any) -> bytes:
    order = {**json.loads(fixture("shopify_orders_paid.json")), "processed_at": "2026-06-01T11:00:00Z", **changes}
    return json.dumps(order).encode()


def woo_order(**changes: Any) -> bytes:
    order = {**json.loads(fixture("woocommerce_order_created.json")), "date_paid_gmt": "2026-06-01T11:00:00"}
    return json.dumps({**order, **changes}).encode()


def stripe_event(created: int, **session_changes: Any) -> bytes:
    event = json.loads(fixture("stripe_checkout_session_completed.json"))
    event["created"] = created
    event["data"]["object"].update(session_changes)
    return json.dumps(event).encode()


def deliver(client: Any, platform: str, raw: bytes) -> Any:
    if platform == "shopify":
        return post(client, "shop", platform, raw, shopify_headers(raw, "orders/paid"))
    if platform == "stripe":
        return post(client, "shop", platform, raw, stripe_headers(raw, int(NOW.timestamp())))
    return post(client, "shop", platform, raw, woo_headers(raw))


FUTURE = datetime(2090, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("platform", "raw"),
    [
        pytest.param("shopify", shopify_order(processed_at="9999-12-31T23:59:59Z"), id="shopify-9999"),
        pytest.param("shopify", shopify_order(processed_at="2090-01-01T00:00:00Z"), id="shopify-2090"),
        pytest.param("stripe", stripe_event(10**11 - 1), id="stripe-year-5138"),
        pytest.param("stripe", stripe_event(int(FUTURE.timestamp())), id="stripe-2090"),
        pytest.param("woocommerce", woo_order(date_paid_gmt="9999-12-31T23:59:59"), id="woocommerce-9999"),
        pytest.param("woocommerce", woo_order(date_paid_gmt="2016-01-01T00:00:00"), id="woocommerce-2016"),
    ],
)
def test_a_platform_paid_at_outside_the_window_is_422(client: Any, at_noon: Clock, platform: str, raw: bytes) -> None:
    # Given a shop of the platform at 2026-06-01 12:00 UTC, when a paid order claims a payment time outside the
    # window, then it is a 422 paid_at_out_of_range and nothing is written
    assert_refused_by_a_new_shop(client, platform, raw, "paid_at_out_of_range")


def assert_refused_by_a_new_shop(client: Any, platform: str, raw: bytes, code: str) -> None:
    platform_tenant(platform, SECRET, currency="USD")
    before = ledger_items()
    assert_error(deliver(client, platform, raw), 422, code)
    assert ledger_items() == before


@pytest.mark.parametrize(
    ("platform", "raw"),
    [
        pytest.param("shopify", shopify_order(), id="shopify"),
        pytest.param("stripe", stripe_event(int(NOW.timestamp()) - 60), id="stripe"),
        pytest.param("woocommerce", woo_order(), id="woocommerce"),
    ],
)
def test_a_platform_paid_at_inside_the_window_earns(client: Any, at_noon: Clock, platform: str, raw: bytes) -> None:
    # Given a shop of the platform, when an order paid an hour or a minute ago arrives, then it is applied
    platform_tenant(platform, SECRET, currency="USD")
    response = deliver(client, platform, raw)
    assert response.status_code == 200, response.body
    assert body(response)["results"][0]["status"] == "applied"


# -- the platforms: amounts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "raw"),
    [
        pytest.param("shopify", shopify_order(current_total_price="1e25"), id="shopify-1e25"),
        pytest.param("shopify", shopify_order(current_total_price="10000000000.01"), id="shopify-just-over"),
        pytest.param("shopify", shopify_order(current_total_tax="1e4000"), id="shopify-huge-exponent"),
        pytest.param(
            "shopify",
            shopify_order(line_items=[{"id": 1, "price": "9999999999.00", "quantity": 1000}]),
            id="shopify-line-times-quantity",
        ),
        pytest.param("stripe", stripe_event(int(NOW.timestamp()), amount_total=10**13), id="stripe-amount-total"),
        pytest.param("woocommerce", woo_order(total="1e25"), id="woocommerce-1e25"),
        pytest.param("woocommerce", woo_order(shipping_total="10000000000.01"), id="woocommerce-shipping"),
    ],
)
def test_a_platform_amount_above_the_bound_is_422(client: Any, at_noon: Clock, platform: str, raw: bytes) -> None:
    # Given a shop of the platform, when a paid order carries an amount above 10^12 minor units (the standard
    # webhook's bound), then it is a 422 amount_out_of_range and nothing is written
    assert_refused_by_a_new_shop(client, platform, raw, "amount_out_of_range")


def test_a_platform_total_at_the_bound_earns(client: Any, at_noon: Clock) -> None:
    # Given a Shopify shop, when an order of exactly 10^12 minor units (10,000,000,000.00 USD) arrives
    platform_tenant("shopify", SECRET, currency="USD")
    raw = shopify_order(current_total_price="10000000000.00", current_total_tax="0.00", line_items=[])
    response = deliver(client, "shopify", raw)
    # Then it earns 5 % of it (the fixture has no shipping), in points of 1.00 USD
    assert response.status_code == 200, response.body
    assert body(response)["results"][0]["points_earned"] == 10**12 * 500 // (10_000 * 100)


@pytest.mark.parametrize(
    ("platform", "raw"),
    [
        pytest.param(
            "shopify",
            json.dumps(
                {
                    "id": 1,
                    "order_id": 450789469,
                    "transactions": [{"kind": "refund", "status": "success", "amount": "1e25", "currency": "USD"}],
                }
            ).encode(),
            id="shopify-refund",
        ),
        pytest.param(
            "woocommerce", woo_order(refunds=[{"id": 9, "total": "-10000000000.01"}]), id="woocommerce-refund"
        ),
    ],
)
def test_a_platform_refund_above_the_bound_is_422(client: Any, at_noon: Clock, platform: str, raw: bytes) -> None:
    # Given a shop of the platform
    platform_tenant(platform, SECRET, currency="USD")
    before = ledger_items()
    # When a refund above 10^12 minor units arrives
    headers = shopify_headers(raw, "refunds/create") if platform == "shopify" else woo_headers(raw)
    response = post(client, "shop", platform, raw, headers)
    # Then it is a 422 amount_out_of_range and nothing is written
    assert_error(response, 422, "amount_out_of_range")
    assert ledger_items() == before
