"""Shopify webhooks (issue 4) over the published fixtures, byte for byte, with their signature vectors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import body, paid_event, post_webhook
from tests.integration.conftest import Clock
from tests.integration.platforms.conftest import VECTORS, fixture, platform_tenant, post, vector
from tests.integration.support import assert_error, ledger_items, member

SECRET = "hush-shopify-client-secret"  # the secret of the derived vectors (test_vectors.json)


def signed(raw: bytes, topic: str, webhook_id: str = "wh-1", secret: str = SECRET, **extra: str) -> dict[str, str]:
    digest = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
    return {
        "content-type": "application/json",
        "X-Shopify-Hmac-Sha256": digest,
        "X-Shopify-Topic": topic,
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Shop-Domain": "shop.myshopify.com",
        **extra,
    }


def fixture_headers(file: str, topic: str, webhook_id: str = "wh-1") -> dict[str, str]:
    """Headers carrying the vector's published signature, not one computed by the test."""
    headers = signed(fixture(file), topic, webhook_id)
    headers["X-Shopify-Hmac-Sha256"] = vector("shopify", file)["expected"]
    return headers


@pytest.fixture
def shop(aws: None) -> Any:
    # The fixtures were paid in 2025: a ten-year lifetime keeps their points unexpired today
    return platform_tenant("shopify", SECRET, currency="USD", lifetime_days=3650)


def test_the_published_and_derived_vectors_are_reproduced() -> None:
    # Given the published Shopify-style vector and the vectors derived over the saved files
    published = next(v for v in VECTORS["published"] if v["scheme"].startswith("shopify"))
    digest = hmac.new(published["secret"].encode(), published["body"].encode(), hashlib.sha256).digest()
    assert base64.b64encode(digest).decode() == published["expected_base64"]
    for v in (v for v in VECTORS["derived"] if v["scheme"] == "shopify"):
        raw = fixture(v["file"])
        assert hashlib.sha256(raw).hexdigest() == v["sha256_of_body"]
        assert signed(raw, "orders/paid", secret=v["secret"])["X-Shopify-Hmac-Sha256"] == v["expected"]


def test_orders_paid_earns_on_the_current_total_and_a_retry_changes_nothing(client: Any, shop: Any) -> None:
    # When Shopify delivers the orders/paid fixture with its published signature
    response = post(
        client,
        "shop",
        "shopify",
        fixture("shopify_orders_paid.json"),
        fixture_headers("shopify_orders_paid.json", "orders/paid"),
    )
    # Then 181.09 USD earns floor(18109 * 5 % / 100) = 9 points for customer 1073339475, with the order's e-mail
    assert response.status_code == 200, response.body
    [result] = body(response)["results"]
    assert (result["status"], result["order_id"], result["member_id"], result["points_earned"]) == (
        "applied",
        "1073459981",
        "1073339475",
        9,
    )
    view = member(client, shop, "1073339475")
    assert (view["balance"], view["email"]) == (9, "jane@example.com")
    # And Shopify's retry of the same delivery answers 200 and writes nothing
    before = ledger_items()
    again = post(
        client,
        "shop",
        "shopify",
        fixture("shopify_orders_paid.json"),
        fixture_headers("shopify_orders_paid.json", "orders/paid"),
    )
    assert again.status_code == 200 and body(again)["results"][0]["status"] == "duplicate"
    assert ledger_items() == before


def test_a_tampered_body_or_another_secret_is_401_and_writes_nothing(client: Any, shop: Any) -> None:
    raw = fixture("shopify_orders_paid.json")
    headers = fixture_headers("shopify_orders_paid.json", "orders/paid")
    before = ledger_items()
    # A body changed by one byte, a signature made with another secret, and no signature at all
    assert_error(post(client, "shop", "shopify", raw.replace(b"181.09", b"981.09"), headers), 401, "invalid_signature")
    forged = signed(raw, "orders/paid", secret="another-secret")
    assert_error(post(client, "shop", "shopify", raw, forged), 401, "invalid_signature")
    unsigned = {k: v for k, v in headers.items() if k != "X-Shopify-Hmac-Sha256"}
    assert_error(post(client, "shop", "shopify", raw, unsigned), 401, "invalid_signature")  # one answer for all
    assert ledger_items() == before


def test_events_deliveries_with_unprefixed_headers_are_accepted_and_deduplicated_by_event_id(
    client: Any, shop: Any, frozen: Clock
) -> None:
    # Given the day after the sample order's payment (2021-12-31): a payment older than 730 days is refused
    frozen.now = datetime(2022, 1, 1, 12, 0, tzinfo=UTC)
    # And an Events delivery: unprefixed headers, an event id
    raw = fixture("shopify_orders_webhook_sample_docs.json")
    headers = {
        "content-type": "application/json",
        "shopify-hmac-sha256": vector("shopify", "shopify_orders_webhook_sample_docs.json")["expected"],
        "shopify-topic": "orders/paid",
        "shopify-event-id": "evt-1",
        "shopify-webhook-id": "wh-9",
    }
    # When it arrives, then the 64-bit ids are kept exactly as strings
    response = post(client, "shop", "shopify", raw, headers)
    assert response.status_code == 200, response.body
    [result] = body(response)["results"]
    assert (result["order_id"], result["member_id"]) == ("820982911946154508", "115310627314723954")
    assert result["points_earned"] == 20  # 414.95 USD - 10.00 shipping, 5 %: floor(20.2475)


def test_refunds_create_reverses_the_cash_share_and_gift_cards_are_not_cash(client: Any, shop: Any) -> None:
    # Given order 450789469 paid 598.94 USD here (29 points earned)
    paid = post_webhook(client, shop, paid_event("450789469", "c9", 59_894, currency="USD"))
    assert body(paid)["points_earned"] == 29
    # When refunds/create brings 41.94 of cash back
    raw = fixture("shopify_refunds_create.json")
    response = post(client, "shop", "shopify", raw, fixture_headers("shopify_refunds_create.json", "refunds/create"))
    # Then floor(29 * 4194 / 59894) = 2 points are reversed
    assert response.status_code == 200, response.body
    [result] = body(response)["results"]
    assert (result["status"], result["points_reversed"]) == ("applied", 2)
    # When the multi-line refund gives 209.00 more: floor(29 * 25094 / 59894) = 12 in all, 10 more
    raw = fixture("shopify_refunds_create_multi_line.json")
    response = post(client, "shop", "shopify", raw, signed(raw, "refunds/create", "wh-2"))
    assert body(response)["results"][0]["points_reversed"] == 10
    # When the order is cancelled with a refund split between a card (10.00) and a gift card (100.00)
    raw = fixture("shopify_orders_cancelled.json")
    response = post(
        client, "shop", "shopify", raw, fixture_headers("shopify_orders_cancelled.json", "orders/cancelled")
    )
    # Then the cancellation takes back the rest of the earned points
    assert body(response)["results"][0]["points_reversed"] == 17
    assert member(client, shop, "c9")["balance"] == 0


def test_a_refund_that_is_only_gift_card_is_ignored(client: Any, shop: Any) -> None:
    post_webhook(client, shop, paid_event("450789469", "c9", 59_894, currency="USD"))
    cancelled = json.loads(fixture("shopify_orders_cancelled.json"))
    gift_only = {**cancelled["refunds"][0], "transactions": [cancelled["refunds"][0]["transactions"][1]]}
    raw = json.dumps(gift_only).encode()
    response = post(client, "shop", "shopify", raw, signed(raw, "refunds/create", "wh-3"))
    [result] = body(response)["results"]
    assert (result["status"], result["reason"], result["points_reversed"]) == (
        "ignored",
        "the refund gives no cash back",
        0,
    )


def test_unknown_topics_are_200_and_malformed_known_topics_are_400(client: Any, shop: Any) -> None:
    before = ledger_items()
    raw = fixture("shopify_orders_paid.json")
    response = post(client, "shop", "shopify", raw, signed(raw, "products/create"))
    assert response.status_code == 200 and body(response)["results"][0]["status"] == "ignored"
    broken = json.dumps({**json.loads(raw), "currency": None}).encode()
    assert_error(post(client, "shop", "shopify", broken, signed(broken, "orders/paid")), 400, "malformed_payload")
    bad_amount = json.dumps({**json.loads(raw), "current_total_price": "12.345"}).encode()
    assert_error(
        post(client, "shop", "shopify", bad_amount, signed(bad_amount, "orders/paid")), 400, "malformed_payload"
    )
    assert ledger_items() == before


def test_a_hold_code_in_discount_codes_captures_the_hold(client: Any, shop: Any) -> None:
    # Given customer 1073339475 with 100 points who holds 30 of them at checkout (a 30.00 USD discount)
    post_webhook(client, shop, paid_event("first", "1073339475", 200_000, currency="USD"))
    hold = client.http.post(
        "/v1/tenants/shop/holds",
        body=json.dumps({"member_id": "1073339475", "order_id": "cart-1", "points": 30}),
        headers=shop.auth,
    )
    assert hold.status_code == 201, hold.body
    code = body(hold)["code"]
    # When Shopify's paid order carries the code as a discount code (lower-cased) and charged 181.09 after it
    order = json.loads(fixture("shopify_orders_paid.json"))
    order["discount_codes"] = [{"code": code.lower(), "amount": "30.00", "type": "fixed_amount"}]
    raw = json.dumps(order).encode()
    response = post(client, "shop", "shopify", raw, signed(raw, "orders/paid", "wh-4"))
    # Then the hold is captured (30 points), and the order earns on the cash it was paid: 181.09 -> 9 points
    [result] = body(response)["results"]
    assert (result["points_redeemed"], result["points_earned"]) == (30, 9)
    view = member(client, shop, "1073339475")
    assert (view["held"], view["balance"]) == (0, 100 - 30 + 9)


def test_cancelling_a_partly_refunded_order_takes_back_what_is_left(client: Any, shop: Any) -> None:
    # Given order 450789469 paid 598.94 USD here (29 points) and partly refunded by 209.00 (10 points back)
    post_webhook(client, shop, paid_event("450789469", "c9", 59_894, currency="USD"))
    refund = fixture("shopify_refunds_create_multi_line.json")
    response = post(client, "shop", "shopify", refund, signed(refund, "refunds/create", "wh-5"))
    assert body(response)["results"][0]["points_reversed"] == 10
    # When Shopify reports the order cancelled with only that refund made (current total 199.65 of 598.94)
    raw = fixture("shopify_orders_cancelled_partially_refunded.json")
    response = post(client, "shop", "shopify", raw, signed(raw, "orders/cancelled", "wh-6"))
    # Then the cancellation takes back the other 19 points: a cancelled order earns nothing (docs/spec.md §3)
    [result] = body(response)["results"]
    assert (result["status"], result["order_id"], result["points_reversed"]) == ("applied", "450789469", 19)
    assert member(client, shop, "c9")["balance"] == 0


def test_line_items_reach_the_program_rules_with_their_product_type(aws: None, client: Any) -> None:
    # Given a shop whose program triples points on Electronics, and the orders/paid fixture's line typed so
    platform_tenant("shopify", SECRET, currency="USD", lifetime_days=3650, category_multipliers={"Electronics": 30_000})
    order = json.loads(fixture("shopify_orders_paid.json"))
    order["line_items"][0]["product_type"] = "Electronics"
    raw = json.dumps(order).encode()
    # When Shopify delivers it
    response = post(client, "shop", "shopify", raw, signed(raw, "orders/paid"))
    # Then floor(18109 × 5 % × 3 / 100) = 27 points, the category rule giving 18 of them
    assert response.status_code == 200, response.body
    assert body(response)["results"][0]["points_earned"] == 27
