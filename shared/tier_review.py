"""Tier downgrades on the rolling 12-month basis (docs/spec.md §8) as pure functions: when to look, and what is left.

Upgrades happen when an order is paid (``shared.standing.after_paid``); a tier is never lowered there. Rolling
spend only falls when a whole month leaves the window (on the 1st, tenant time) or when an order is refunded, so
a member who holds a tier is evaluated at local midnight on the 1st of each month: a refund's downgrade waits for
it too. The lifetime basis never goes down by time, so it has nothing to evaluate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from shared.account import Account, ProgramStanding
from shared.program import ProgramSettings
from shared.rules import Standing, tier_for
from shared.standing import rolling_spend


@dataclass(frozen=True)
class Review:
    held: str | None
    tier: str | None  # what the member keeps after the evaluation
    spend_minor: int

    @property
    def downgraded(self) -> bool:
        return self.tier != self.held


def first_of_next_month(now: datetime, zone: str) -> datetime:
    local = now.astimezone(ZoneInfo(zone))
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def next_review(account: Account, program: ProgramSettings, now: datetime) -> datetime | None:
    """The account's review wake-up: the 1st of the next month while a tier is held on the rolling basis, or an
    earlier review still pending (a late run must not be skipped by a write in between)."""
    if program.tier_basis != "rolling_12m" or account.standing.tier is None:
        return None
    upcoming = first_of_next_month(now, program.timezone)
    pending = account.wakeups.tier_review_at
    return pending if pending is not None and pending < upcoming else upcoming


def review(standing: ProgramStanding, program: ProgramSettings, now: datetime) -> Review:
    """The tier the rolling spend reaches at ``now``, when it is below the held one; else the held tier stays.

    A held tier the program no longer has is replaced by what the spend reaches (the rules already ignore it)."""
    spend = rolling_spend(standing, now, program.timezone)
    reached = tier_for(program, Standing(spend_minor=spend))
    names = [tier.name for tier in program.tiers]  # sorted by threshold
    if program.tier_basis != "rolling_12m" or standing.tier is None:
        return Review(standing.tier, standing.tier, spend)
    rank = names.index(reached.name) if reached else -1
    if standing.tier in names and rank >= names.index(standing.tier):
        return Review(standing.tier, standing.tier, spend)
    return Review(standing.tier, reached.name if reached else None, spend)
