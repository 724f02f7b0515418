"""SPEC §3 invariants with transfers (issue 5 item 9): two members, random credits, spends, reversals,
expiry runs, clock moves and transfers both ways. A transfer moves points, it never makes or loses one."""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from shared.errors import InsufficientPoints
from shared.ledger import Account, Credit, Movement, credit, expire, reverse, spend
from shared.transfers import move_points

EXAMPLES = int(os.environ.get("HYPOTHESIS_DOMAIN_EXAMPLES", "1000"))
T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
MEMBERS = ("a", "b")


class TwoMembers(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.accounts = {m: Account(m) for m in MEMBERS}
        self.movements: dict[str, list[Movement]] = {m: [] for m in MEMBERS}
        self.outside = 0  # points that entered (+) or left (-) the pair other than by a transfer
        self.now = T0

    def apply(self, member: str, result: tuple[Account, Movement | None]) -> None:
        self.accounts[member], movement = result
        if movement is not None:
            self.movements[member].append(movement)
            if not movement.kind.startswith("transfer"):
                self.outside += movement.delta

    @rule(member=st.sampled_from(MEMBERS), points=st.integers(1, 300), days=st.sampled_from([1, 5, 365]))
    def earn(self, member: str, points: int, days: int) -> None:
        item = Credit(points, "order", self.now, self.now + days * DAY)
        self.apply(member, credit(self.accounts[member], "earn", [item], self.now))

    @rule(member=st.sampled_from(MEMBERS), points=st.integers(1, 300))
    def redeem(self, member: str, points: int) -> None:
        try:
            self.apply(member, spend(self.accounts[member], points, self.now))
        except InsufficientPoints:
            pass

    @rule(member=st.sampled_from(MEMBERS), points=st.integers(1, 200))
    def take_back(self, member: str, points: int) -> None:
        self.apply(member, reverse(self.accounts[member], points, self.now))

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
            s, out, r, incoming = move_points(before[0], before[1], points, self.now)
        except InsufficientPoints:
            assert before[0].balances(self.now).available < points
            return
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
