"""Referrals under random sequences (issue 13 item 1): a referrer keeps exactly 100 points per kept, qualifying
referral within the monthly cap, whatever orders, refunds and cancellations come, in whatever order.

The model: each referee's first order carries alice's code; it qualifies when it reaches the minimum check; alice is
paid when it qualifies and fewer than ``CAP`` referrals were paid to her in that month before it (a referral later
cancelled still counts); a full refund or a cancellation takes both bonuses back, a partial refund none.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from shared import clock
from shared.container import container
from shared.money import share_floor
from shared.referral import code_of
from shared.rules import Cart
from shared.services.orders import CustomerIn, OrderResult, PaidOrderIn
from shared.tenants import Tenant
from tests.conftest import make_tenant
from tests.property.test_ledger_stateful import fresh_tables, run_against_the_emulator

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "70" if os.environ.get("CI") else "30"))
START = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
CAP, REFERRER_POINTS, REFEREE_POINTS, MIN_CHECK = 2, 100, 30, 5_000


@dataclass
class Referred:
    order_id: str
    member_id: str
    cash: int
    earned: int
    referrer_paid: bool
    referee_paid: bool
    refunded: int = 0
    taken_back: bool = False


class ReferralMachine(RuleBasedStateMachine):
    @initialize()
    def create_tenant(self) -> None:
        fresh_tables()
        self.now = START
        clock.set_clock(lambda: self.now)
        referral = {"referrer_points": REFERRER_POINTS, "referee_points": REFEREE_POINTS, "max_per_month": CAP}
        make_tenant("ref", currency="RUB", min_check_minor=MIN_CHECK, referral=referral)
        tenant = container().tenants.get("ref")
        assert tenant is not None
        self.tenant: Tenant = tenant
        self.ids = itertools.count()
        self.referred: list[Referred] = []
        self.paid_in_month: dict[str, int] = {}
        self.opening = self.pay("alice", 100_000, None).points_earned  # alice's code exists once she does
        self.code = code_of("ref", "alice")

    def teardown(self) -> None:
        clock.set_clock(None)

    def pay(self, member_id: str, total: int, code: str | None) -> OrderResult:
        order = PaidOrderIn(
            order_id=f"o{next(self.ids)}",
            customer=CustomerIn(member_id=member_id, referral_code=code),
            currency="RUB",
            cart=Cart(total),
            points_redeemed=0,
            hold_id=None,
            paid_at=self.now,
        )
        return container().orders.paid(self.tenant, order, None, self.now)

    @rule(total=st.sampled_from([1_000, 4_999, 5_000, 60_000, 200_000]))
    def a_new_customer_uses_the_code(self, total: int) -> None:
        member_id = f"r{next(self.ids)}"
        result = self.pay(member_id, total, self.code)
        qualifies = total >= MIN_CHECK
        month = self.now.strftime("%Y-%m")
        paid = qualifies and self.paid_in_month.get(month, 0) < CAP
        self.paid_in_month[month] = self.paid_in_month.get(month, 0) + int(paid)
        self.referred.append(Referred(result.order_id, member_id, total, result.points_earned, paid, qualifies))

    @precondition(lambda self: any(not r.taken_back and r.refunded < r.cash for r in self.referred))
    @rule(data=st.data(), share=st.sampled_from([10, 50, 100, None]))
    def the_order_is_refunded_or_cancelled(self, data: st.DataObject, share: int | None) -> None:
        r = data.draw(st.sampled_from([r for r in self.referred if not r.taken_back and r.refunded < r.cash]))
        amount = None if share is None else max(1, (r.cash - r.refunded) * share // 100)
        refund_id = "CANCEL" if amount is None else f"x{next(self.ids)}"
        result = container().orders.refunded(self.tenant, r.order_id, refund_id, amount, None, self.now)
        assert result.status == "applied", result
        r.refunded = r.cash if amount is None else r.refunded + amount
        r.taken_back = r.refunded == r.cash

    @rule(days=st.sampled_from([1, 10, 20]))
    def time_passes(self, days: int) -> None:
        self.now += timedelta(days=days)

    @invariant()
    def each_kept_qualifying_referral_pays_once_within_the_cap(self) -> None:
        if not hasattr(self, "tenant"):
            return
        store = container().orders.store
        kept = sum(REFERRER_POINTS for r in self.referred if r.referrer_paid and not r.taken_back)
        alice = store.load_member("ref", "alice").account.ledger
        assert (alice.balance, alice.debt) == (self.opening + kept, 0)
        for r in self.referred:  # the referee: the order's points less their refunded share, and the bonus if kept
            referee = store.load_member("ref", r.member_id).account.ledger
            bonus = REFEREE_POINTS if r.referee_paid and not r.taken_back else 0
            left = r.earned - share_floor(r.earned, r.refunded, r.cash)
            assert (referee.balance, referee.debt) == (left + bonus, 0), r


def test_referral_invariants_hold_over_random_sequences(aws: None) -> None:
    run_against_the_emulator(ReferralMachine, EXAMPLES, 12)
