"""docs/spec.md §3 invariants with transfers (issue 5 item 9): two members, random credits, spends, reversals,
expiry runs, clock moves and transfers both ways. A transfer moves points, it never makes or loses one.

Issue 13 item 12: points of an order (or its promo or referral) younger than the return window never leave, so
cancelling that order can always take its points back from its own lot, with no debt left behind."""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from shared.errors import InsufficientPoints, Unprocessable
from shared.ledger import Credit, Ledger, Lot, Movement, credit, expire, reverse, spend
from shared.transfers import move_points, settled, transferable

EXAMPLES = int(os.environ.get("HYPOTHESIS_DOMAIN_EXAMPLES", "1000"))
T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
MEMBERS = ("a", "b")
WINDOW = 14 * DAY  # transfer.min_lot_age_days
SOURCES = ("order", "promo", "referral", "grant", "birthday", "refund")


class TwoMembers(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.accounts = {m: Ledger(m) for m in MEMBERS}
        self.movements: dict[str, list[Movement]] = {m: [] for m in MEMBERS}
        self.outside = 0  # points that entered (+) or left (-) the pair other than by a transfer
        self.now = T0
        # order lots nothing but a transfer could have touched since they were earned (a spend or reversal may)
        self.intact: dict[str, set[str]] = {m: set() for m in MEMBERS}

    def apply(self, member: str, result: tuple[Ledger, Movement | None]) -> None:
        self.accounts[member], movement = result
        if movement is not None:
            self.movements[member].append(movement)
            if not movement.kind.startswith("transfer"):
                self.outside += movement.delta

    @rule(
        member=st.sampled_from(MEMBERS),
        points=st.integers(1, 300),
        days=st.sampled_from([1, 5, 365]),
        source=st.sampled_from(SOURCES),
    )
    def earn(self, member: str, points: int, days: int, source: str) -> None:
        item = Credit(points, source, self.now, self.now + days * DAY)
        owed = self.accounts[member].debt
        self.apply(member, credit(self.accounts[member], "earn", [item], self.now))
        if source == "order" and owed == 0:  # (a debt takes its share of the new lot first)
            self.intact[member].add(str(self.accounts[member].seq))

    @rule(member=st.sampled_from(MEMBERS), points=st.integers(1, 300))
    def redeem(self, member: str, points: int) -> None:
        try:
            self.apply(member, spend(self.accounts[member], points, self.now))
        except InsufficientPoints:
            pass
        self.intact[member].clear()

    @rule(member=st.sampled_from(MEMBERS), points=st.integers(1, 200))
    def take_back(self, member: str, points: int) -> None:
        self.apply(member, reverse(self.accounts[member], points, self.now))
        self.intact[member].clear()

    @rule(member=st.sampled_from(MEMBERS), pick=st.integers(0, 10))
    def cancel_recent_order(self, member: str, pick: int) -> None:
        """An order still in its return window is cancelled: its own lot pays the whole reversal, no debt."""
        recent = [lot for lot in self._intact_lots(member) if not settled(lot, self.now, WINDOW)]
        if not recent:
            return
        lot = recent[pick % len(recent)]
        self.apply(member, reverse(self.accounts[member], lot.points, self.now, (lot.lot_id,)))
        assert self.movements[member][-1].debt_change == 0
        self.intact[member].clear()  # other intact lots are untouched, but keep the bookkeeping simple

    @rule(days=st.integers(1, 10))
    def time_passes(self, days: int) -> None:
        self.now += days * DAY
        for member in MEMBERS:  # every write expires due lots first, as the services do
            self.apply(member, expire(self.accounts[member], self.now))

    @rule(sender=st.sampled_from(MEMBERS), points=st.integers(1, 400))
    def send(self, sender: str, points: int) -> None:
        recipient = next(m for m in MEMBERS if m != sender)
        before = (self.accounts[sender], self.accounts[recipient])
        try:
            s, out, r, incoming = move_points(before[0], before[1], points, self.now, min_lot_age=WINDOW)
        except InsufficientPoints:
            assert before[0].balances(self.now).available < points
            return
        except Unprocessable as refused:  # enough points, but not enough past the return window
            assert refused.code == "points_not_yet_transferable"
            assert transferable(before[0], self.now, WINDOW) < points <= before[0].balances(self.now).available
            return
        # Then only settled lots gave points, and every lot still in its return window stayed whole
        by_id = {lot.lot_id: lot for lot in before[0].lots}
        assert all(settled(by_id[change.lot_id], self.now, WINDOW) for change in out.lots)
        assert {lot for lot in before[0].lots if not settled(lot, self.now, WINDOW)} <= set(s.lots)
        assert out.balance_after == s.balance
        # Then as much leaves one side as arrives on the other, with the same expiry dates
        assert out.delta == -points and incoming.delta == points
        taken: Counter[datetime] = Counter()
        arrived: Counter[datetime] = Counter()
        for change in out.lots:
            taken[change.expires_at] -= change.change
        for change in incoming.lots:
            arrived[change.expires_at] += change.change
        # (a recipient's debt is paid first, from the soonest-expiring points; the rest keeps its dates)
        assert sum(arrived.values()) - incoming.debt_change == points == sum(taken.values())
        assert all(0 < arrived[e] <= taken[e] for e in arrived)
        self.accounts[sender], self.accounts[recipient] = s, r
        self.movements[sender].append(out)
        self.movements[recipient].append(incoming)

    def _intact_lots(self, member: str) -> list[Lot]:
        return [lot for lot in self.accounts[member].lots if lot.lot_id in self.intact[member]]

    @invariant()
    def recent_order_lots_are_whole(self) -> None:
        for member in MEMBERS:
            for lot in self._intact_lots(member):
                assert lot.remaining == lot.points or settled(lot, self.now, WINDOW)

    @invariant()
    def balances_agree(self) -> None:
        for member in MEMBERS:
            account = self.accounts[member]
            assert account.balance == sum(lot.remaining for lot in account.lots) - account.debt
            assert account.balance == sum(m.delta for m in self.movements[member])
            assert all(lot.remaining > 0 for lot in account.lots)

    @invariant()
    def transfers_conserve_the_pair_total(self) -> None:
        assert sum(a.balance for a in self.accounts.values()) == self.outside


def test_transfers_keep_the_ledger_invariants_for_both_members() -> None:
    run_state_machine_as_test(
        TwoMembers, settings=settings(max_examples=max(50, EXAMPLES // 5), stateful_step_count=30, deadline=None)
    )
