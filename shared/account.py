"""A member's account: the ledger, the standing under the program, and the scheduler's wake-ups (issue 15 item 5).

They are stored together, as one ``ACCOUNT`` item written under one version (decision 1), because every change to
any of them is one conditional write. They are three types because they change for different reasons: the ledger
(``shared.ledger.Ledger``) by the money-like operations only; the standing by orders, refunds and reviews
(docs/spec.md §8); the wake-ups by the scheduled work, one field per job (docs/spec.md §7). A new scheduled feature
adds a field to ``WakeUps`` (see docs/architecture.md), never to the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from shared.ledger import Ledger, Movement, activate


@dataclass(frozen=True, kw_only=True)
class ProgramStanding:
    """Where the member stands under the program rules; ``shared.standing`` computes it."""

    tier: str | None = None  # reached by spend after the last order, or kept by the last evaluation
    lifetime_spend_minor: int = 0  # cash paid minus refunds since the first order
    spend_months: tuple[tuple[str, int], ...] = ()  # ("YYYY-MM" tenant time, cash minus refunds), last 13 months
    paid_orders: int = 0
    boost_until: datetime | None = None  # a post-purchase boost runs until here
    boost_discount_open: bool = False  # its discount on the next order is still unused
    abc_class: str | None = None  # A | B | C of the last ABC classification

    @property
    def vip(self) -> bool:
        """Class A of the last ABC classification: what the VIP rules and the VIP index go by."""
        return self.abc_class == "A"


@dataclass(frozen=True, kw_only=True)
class WakeUps:
    """When each scheduled job must look at this member next, or what it has done already; each wake-up is in a
    sparse index, so that a job finds its members without a Scan."""

    remind_at: datetime | None = None  # the next reminder stage to look at
    reminded_through: datetime | None = None  # every reminder stage firing up to here has been handled
    activated_through: datetime | None = None  # pending lots available by here have been announced
    birthday_year: int | None = None  # the last (tenant-local) year the birthday bonus was granted
    tier_review_at: datetime | None = None  # the next downgrade evaluation (rolling basis, a tier held)
    boost_remind_at: datetime | None = None  # when to remind of the running boost's end (None: nothing owed)


@dataclass(frozen=True, kw_only=True)
class Account:
    ledger: Ledger
    version: int = 0  # of the stored item: every write is conditional on the version it read
    standing: ProgramStanding = field(default_factory=ProgramStanding)
    wakeups: WakeUps = field(default_factory=WakeUps)

    @classmethod
    def new(cls, member_id: str) -> Account:
        """The account of a member nothing has been written for yet."""
        return cls(ledger=Ledger(member_id=member_id))

    @property
    def member_id(self) -> str:
        return self.ledger.member_id

    @property
    def next_activation(self) -> datetime | None:
        return self.ledger.next_activation(self.wakeups.activated_through)

    def with_ledger(self, ledger: Ledger) -> Account:
        return replace(self, ledger=ledger)

    def with_standing(self, **changes: Any) -> Account:
        return replace(self, standing=replace(self.standing, **changes))

    def with_wakeups(self, **changes: Any) -> Account:
        return replace(self, wakeups=replace(self.wakeups, **changes))


def activated(account: Account, now: datetime) -> tuple[Account, Movement | None]:
    """Announce the pending lots that became spendable since the last run (``shared.ledger.activate``), and keep
    ``now`` as the mark the next run starts from."""
    ledger, movement = activate(account.ledger, account.wakeups.activated_through, now)
    return account.with_ledger(ledger).with_wakeups(activated_through=now), movement
