"""One webhook pipeline (issue 15 item 6): shared/services/webhook_intake.py maps the commands of every order
webhook to the order use cases and decides what a failure becomes, without AWS.

The standard webhook (``apply``) lets a failure leave as raised: its sender reads the 4xx. A platform's delivery
(``settle``) is checked against the bounds first, then a permanent failure is a 200 ``ignored`` or ``rejected``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest

from shared.errors import AppError, NotFound, Transient, Unprocessable
from shared.rules import Cart, Line
from shared.services.orders import OrderResult, OrderService, PaidOrderIn
from shared.services.store import LedgerStore
from shared.services.webhook_intake import WebhookIntake
from shared.tenants import Tenant
from shared.webhooks import standard
from shared.webhooks.commands import Cancel, Customer, Delivery, Ignore, Paid, Refund, Reject
from tests.logs import captured_logs
from tests.tenants import tenant

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TENANT = tenant(NOW - timedelta(days=30))
HOLD_CODE = "LOYABCDEFGHJK"  # one of our hold codes (shared/hold_codes.py)
LINE = Line(sku="sku-1", category="tea", quantity=2, amount_minor=40_000)


@dataclass
class RecordedOrders:
    """OrderService's two use cases, recorded; ``failure`` is raised by both when set."""

    failure: AppError | None = None
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def paid(self, tenant: Tenant, order: PaidOrderIn, event_id: str | None, now: datetime) -> OrderResult:
        self.calls.append(("paid", (order, event_id)))
        if self.failure:
            raise self.failure
        return OrderResult(status="applied", order_id=order.order_id, member_id=order.customer.member_id)

    def refunded(self, tenant: Tenant, *args: Any, **kwargs: Any) -> OrderResult:
        self.calls.append(("refunded", (args, kwargs)))
        if self.failure:
            raise self.failure
        return OrderResult(status="applied", order_id=args[0])


def intake(orders: RecordedOrders, earned: tuple[str, ...] = ()) -> WebhookIntake:
    """The intake on recorded use cases and a store in which the orders ``earned`` were paid."""
    store = SimpleNamespace(
        load_order=lambda tenant, order_id: SimpleNamespace(paid=object() if order_id in earned else None, voided=False)
    )
    return WebhookIntake(cast(OrderService, orders), cast(LedgerStore, store))


def paid(member_id: str = "cus_1", **changes: Any) -> Paid:
    values: dict[str, Any] = {
        "order_id": "o1",
        "customer": Customer(member_id=member_id, email="Ann@Example.com", phone="+79991234567", name="Ann"),
        "currency": "RUB",
        "cart": Cart(total_minor=100_000, shipping_minor=5_000),
        "paid_at": NOW,
        "lines": (LINE,),
        **changes,
    }
    return Paid(**values)


def delivery(*commands: Any) -> Delivery:
    return Delivery(key="evt_1", topic="a topic", commands=list(commands))


def test_a_standard_event_reads_into_the_platforms_command_and_reaches_the_same_use_case() -> None:
    # Given an order.paid of the standard webhook with a redemption, a birthday and a phone that is not valid
    payload = {
        "type": "order.paid",
        "timestamp": NOW.isoformat(),
        "data": {
            "order_id": "o1",
            "customer": {"id": "c1", "email": "Ann@Example.com", "phone": "12ab", "birthday": "1990-05-17"},
            "currency": "RUB",
            "total_minor": 100_000,
            "items": [{"sku": "sku-1", "category": "tea", "quantity": 2, "amount_minor": 40_000}],
            "points_redeemed": 50,
            "hold_id": "h_1",
            "paid_at": NOW.isoformat(),
        },
    }
    orders = RecordedOrders()
    # When it is read and applied
    event = standard.delivery(payload, "msg_1", NOW)
    with captured_logs() as logs:
        [result] = intake(orders).apply(TENANT, event, "msg_1", NOW)
    # Then it is the platforms' Paid, with what only the standard webhook carries
    [command] = event.commands
    assert isinstance(command, Paid) and (event.key, event.topic) == ("msg_1", "order.paid")
    assert (command.customer.birthday, command.points_redeemed, command.hold_id) == (date(1990, 5, 17), 50, "h_1")
    # And the use case gets it whole: lines in the cart, contacts normalized, the unusable phone dropped unlogged
    [(name, (order, event_id))] = orders.calls
    assert (name, event_id, result.status) == ("paid", "msg_1", "applied")
    assert (order.cart.lines, order.points_redeemed, order.hold_id, order.hold_code) == ((LINE,), 50, "h_1", None)
    c = order.customer
    assert (c.member_id, c.email, c.phone, c.birthday) == ("c1", "ann@example.com", None, "1990-05-17")
    assert [r["message"] for r in logs.records] == ["order carries an invalid phone; ignored"]
    assert "12ab" not in logs.text


def test_a_platforms_paid_order_captures_the_hold_its_discount_code_names() -> None:
    # Given a Shopify order with two discount codes, the second one of our hold codes in lower case
    orders = RecordedOrders()
    command = paid(hold_codes=("SUMMER10", HOLD_CODE.lower()))
    # When it is settled
    [result] = intake(orders).settle(TENANT, delivery(command), "shopify:evt_1", NOW)
    # Then the use case is told the code, the order's lines and no redemption of its own
    [(_, (order, event_id))] = orders.calls
    assert (result.status, event_id) == ("applied", "shopify:evt_1")
    assert (order.hold_code, order.points_redeemed, order.hold_id) == (HOLD_CODE.lower(), 0, None)
    assert order.cart == Cart(total_minor=100_000, shipping_minor=5_000, lines=(LINE,))


def test_refunds_and_cancellations_reach_the_refund_use_case() -> None:
    # Given a refund by amount with its goods, one by running total, and a cancellation
    orders = RecordedOrders()
    commands = (
        Refund(order_id="o1", refund_id="r1", amount_minor=300, currency="RUB", items=(LINE,)),
        Refund(order_id="o2", refund_id="evt_9", cumulative_minor=700),
        Cancel(order_id="o3"),
    )
    # When they are settled
    results = intake(orders).settle(TENANT, delivery(*commands), "stripe:evt_1", NOW)
    # Then each is one call of the refund use case, a cancellation as the reserved refund CANCEL of everything
    assert [r.status for r in results] == ["applied"] * 3
    assert [args[:4] for _, (args, _) in orders.calls] == [
        ("o1", "r1", 300, "stripe:evt_1"),
        ("o2", "evt_9", None, "stripe:evt_1"),
        ("o3", "CANCEL", None, "stripe:evt_1"),
    ]
    assert [(args[5:], kwargs) for _, (args, kwargs) in orders.calls[:2]] == [
        ((None,), {"items": (LINE,)}),
        ((700,), {"items": None}),  # no goods named: the refund takes its share of every line
    ]


def test_a_cancellation_only_if_earned_leaves_an_order_never_paid_here_alone() -> None:
    # Given WooCommerce cancellations of a failed order o1 that never earned, and of o2 that did
    orders = RecordedOrders()
    commands = (Cancel(order_id="o1", only_if_earned=True), Cancel(order_id="o2", only_if_earned=True))
    # When they are settled
    first, second = intake(orders, earned=("o2",)).settle(TENANT, delivery(*commands), "woocommerce:k", NOW)
    # Then o1 is ignored with nothing written (it may still be paid later), o2 is cancelled
    assert (first.status, first.order_id, first.reason) == ("ignored", "o1", "order_not_earned")
    assert second.status == "applied" and [args[:2] for _, (args, _) in orders.calls] == [("o2", "CANCEL")]


@pytest.mark.parametrize(
    ("command", "failure", "status", "reason"),
    [
        (Ignore(reason="topic products/update is not used"), None, "ignored", "topic products/update is not used"),
        (paid(), NotFound("no such order", code="order_not_found"), "ignored", "order_not_found"),
        (paid(), Unprocessable("orders must be in RUB", code="currency_mismatch"), "rejected", "currency_mismatch"),
        (paid(member_id="has space"), None, "rejected", "invalid_member_id"),
        (Reject(order_id="o1", reason="refund_currency_mismatch"), None, "rejected", "refund_currency_mismatch"),
        (
            Refund(order_id="o1", refund_id="r1", amount_minor=1, currency="USD"),
            None,
            "rejected",
            "refund_currency_mismatch",
        ),
    ],
)
def test_a_platform_is_answered_200_with_what_can_never_succeed(
    command: Any, failure: AppError | None, status: str, reason: str
) -> None:
    # Given a platform's command that asks for nothing, or that the use case (or the intake) refuses for good
    orders = RecordedOrders(failure=failure)
    # When it is settled
    with captured_logs() as logs:
        [result] = intake(orders).settle(TENANT, delivery(command), "shopify:evt_1", NOW)
    # Then it is a result, not an error: the platform must not retry it, nor disable the endpoint
    assert (result.status, result.reason) == (status, reason)
    # And a rejection is logged with its code (and counted by the route)
    rejected = [line["code"] for line in logs.with_message("platform event rejected")]
    assert rejected == ([reason] if status == "rejected" else [])


def test_a_transient_fault_leaves_as_raised_so_that_the_platform_retries() -> None:
    # Given a store that is unavailable
    orders = RecordedOrders(failure=Transient("try again"))
    # When a platform's paid order is settled, then the 503 leaves for the platform to retry
    with pytest.raises(Transient):
        intake(orders).settle(TENANT, delivery(paid()), "shopify:evt_1", NOW)


def test_a_delivery_out_of_bounds_is_refused_whole_before_anything_is_applied() -> None:
    # Given a WooCommerce delivery of a refund, then a paid order from three years ago
    orders = RecordedOrders()
    old = paid(paid_at=NOW - timedelta(days=3 * 365))
    commands = (Refund(order_id="o0", refund_id="r1", amount_minor=100, currency="RUB"), old)
    # When it is settled, then it is a 422 and nothing was applied, not even the refund that came first
    with pytest.raises(Unprocessable) as refused:
        intake(orders).settle(TENANT, delivery(*commands), "woocommerce:k", NOW)
    assert (refused.value.status, refused.value.code, orders.calls) == (422, "paid_at_out_of_range", [])


@pytest.mark.parametrize(
    "failure",
    [NotFound("no such order", code="order_not_found"), Unprocessable("no", code="hold_mismatch")],
)
def test_the_standard_webhook_answers_every_failure_itself(failure: AppError) -> None:
    # Given the standard webhook's event that the use case refuses
    orders = RecordedOrders(failure=failure)
    # When it is applied, then the failure leaves as raised: its sender reads the 4xx and fixes the event
    with pytest.raises(type(failure)) as raised:
        intake(orders).apply(TENANT, delivery(paid()), "msg_1", NOW)
    assert raised.value is failure


@pytest.mark.parametrize("member_id", ["cus_1\n", "cus 1", "", "x" * 129])
def test_a_platform_customer_id_that_cannot_be_a_member_id_is_rejected(member_id: str) -> None:
    # Given a platform's order whose customer id the member-id pattern refuses (a trailing newline too, as the
    # standard webhook's model refuses it)
    orders = RecordedOrders()
    # When it is settled / Then it is rejected for good, and no order reaches the use case
    [result] = intake(orders).settle(TENANT, delivery(paid(member_id)), "shopify:evt_1", NOW)
    assert (result.status, result.reason) == ("rejected", "invalid_member_id")
    assert orders.calls == []
