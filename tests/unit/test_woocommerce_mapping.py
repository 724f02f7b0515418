"""WooCommerce order → commands, without AWS: statuses, customers, refunds, timestamps (issue 4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.webhooks import woocommerce
from shared.webhooks.commands import Cancel, Ignore, Paid, Refund
from shared.webhooks.payloads import Malformed

ORDER: dict[str, Any] = {
    "id": 5,
    "status": "processing",
    "currency": "JPY",
    "total": "1200",
    "shipping_total": "200",
    "total_tax": "0",
    "customer_id": 0,
    "billing": {"email": "Ann@Example.com", "phone": "+81312345678", "first_name": "Ann"},
    "date_created_gmt": "2026-01-02T03:04:00",
    "date_paid_gmt": "2026-01-02T03:04:05",
    "line_items": [{"product_id": 9, "variation_id": 0, "sku": "", "quantity": 2, "total": "1000"}],
}


def test_a_paid_order_in_a_zero_decimal_currency_keeps_whole_yen() -> None:
    [paid] = woocommerce.commands(ORDER)
    assert isinstance(paid, Paid)
    assert (paid.cart.total_minor, paid.cart.shipping_minor, paid.currency) == (1200, 200, "JPY")
    assert paid.customer.member_id == "ann@example.com" and paid.customer.name == "Ann"
    assert paid.paid_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)  # date_paid_gmt, read as UTC
    assert [(line.sku, line.quantity, line.amount_minor) for line in paid.lines] == [("9", 2, 1000)]


@pytest.mark.parametrize(
    ("changes", "member_id"),
    [({"customer_id": 26}, "26"), ({"billing": {"phone": "+81312345678"}}, "+81312345678")],
)
def test_the_registered_customer_comes_first_then_the_email_then_the_phone(
    changes: dict[str, Any], member_id: str
) -> None:
    [paid] = woocommerce.commands({**ORDER, **changes})
    assert isinstance(paid, Paid) and paid.customer.member_id == member_id


def test_statuses() -> None:
    assert isinstance(woocommerce.commands({**ORDER, "billing": {}})[0], Ignore)  # nobody to credit
    assert isinstance(woocommerce.commands({**ORDER, "status": "on-hold"})[0], Ignore)
    assert woocommerce.commands({**ORDER, "status": "cancelled"}) == [Cancel("5")]
    refunded = woocommerce.commands({**ORDER, "status": "refunded", "refunds": [{"id": 7, "total": "-1200"}]})
    assert [type(c) for c in refunded] == [Paid, Refund, Cancel]
    assert refunded[1] == Refund(order_id="5", refund_id="7", amount_minor=1200, currency="JPY")


def test_a_paid_status_earns_only_once_paid() -> None:
    # A processing order without a payment date (issue 13 item 7) earns nothing; completed without one, it does
    assert isinstance(woocommerce.commands({**ORDER, "date_paid_gmt": None})[0], Ignore)
    completed = {**ORDER, "status": "completed", "date_paid_gmt": None, "date_completed_gmt": "2026-01-03T00:00:00"}
    [paid] = woocommerce.commands(completed)
    assert isinstance(paid, Paid) and paid.paid_at == datetime(2026, 1, 3, tzinfo=UTC)


def test_cash_on_delivery_is_paid_at_completion() -> None:
    # Cash on delivery is processing from checkout, perhaps with a payment date: it earns once completed
    cod = {**ORDER, "payment_method": "cod"}
    assert isinstance(woocommerce.commands(cod)[0], Ignore)
    [paid] = woocommerce.commands({**cod, "status": "completed", "date_completed_gmt": "2026-01-05T10:00:00"})
    assert isinstance(paid, Paid) and paid.paid_at == datetime(2026, 1, 5, 10, tzinfo=UTC)


@pytest.mark.parametrize("status", ["failed", "trash"])
def test_failed_or_trashed_cancels_what_was_earned(status: str) -> None:
    assert woocommerce.commands({**ORDER, "status": status}) == [Cancel("5", only_if_earned=True)]


@pytest.mark.parametrize("refund", [{"id": 7, "total": "5"}, {"id": 7, "total": "-0"}, {"id": 7}])
def test_a_refund_must_be_a_negative_amount(refund: dict[str, Any]) -> None:
    with pytest.raises(Malformed):
        woocommerce.commands({**ORDER, "refunds": [refund]})
