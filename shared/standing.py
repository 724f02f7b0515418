"""A member's standing under the program rules (docs/spec.md §8): spend for tiers, the tier, the post-purchase boost.

Spend is cash paid minus refunds. ``lifetime_spend_minor`` holds it since the first order; ``spend_months`` holds
it per calendar month of the tenant's time zone, so the rolling 12-month basis is the current month and the 11
before it (a month leaves the window whole, on the 1st). Pure: the services store what these return.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from shared.account import Account, ProgramStanding
from shared.program import ProgramSettings, Tier
from shared.rules import Standing, tier_for

WINDOW_MONTHS = 12
KEPT_MONTHS = 13  # the window plus the month that leaves it next


def month_key(at: datetime, zone: str) -> str:
    return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m")


def _months_back(key: str, count: int) -> str:
    year, month = int(key[:4]), int(key[5:])
    index = year * 12 + month - 1 - count
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def rolling_spend(standing: ProgramStanding, at: datetime, zone: str) -> int:
    first = _months_back(month_key(at, zone), WINDOW_MONTHS - 1)
    last = month_key(at, zone)
    return sum(minor for month, minor in standing.spend_months if first <= month <= last)


def spend_for_tiers(standing: ProgramStanding, program: ProgramSettings, at: datetime) -> int:
    if program.tier_basis == "rolling_12m":
        return rolling_spend(standing, at, program.timezone)
    return standing.lifetime_spend_minor


def standing_of(standing: ProgramStanding, program: ProgramSettings, at: datetime) -> Standing:
    """The stored standing as the earning rules see it at ``at``."""
    boosted = standing.boost_until is not None and at < standing.boost_until
    return Standing(
        spend_minor=spend_for_tiers(standing, program, at),
        kept_tier=standing.tier,
        vip=standing.vip,
        boost_active=boosted,
        boost_discount_open=boosted and standing.boost_discount_open,
    )


def _add_spend(standing: ProgramStanding, month: str, minor: int) -> ProgramStanding:
    months = dict(standing.spend_months)
    months[month] = max(0, months.get(month, 0) + minor)
    kept = sorted(months.items())[-KEPT_MONTHS:]
    return replace(
        standing,
        spend_months=tuple((m, v) for m, v in kept if v),
        lifetime_spend_minor=max(0, standing.lifetime_spend_minor + minor),
    )


@dataclass(frozen=True)
class Gained:
    """What a paid order did to the member's standing, kept with the order so that its refund can undo it."""

    tier_before: str | None  # the member's tier before the order: a refund never goes below it
    boost_until: datetime | None  # the end of the boost this order started (None: it started none)


def after_paid(
    account: Account,
    program: ProgramSettings,
    cash_paid_minor: int,
    paid_at: datetime,
    before: Standing,
    starts_boost: bool = True,
) -> Account:
    """Spend grows; the tier is the one reached after the order; a boost starts when none runs (and the order
    reaches the minimum check: ``starts_boost``), or is used."""
    standing = _add_spend(account.standing, month_key(paid_at, program.timezone), cash_paid_minor)
    tier = tier_for(program, replace(before, spend_minor=spend_for_tiers(standing, program, paid_at)))
    account = replace(account, standing=replace(standing, tier=tier.name if tier else None))
    account = account.with_standing(paid_orders=standing.paid_orders + 1)
    boost = program.post_purchase_boost
    if before.boost_active:  # an order inside the boost uses its one discount; it does not extend the boost
        return account.with_standing(boost_discount_open=False)
    if boost is None or not starts_boost:
        return account
    until = paid_at + timedelta(days=boost.days)
    remind = until - timedelta(days=boost.reminder_days_before_end) if boost.reminder_days_before_end else None
    return account.with_standing(boost_until=until, boost_discount_open=True).with_wakeups(boost_remind_at=remind)


def after_refund(
    account: Account,
    program: ProgramSettings,
    refunded_minor: int,
    month: str,
    at: datetime,
    gained: Gained | None = None,
    full: bool = False,
) -> Account:
    """Refunded cash leaves the spend of the order's month (``YYYY-MM``, recorded with the order) and the tier
    follows it down at once: on the lifetime basis to what the spend reaches, on the rolling basis to what the
    rolling spend reaches but never below the tier held before the order (what a review gave is kept). A full
    refund ends the boost the order started, if it still runs. ``gained`` None (orders recorded before it was
    kept): the rolling tier waits for the scheduled review, as it did."""
    standing = _add_spend(account.standing, month, -refunded_minor)
    account = replace(account, standing=standing)
    if full and gained is not None and gained.boost_until is not None and standing.boost_until == gained.boost_until:
        account = account.with_standing(boost_until=None, boost_discount_open=False).with_wakeups(boost_remind_at=None)
    if program.tier_basis == "rolling_12m":
        if gained is None:
            return account
        floor = Standing(spend_minor=rolling_spend(standing, at, program.timezone), kept_tier=gained.tier_before)
        return account.with_standing(tier=_lower(program, standing.tier, tier_for(program, floor)))
    tier = tier_for(program, Standing(spend_minor=standing.lifetime_spend_minor))
    return account.with_standing(tier=tier.name if tier else None)


def _lower(program: ProgramSettings, current: str | None, reached: Tier | None) -> str | None:
    """The lower of the tier held and the one reached (a refund only ever moves a member down)."""
    held = next((t for t in program.tiers if t.name == current), None)
    if held is None or reached is None:  # no tier (or one the program no longer has) is the lowest
        return None
    return reached.name if reached.min_spend_minor < held.min_spend_minor else held.name
