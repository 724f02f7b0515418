"""docs/spec.md §3 invariants of the pure ledger (shared/ledger.py, shared/orders.py), no AWS: many examples.

A state machine applies random credits (pending or not, short or long lived), spends, holds, captures,
releases, reversals, expiry runs and clock moves to one Ledger, keeping every Movement as the history.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from shared.errors import AppError, InsufficientPoints
from shared.ledger import (
    MAX_OPEN_HOLDS,
    Credit,
    Hold,
    Ledger,
    LotChange,
    Movement,
    capture,
    credit,
    expire,
    place_hold,
    release_hold,
    reverse,
    spend,
)
from shared.orders import OrderRecord, RefundTotals, plan_refund

EXAMPLES = int(os.environ.get("HYPOTHESIS_DOMAIN_EXAMPLES", "1000"))
T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


class AccountMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.account = Ledger("m1")
        self.now = T0
        self.movements: list[Movement] = []
        self.holds: dict[str, Hold] = {}  # placed and neither captured nor released
        self.next_id = 0

    def apply(self, result: tuple[Ledger, Movement]) -> Movement:
        self.account, movement = result
        self.movements.append(movement)
        return movement

    @rule(
        points=st.integers(1, 500),
        pending_days=st.sampled_from([0, 0, 2]),
        lifetime_days=st.sampled_from([-30, 0, 1, 5, 365]),  # <= 0: born expired (an order paid long ago)
        kind=st.sampled_from(["earn", "restore"]),
    )
    def add_points(self, points: int, pending_days: int, lifetime_days: int, kind: str) -> None:
        # Given a debt (maybe), when points are credited
        debt = self.account.debt
        lots_before = len(self.account.lots)
        item = Credit(points, "order", self.now + pending_days * DAY, self.now + lifetime_days * DAY)
        movement = self.apply(credit(self.account, kind, [item], self.now))
        # Then the debt is paid first and only the rest opens a lot; a lot born expired pays no debt
        paid = min(debt, points) if lifetime_days > 0 else 0
        assert movement.delta == points
        assert movement.debt_change == -paid
        assert len(self.account.lots) == lots_before + (1 if points > paid else 0)

    def share_of_available(self, percent: int) -> int:
        """A number of points around the available balance (above it past 100 %), at least 1."""
        return max(1, max(0, self.account.balances(self.now).available) * percent // 100)

    @rule(percent=st.integers(1, 120))
    def spend_points(self, percent: int) -> None:
        points = self.share_of_available(percent)
        before = {lot.lot_id: lot for lot in self.account.lots}
        available = self.account.balances(self.now).available
        try:
            movement = self.apply(spend(self.account, points, self.now))
        except InsufficientPoints:
            # Then spending is refused exactly when it exceeds the available points
            assert points > available
            return
        assert points <= available
        # And the points came from spendable lots only (never pending or expired ones)
        assert sum(-c.change for c in movement.lots) == points
        assert all(before[c.lot_id].spendable(self.now) for c in movement.lots)
        # And soonest-expiring first: every spendable lot expiring before the last one touched is used up
        last = before[movement.lots[-1].lot_id]
        for lot in self.account.lots:
            if lot.spendable(self.now) and lot.lot_id != last.lot_id:
                assert (lot.expires_at, lot.lot_id) > (last.expires_at, last.lot_id)

    @rule(percent=st.integers(1, 120), ttl_minutes=st.sampled_from([5, 60]))
    def hold_points(self, percent: int, ttl_minutes: int) -> None:
        points = self.share_of_available(percent)
        self.next_id += 1
        hold = Hold(f"h{self.next_id}", f"o{self.next_id}", points, self.now + timedelta(minutes=ttl_minutes))
        available = self.account.balances(self.now).available
        open_holds = len([h for h in self.account.holds if h.active(self.now)])
        try:
            self.account = place_hold(self.account, hold, self.now)
        except AppError:
            assert points > available or open_holds >= MAX_OPEN_HOLDS
            return
        assert points <= available
        self.holds[hold.hold_id] = hold

    @precondition(lambda self: bool(self.holds))
    @rule(data=st.data(), quarters=st.integers(1, 4))
    def capture_hold(self, data: st.DataObject, quarters: int) -> None:
        hold = data.draw(st.sampled_from(sorted(self.holds)))
        points = max(1, self.holds[hold].points * quarters // 4)
        active = self.holds[hold].active(self.now)
        try:
            self.apply(capture(self.account, hold, points, self.now))
        except AppError as exc:
            # Then only a lapsed hold, or a debt arisen since the hold, stands in the way
            assert not active or (exc.code == "insufficient_points" and self.account.debt > 0), exc
            if not active:
                del self.holds[hold]
            return
        assert active
        del self.holds[hold]
        # And nothing of it stays held (a smaller capture released the rest)
        assert all(h.hold_id != hold for h in self.account.holds)

    @precondition(lambda self: bool(self.holds))
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        hold = data.draw(st.sampled_from(sorted(self.holds)))
        active = self.holds[hold].active(self.now)
        try:
            self.account = release_hold(self.account, hold, self.now)
        except AppError:
            assert not active
        del self.holds[hold]

    @rule(points=st.integers(1, 400), own_first=st.booleans())
    def reverse_points(self, points: int, own_first: bool) -> None:
        own = [self.account.lots[-1].lot_id] if own_first and self.account.lots else []
        held = self.account.balances(self.now).held
        spendable_before = sum(lot.remaining for lot in self.account.lots if lot.spendable(self.now))
        movement = self.apply(reverse(self.account, points, self.now, own))
        # Then the points left the balance and what could not be taken from the lots is debt
        assert movement.delta == -points
        assert movement.debt_change == points - sum(-c.change for c in movement.lots)
        # And points reserved by open holds were not taken
        spendable = sum(lot.remaining for lot in self.account.lots if lot.spendable(self.now))
        assert spendable >= min(held, spendable_before)

    @rule()
    def run_expiry(self) -> None:
        due = sum(lot.remaining for lot in self.account.lots if lot.expired(self.now))
        account, movement = expire(self.account, self.now)
        # Then exactly the points of expired lots leave, once
        if movement is None:
            assert due == 0
        else:
            self.apply((account, movement))
            assert movement.delta == -due
            assert expire(self.account, self.now) == (self.account, None)

    @rule(step=st.sampled_from([timedelta(minutes=10), timedelta(hours=2), DAY, 3 * DAY]))
    def advance(self, step: timedelta) -> None:
        self.now += step

    @invariant()
    def account_is_consistent(self) -> None:
        account, now = self.account, self.now
        b = account.balances(now)
        spendable = sum(lot.remaining for lot in account.lots if lot.available_at <= now < lot.expires_at)
        pending = sum(lot.remaining for lot in account.lots if now < lot.available_at and now < lot.expires_at)
        held = sum(h.points for h in self.holds.values() if now < h.expires_at)
        assert b.available + b.held == spendable - account.debt
        assert b.pending == pending
        assert b.held == held
        # the balance shown counts live lots only; the account's balance (what the entries sum to) also
        # counts lots past their expiry until an expire entry removes them
        assert b.balance == spendable + pending - account.debt
        assert account.balance == sum(lot.remaining for lot in account.lots) - account.debt
        assert account.balance == sum(m.delta for m in self.movements)
        assert account.debt >= 0
        assert all(0 < lot.remaining <= lot.points for lot in account.lots)
        assert [lot.expires_at for lot in account.lots] == sorted(lot.expires_at for lot in account.lots)
        assert [m.seq for m in self.movements] == list(range(1, account.seq + 1))
        assert sum(m.debt_change for m in self.movements) == account.debt
        running = 0
        for m in self.movements:
            running += m.delta
            assert m.balance_after == running
            if m.kind == "redeem":
                assert m.balance_after >= 0  # a redemption never makes the balance negative


def test_account_invariants_hold_over_random_operation_sequences() -> None:
    run_state_machine_as_test(
        AccountMachine, settings=settings(max_examples=EXAMPLES, stateful_step_count=30, deadline=None)
    )


@st.composite
def redeemed_lots(draw: st.DrawFn, redeemed: int) -> tuple[LotChange, ...]:
    """Where the redeemed points came from: pieces of lots expiring from 30 days before to 400 after T0."""
    pieces: list[LotChange] = []
    left = redeemed
    while left > 0:
        piece = draw(st.integers(1, left))
        pieces.append(LotChange(f"l{len(pieces)}", -piece, T0 + draw(st.integers(-30, 400)) * DAY))
        left -= piece
    return tuple(pieces)


@st.composite
def orders_and_refunds(draw: st.DrawFn) -> tuple[OrderRecord, list[int]]:
    """A paid order (any amounts) and partial refunds that stay within its cash paid."""
    total = draw(st.integers(1, 10**9))
    point_value = draw(st.sampled_from([1, 10, 100]))
    redeemed = draw(st.integers(0, min(total // point_value, 10_000)))
    order = OrderRecord(
        order_id="o1",
        member_id="m1",
        currency="RUB",
        total_minor=total,
        shipping_minor=0,
        tax_minor=0,
        points_redeemed=redeemed,
        point_value_minor=point_value,
        earn_rate_bp=500,
        eligible_minor=total - redeemed * point_value,
        points_earned=draw(st.integers(0, 10**6)),
        paid_at=T0,
        program_version=1,
        redeemed_lots=draw(redeemed_lots(redeemed)),
    )
    amounts: list[int] = []
    left = order.cash_paid_minor
    while left > 0 and draw(st.booleans()):
        amounts.append(draw(st.integers(1, left)))
        left -= amounts[-1]
    return order, amounts


@settings(max_examples=EXAMPLES, deadline=None)
@given(case=orders_and_refunds(), cancel=st.booleans())
def test_refunds_reverse_and_restore_the_cumulative_share(case: tuple[OrderRecord, list[int]], cancel: bool) -> None:
    # Given a paid order and a sequence of partial refunds within the cash paid, maybe then a cancellation
    order, amounts = case
    now = T0 + 10 * DAY
    cash = order.cash_paid_minor
    totals = RefundTotals()
    steps: list[int | None] = [*amounts, None] if cancel else list(amounts)
    for amount in steps:
        # When each refund is planned
        plan = plan_refund(order, totals, amount, now, 30)
        assert plan.reverse_points >= 0 and all(c.points > 0 for c in plan.restore)
        totals = RefundTotals(
            plan.refunded_minor,
            totals.reversed_points + plan.reverse_points,
            totals.restored_points + plan.restored_points,
        )
        # Then the cumulative reversal and restoration are the floor of the cumulative share, all at full refund
        full = amount is None or totals.refunded_minor == cash
        assert totals.reversed_points == (
            order.points_earned if full else order.points_earned * totals.refunded_minor // cash
        )
        assert totals.restored_points == (
            order.points_redeemed if full else order.points_redeemed * totals.refunded_minor // cash
        )
        # And restored lots keep a future original expiry, else get the grace period
        for piece in plan.restore:
            assert piece.expires_at > now
            assert piece.expires_at == now + 30 * DAY or piece.expires_at in {c.expires_at for c in order.redeemed_lots}
