"""WooCommerce earns on payment, not on a status (issue 13 item 7): cash on delivery is `processing` from checkout
with nothing paid, so it earns at `completed`; other gateways earn once `date_paid_gmt` is set; `failed`, trashed or
deleted orders give back what they earned, and an order that never earned is left free to earn later."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import TenantCreds
from tests.integration.conftest import Clock
from tests.integration.platforms.conftest import fixture, platform_tenant
from tests.integration.platforms.test_woocommerce import SECRET, results, send, signed
from tests.integration.support import history, ledger_items, member

EMAIL = "john.doe@example.com"  # order 727's guest: 29.35 USD, 10.00 shipping and 1.35 tax, 9 points


@pytest.fixture
def shop(aws: None, frozen: Clock) -> TenantCreds:
    frozen.now = datetime(2017, 3, 25, 12, 0, tzinfo=UTC)
    return platform_tenant("woocommerce", SECRET, currency="USD", point_value_minor=10)


def order(modified: str, **changes: Any) -> bytes:
    """Order 727 (processing, bank transfer, paid 2017-03-22T19:28:08) with ``changes``, last modified then."""
    return json.dumps(
        {**json.loads(fixture("woocommerce_order_created.json")), **changes, "date_modified_gmt": modified}
    )


def deliver(client: Any, raw: bytes | str, topic: str = "order.updated") -> list[dict[str, Any]]:
    data = raw.encode() if isinstance(raw, str) else raw
    return results(send(client, data, signed(data, topic)))


COD_AT_CHECKOUT = {"payment_method": "cod", "payment_method_title": "Cash on delivery"}


@pytest.mark.parametrize("date_paid", [None, "2017-03-22T19:28:08"], ids=["no-date-paid", "date-paid-set"])
def test_cash_on_delivery_earns_at_completion_not_at_checkout(
    client: Any, shop: TenantCreds, date_paid: str | None
) -> None:
    # Given a cash-on-delivery order that WooCommerce set to processing at checkout (nothing is paid yet)
    checkout = order("2017-03-22T19:28:08", status="processing", date_paid_gmt=date_paid, **COD_AT_CHECKOUT)
    before = ledger_items()
    # When its order.created arrives
    [result] = deliver(client, checkout, "order.created")
    # Then it earns nothing yet, and nothing is written
    assert (result["status"], result["points_earned"]) == ("ignored", 0)
    assert ledger_items() == before
    # When the courier collected the cash and the merchant completed the order
    done = order(
        "2017-03-24T10:00:00",
        status="completed",
        date_paid_gmt=date_paid or "2017-03-24T10:00:00",
        date_completed_gmt="2017-03-24T10:00:00",
        **COD_AT_CHECKOUT,
    )
    [result] = deliver(client, done)
    # Then it earns 9 points, paid at its completion
    assert (result["status"], result["points_earned"]) == ("applied", 9)
    [earn] = history(client, shop, EMAIL)
    assert earn["details"]["paid_at"] == "2017-03-24T10:00:00Z"


def test_a_cash_on_delivery_order_that_failed_before_delivery_never_earns(client: Any, shop: TenantCreds) -> None:
    # Given a cash-on-delivery order, processing from checkout
    before = ledger_items()
    deliver(client, order("2017-03-22T19:28:08", status="processing", **COD_AT_CHECKOUT), "order.created")
    # When the delivery fails and the merchant marks it failed
    [result] = deliver(client, order("2017-03-23T09:00:00", status="failed", **COD_AT_CHECKOUT))
    # Then nothing was ever earned, nothing is taken and nothing is written
    assert (result["status"], result["points_reversed"]) == ("ignored", 0)
    assert ledger_items() == before


def test_another_gateway_earns_only_once_date_paid_is_set(client: Any, shop: TenantCreds) -> None:
    # Given a card order set to processing without a payment date (created through the REST API, unpaid)
    [result] = deliver(client, order("2017-03-22T19:28:08", status="processing", date_paid_gmt=None), "order.created")
    # Then it earns nothing
    assert (result["status"], result["points_earned"]) == ("ignored", 0)
    # When the payment is recorded, then it earns on it
    [result] = deliver(client, order("2017-03-22T20:00:00", status="processing", date_paid_gmt="2017-03-22T20:00:00"))
    assert (result["status"], result["points_earned"]) == ("applied", 9)


@pytest.mark.parametrize("status", ["failed", "trash"])
def test_failed_or_trashed_after_earning_gives_the_points_back(client: Any, shop: TenantCreds, status: str) -> None:
    # Given order 727 paid and earned (9 points)
    [paid] = deliver(client, fixture("woocommerce_order_created.json"), "order.created")
    assert paid["points_earned"] == 9
    # When the order turns failed (a charge-back, a payment reversed) or is moved to the trash
    [result] = deliver(client, order("2017-03-23T09:00:00", status=status))
    # Then it is a cancellation: the 9 points are taken back
    assert (result["status"], result["points_reversed"]) == ("applied", 9)
    assert member(client, shop, EMAIL)["balance"] == 0


def test_a_deleted_order_gives_the_points_back(client: Any, shop: TenantCreds) -> None:
    # Given order 727 paid and earned (9 points)
    deliver(client, fixture("woocommerce_order_created.json"), "order.created")
    # When WooCommerce reports it deleted (order.deleted carries only the id)
    [result] = deliver(client, json.dumps({"id": 727}), "order.deleted")
    # Then it is a cancellation: the 9 points are taken back, and a retry changes nothing
    assert (result["status"], result["order_id"], result["points_reversed"]) == ("applied", "727", 9)
    before = ledger_items()
    [again] = deliver(client, json.dumps({"id": 727}), "order.deleted")
    assert again["status"] in ("duplicate", "ignored")
    assert ledger_items() == before


def test_failed_or_deleted_before_any_earning_leaves_the_order_free_to_earn(client: Any, shop: TenantCreds) -> None:
    # Given an unpaid card order that failed, and was deleted, before anything was earned
    before = ledger_items()
    [failed] = deliver(client, order("2017-03-22T19:00:00", status="failed", date_paid_gmt=None))
    [deleted] = deliver(client, json.dumps({"id": 727}), "order.deleted")
    # Then both are ignored and nothing is written (no tombstone)
    assert (failed["status"], deleted["status"]) == ("ignored", "ignored")
    assert ledger_items() == before
    # When the customer pays after all, then the order earns
    [paid] = deliver(client, fixture("woocommerce_order_created.json"), "order.created")
    assert (paid["status"], paid["points_earned"]) == ("applied", 9)
