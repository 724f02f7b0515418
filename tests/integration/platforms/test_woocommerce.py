"""WooCommerce webhooks (issue 4) over the published fixtures, byte for byte, with their derived signature vectors."""

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
from tests.integration.support import assert_error, history, ledger_items, member

SECRET = "hush-woo-secret"  # the secret of the derived vectors (test_vectors.json)
CREATED = "woocommerce_order_created.json"  # order 727, processing, 29.35 USD with 10.00 shipping and 1.35 tax
UPDATED = "woocommerce_order_updated.json"  # the same order, completed
WITH_REFUNDS = "woocommerce_order_with_refunds.json"  # order 723, 39.00 USD, refunds of 10.00 and 9.00


def signed(raw: bytes, topic: str, secret: str = SECRET) -> dict[str, str]:
    """WooCommerce's headers, the signature written out here independently of the adapter."""
    digest = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
    resource, _, event = topic.partition(".")
    return {
        "content-type": "application/json",
        "X-WC-Webhook-Signature": digest,
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Source": "https://shop.example.com/",
        "X-WC-Webhook-ID": "12",
        "X-WC-Webhook-Delivery-ID": hashlib.sha1(
            raw + topic.encode()
        ).hexdigest(),  # a per-attempt id, as WooCommerce sends
    }


def fixture_headers(file: str, topic: str) -> dict[str, str]:
    """Headers carrying the vector's derived signature, not one computed by the test."""
    headers = signed(fixture(file), topic)
    headers["X-WC-Webhook-Signature"] = vector("woocommerce", file)["expected"]
    return headers


def send(client: Any, raw: bytes, headers: dict[str, str]) -> Any:
    return post(client, "shop", "woocommerce", raw, headers)


def results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.body
    return list(body(response)["results"])


def reencoded(file: str, **changes: Any) -> bytes:
    return json.dumps({**json.loads(fixture(file)), **changes}).encode()


@pytest.fixture
def shop(aws: None, frozen: Clock) -> Any:
    # The fixtures were paid in March 2017: the clock stands there, so their points are young (just after order
    # 727's completion at 19:30:35 UTC: a payment time ahead of the clock is refused, issue 13 item 14)
    frozen.now = datetime(2017, 3, 22, 20, 0, tzinfo=UTC)
    # 10 cents a point at 5 %: 18.00 USD of goods earn 9 points
    return platform_tenant("woocommerce", SECRET, currency="USD", point_value_minor=10, hold_ttl_minutes=240)


def test_the_derived_vectors_and_the_published_vector_are_reproduced() -> None:
    # Given the published vector (Shopify's math, which WooCommerce shares) and the vectors over the saved files
    published = next(v for v in VECTORS["published"] if "WooCommerce" in v["scheme"])
    assert (
        signed(published["body"].encode(), "order.created", published["secret"])["X-WC-Webhook-Signature"]
        == (published["expected_base64"])
    )
    for v in (v for v in VECTORS["derived"] if v["scheme"] == "woocommerce"):
        raw = fixture(v["file"])
        assert hashlib.sha256(raw).hexdigest() == v["sha256_of_body"]
        assert signed(raw, "order.created", v["secret"])["X-WC-Webhook-Signature"] == v["expected"]


def test_order_created_earns_once_and_its_retry_and_the_update_change_nothing(client: Any, shop: Any) -> None:
    # When WooCommerce delivers order.created (status processing) with its derived signature
    [result] = results(send(client, fixture(CREATED), fixture_headers(CREATED, "order.created")))
    # Then the guest earns on 29.35 - 10.00 shipping - 1.35 tax = 18.00 USD: 9 points, member id = billing e-mail
    assert (result["status"], result["order_id"], result["member_id"], result["points_earned"]) == (
        "applied",
        "727",
        "john.doe@example.com",
        9,
    )
    view = member(client, shop, "john.doe@example.com")
    assert (view["balance"], view["email"], view["phone"]) == (9, "john.doe@example.com", None)  # (555) is no E.164
    [earn] = history(client, shop, "john.doe@example.com")
    assert earn["lots"][0]["expires_at"] == "2018-03-22T19:28:08Z"  # date_paid_gmt (UTC) + 365 days
    before = ledger_items()
    # When WooCommerce retries the delivery, and then sends order.updated (completed) for the same order
    [retry] = results(send(client, fixture(CREATED), fixture_headers(CREATED, "order.created")))
    [update] = results(send(client, fixture(UPDATED), fixture_headers(UPDATED, "order.updated")))
    # Then both answer 200 and nothing is written
    assert (retry["status"], update["status"]) == ("duplicate", "duplicate")
    assert ledger_items() == before


def test_a_tampered_body_another_secret_or_no_signature_is_401_and_writes_nothing(client: Any, shop: Any) -> None:
    raw = fixture(CREATED)
    headers = fixture_headers(CREATED, "order.created")
    before = ledger_items()
    assert_error(send(client, raw.replace(b"29.35", b"99.35"), headers), 401, "invalid_signature")
    assert_error(send(client, raw, signed(raw, "order.created", "another-secret")), 401, "invalid_signature")
    unsigned = {k: v for k, v in headers.items() if k != "X-WC-Webhook-Signature"}
    assert_error(send(client, raw, unsigned), 401, "invalid_signature")  # one answer for every failure
    assert ledger_items() == before


def test_the_raw_bytes_are_signed_so_escaped_slashes_stay_as_sent(client: Any, shop: Any) -> None:
    # Given a body as PHP's wp_json_encode writes it: "/" escaped as "\/"
    raw = fixture(CREATED).replace(
        b'"payment_method_title": "Direct Bank Transfer"', b'"payment_method_title": "A\\/B"'
    )
    assert b"\\/" in raw
    # Then its own signature is accepted, and a signature over the re-encoded JSON (unescaped "/") is not
    assert results(send(client, raw, signed(raw, "order.created")))[0]["status"] == "applied"
    decoded = json.dumps(json.loads(raw)).encode()
    assert decoded != raw
    assert_error(send(client, raw, signed(decoded, "order.created")), 401, "invalid_signature")


def test_the_creation_ping_is_200_without_a_signature_and_does_nothing(client: Any, shop: Any) -> None:
    before = ledger_items()
    ping = client.http.post(
        "/v1/tenants/shop/webhooks/woocommerce",
        body=b"webhook_id=12",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert results(ping)[0]["status"] == "ignored"
    # A body that looks like a ping but names a topic is an ordinary delivery: its signature is checked
    fake = {"content-type": "application/x-www-form-urlencoded", "X-WC-Webhook-Topic": "order.created"}
    assert_error(send(client, b"webhook_id=12", fake), 401, "invalid_signature")
    assert ledger_items() == before


def test_refunds_in_an_update_reverse_their_share_once_each(client: Any, shop: Any) -> None:
    # When order 723 (customer 26, completed, 39.00 USD of which 10.00 shipping) arrives with two refunds
    raw = fixture(WITH_REFUNDS)
    paid, first, second = results(send(client, raw, signed(raw, "order.updated")))
    # Then it earns floor(2900 * 5 % / 10) = 14 points, and the refunds take back the cash share of them:
    # 10.00 of 39.00 -> floor(14 * 1000 / 3900) = 3; 19.00 in all -> floor(14 * 1900 / 3900) = 6, so 3 more
    assert (paid["member_id"], paid["points_earned"]) == ("26", 14)
    assert [(r["status"], r["points_reversed"]) for r in (first, second)] == [("applied", 3), ("applied", 3)]
    assert member(client, shop, "26")["balance"] == 8
    before = ledger_items()
    # When a later update lists the same refunds again (another date_modified: a new delivery)
    raw = reencoded(WITH_REFUNDS, date_modified_gmt="2017-03-22T10:00:00")
    again = results(send(client, raw, signed(raw, "order.updated")))
    # Then nothing more is reversed
    assert [r["status"] for r in again] == ["duplicate", "duplicate", "duplicate"]
    assert ledger_items() == before


def test_status_cancelled_or_refunded_takes_back_what_is_left(client: Any, shop: Any) -> None:
    send(client, fixture(CREATED), fixture_headers(CREATED, "order.created"))
    raw = reencoded(CREATED, status="cancelled", date_modified_gmt="2017-03-23T08:00:00")
    [cancel] = results(send(client, raw, signed(raw, "order.updated")))
    assert (cancel["status"], cancel["points_reversed"]) == ("applied", 9)
    assert member(client, shop, "john.doe@example.com")["balance"] == 0
    # A refunded order: its last refund and the cancellation of the rest, in one delivery
    order = json.loads(fixture(WITH_REFUNDS))
    raw = json.dumps({**order, "status": "refunded", "refunds": [{"id": 730, "refund": "", "total": "-39.00"}]})
    paid, refund, rest = results(send(client, raw.encode(), signed(raw.encode(), "order.updated")))
    assert (paid["points_earned"], refund["points_reversed"], rest["points_reversed"]) == (14, 14, 0)
    assert member(client, shop, "26")["balance"] == 0


def test_unpaid_orders_unknown_topics_and_malformed_bodies(client: Any, shop: Any) -> None:
    before = ledger_items()
    pending = reencoded(CREATED, status="pending")
    [result] = results(send(client, pending, signed(pending, "order.created")))
    assert (result["status"], result["reason"]) == ("ignored", "the order is pending: not paid")
    product = fixture(CREATED)
    assert results(send(client, product, signed(product, "product.updated")))[0]["status"] == "ignored"
    for broken in (b"not json", reencoded(CREATED, id=None), reencoded(CREATED, total="12.345")):
        assert_error(send(client, broken, signed(broken, "order.created")), 400, "malformed_payload")
    refund = reencoded(WITH_REFUNDS, refunds=[{"id": 9, "total": "10.00"}])  # a refund must be negative
    assert_error(send(client, refund, signed(refund, "order.updated")), 400, "malformed_payload")
    assert ledger_items() == before


def test_a_hold_code_in_coupon_lines_captures_the_hold(client: Any, shop: Any, frozen: Clock) -> None:
    # Given John with 1,000 points who holds 30 of them at checkout (a 3.00 USD coupon)
    earned = post_webhook(
        client, shop, paid_event("first", "john.doe@example.com", 200_000, currency="USD"), ts=frozen.ts
    )
    assert body(earned)["points_earned"] == 1000
    hold = client.http.post(
        "/v1/tenants/shop/holds",
        body=json.dumps({"member_id": "john.doe@example.com", "order_id": "cart-1", "points": 30}),
        headers=shop.auth,
    )
    assert hold.status_code == 201, hold.body
    code = body(hold)["code"]
    # When the order carries the code as a coupon (WooCommerce lower-cases coupon codes) and charged 29.35 after it
    coupons = [{"id": 1, "code": code.lower(), "discount": "3.00", "discount_tax": "0.00"}]
    raw = reencoded(CREATED, coupon_lines=coupons)
    [result] = results(send(client, raw, signed(raw, "order.created")))
    # Then the hold is captured and the order earns on the cash paid for goods: 18.00 USD -> 9 points
    assert (result["points_redeemed"], result["points_earned"]) == (30, 9)
    view = member(client, shop, "john.doe@example.com")
    assert (view["held"], view["balance"]) == (0, 1000 - 30 + 9)


def test_the_refund_object_matches_the_orders_refunds_entry_and_is_no_order_body(client: Any, shop: Any) -> None:
    # Given WooCommerce's refund 726 of order 723 (REST shape: there is no core refund topic)
    refund = json.loads(fixture("woocommerce_order_refund.json"))
    entry = next(e for e in json.loads(fixture(WITH_REFUNDS))["refunds"] if e["id"] == refund["id"])
    # Then the order's refunds[] entry that the adapter reads carries the same amount, negated
    assert entry["total"] == "-" + refund["amount"]
    # And the refund object sent on an order topic is no order: 400, nothing written
    before = ledger_items()
    raw = fixture("woocommerce_order_refund.json")
    assert_error(send(client, raw, signed(raw, "order.updated")), 400, "malformed_payload")
    assert ledger_items() == before
