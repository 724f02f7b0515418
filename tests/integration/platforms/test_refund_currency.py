"""A platform refund is reversed in the shop's currency or not at all (issue 13 item 9): a Shopify refund transaction
in the customer's (presentment) currency is read through its shop-money amount when Shopify gives one, and is
otherwise refused (200 ``rejected``, reason ``refund_currency_mismatch``, logged and counted), never read as if it
were in the order's currency."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import TenantCreds, body, paid_event, post_webhook
from tests.integration.platforms.conftest import fixture, platform_tenant, post
from tests.integration.platforms.test_shopify import SECRET, signed
from tests.integration.support import ledger_items, member
from tests.logs import captured_logs

ORDER = "450789469"  # the order of the refunds/create fixture


@pytest.fixture
def shop(client: Any) -> TenantCreds:
    # Given a USD shop whose customer c9 earned 5 points on order 450789469, paid 100.00 USD
    creds = platform_tenant("shopify", SECRET, currency="USD", lifetime_days=3650)
    paid = post_webhook(client, creds, paid_event(ORDER, "c9", 10_000, currency="USD"))
    assert body(paid)["points_earned"] == 5
    return creds


def refund(*transactions: dict[str, Any]) -> bytes:
    """The refunds/create fixture with ``transactions``."""
    return json.dumps(
        {**json.loads(fixture("shopify_refunds_create.json")), "transactions": list(transactions)}
    ).encode()


def transaction(amount: str, currency: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "refund", "status": "success", "gateway": "bogus", "amount": amount, "currency": currency, **extra}


def deliver(client: Any, raw: bytes, webhook_id: str = "wh-r1") -> dict[str, Any]:
    response = post(client, "shop", "shopify", raw, signed(raw, "refunds/create", webhook_id))
    assert response.status_code == 200, response.body
    [result] = body(response)["results"]
    return dict(result)


def test_a_refund_in_another_currency_without_shop_money_is_rejected(client: Any, shop: TenantCreds) -> None:
    before = ledger_items()
    # When Shopify reports a refund transaction of 10,000 JPY (the customer's currency) on the USD order
    with captured_logs() as logs:
        result = deliver(client, refund(transaction("10000", "JPY")))
    # Then it is refused with its reason, logged, and nothing is reversed (it was read as 100.00 USD before)
    assert (result["status"], result["reason"], result["points_reversed"]) == (
        "rejected",
        "refund_currency_mismatch",
        0,
    )
    assert [line["code"] for line in logs.with_message("platform event rejected")] == ["refund_currency_mismatch"]
    assert ledger_items() == before
    assert member(client, shop, "c9")["balance"] == 5


def test_a_refund_with_shop_money_is_read_in_the_shops_currency(client: Any, shop: TenantCreds) -> None:
    # When the transaction was 7,500 JPY and Shopify gives its shop-money amount, 50.00 USD
    money = {
        "shop_money": {"amount": "50.00", "currency_code": "USD"},
        "presentment_money": {"amount": "7500", "currency_code": "JPY"},
    }
    result = deliver(client, refund(transaction("7500", "JPY", amount_set=money)))
    # Then half the cash paid is refunded: floor(5 * 5000 / 10000) = 2 points
    assert (result["status"], result["points_reversed"]) == ("applied", 2)
    assert member(client, shop, "c9")["balance"] == 3


def test_a_refund_split_across_currencies_is_rejected_whole(client: Any, shop: TenantCreds) -> None:
    before = ledger_items()
    # When one refund gives back 10.00 USD and 1,000 JPY, the yen without a shop-money amount
    result = deliver(client, refund(transaction("10.00", "USD"), transaction("1000", "JPY")))
    # Then none of it is applied: a part cannot be valued in the shop's currency
    assert (result["status"], result["reason"]) == ("rejected", "refund_currency_mismatch")
    assert ledger_items() == before


def test_a_stripe_refund_in_another_currency_is_rejected(client: Any) -> None:
    # Given a Stripe charge in EUR whose PaymentIntent is a USD order paid here
    from tests.integration.platforms.test_stripe import SECRET as STRIPE_SECRET
    from tests.integration.platforms.test_stripe import charge, event, now_ts
    from tests.integration.platforms.test_stripe import signed as stripe_signed

    creds = platform_tenant("stripe", STRIPE_SECRET, "stripe-shop", currency="USD")
    assert body(post_webhook(client, creds, paid_event("pi_eur", "c1", 10_000, currency="USD"))).get("status")
    before = ledger_items()
    eur = charge(payment_intent="pi_eur", currency="eur", amount=10_000, amount_refunded=10_000)
    raw = event("charge.refunded", eur, "evt_eur", now_ts())
    # When its full refund arrives
    response = post(client, "stripe-shop", "stripe", raw, stripe_signed(raw, now_ts()))
    # Then it is refused, not read as 100.00 USD
    [result] = body(response)["results"]
    assert (result["status"], result["reason"]) == ("rejected", "refund_currency_mismatch")
    assert ledger_items() == before
