"""Who a campaign is for, and when (issue 17 item 1): the audience rules of ``win_back``, ``feedback_request`` and
``personal_offer`` over a member's buying summary. Pure: no storage, no clock, no schedule; the sweep stores what
these return (the due times go into sparse due indexes, as ``shared.scheduled_jobs`` describes).

The buying summary is what the rules need and the account did not keep before (``ProgramStanding`` keeps money, not
visits): the number of paid orders, the first and the last paid order's time, and in how many orders each category
was bought. It is maintained on write (``after_paid``) and never read back from the ledger. A refund or a
cancellation of a paid order leaves it as it is: it counts visits and interests, not money (decision in
docs/decisions.md, "Audiences").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from shared.money import BP
from shared.rules import Line

if TYPE_CHECKING:  # the campaigns' pydantic models are only read here, never built
    from shared.campaigns import OfferAudience, WinBackAudience

MAX_CATEGORIES = 20  # kept per member: the most bought; beyond it the rarest leave (bytes on the ACCOUNT item)
PERSONAL_MIN_ORDERS = 3  # from this many orders a member's own interval can replace ``inactive_days``
PERSONAL_FLOOR = timedelta(days=7)  # three orders in an hour do not make a member asleep an hour later
PERSONAL_CEILING = timedelta(days=730)  # two years without an order is asleep, whatever the member's rhythm
FEEDBACK_AT = time(10, 0)  # tenant time: inside the SMS window (09:00-21:00), after the morning rush
FEEDBACK_STALE = timedelta(days=2)  # a request the sweep could not send by then is dropped, not sent late
RARE_SHARE = 4  # a category bought in at most 1/4 as many orders as the favourite counts as rarely bought
MAX_STACKED_BP = 100_000  # a line's category multiplier x the offer's multiplier never exceeds x10


@dataclass(frozen=True, kw_only=True)
class BuyingSummary:
    """A member's buying as the audience rules see it. ``orders`` counts paid orders since ``first_paid_at`` (a
    refund does not take one back); ``categories`` is (category, orders that had it), by category."""

    orders: int = 0
    first_paid_at: datetime | None = None
    last_paid_at: datetime | None = None
    categories: tuple[tuple[str, int], ...] = ()

    def bought(self, category: str) -> int:
        """In how many kept orders the member bought ``category`` (0: never, or one of the rarest dropped)."""
        return dict(self.categories).get(category, 0)


def after_paid(summary: BuyingSummary, paid_at: datetime, categories: Iterable[str | None] = ()) -> BuyingSummary:
    """One more paid order at ``paid_at`` with lines in ``categories`` (each counted once per order; None ignored).
    Orders may arrive out of time order (a late webhook): first and last are the earliest and latest seen."""
    counts = dict(summary.categories)
    for category in {c for c in categories if c}:
        counts[category] = counts.get(category, 0) + 1
    return replace(
        summary,
        orders=summary.orders + 1,
        first_paid_at=min(summary.first_paid_at or paid_at, paid_at),
        last_paid_at=max(summary.last_paid_at or paid_at, paid_at),
        categories=_kept(counts),
    )


def _kept(counts: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    """The ``MAX_CATEGORIES`` most bought (ties: by name), sorted by name."""
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:MAX_CATEGORIES]
    return tuple(sorted(top))


# -- win_back ---------------------------------------------------------------------------------------------------


def asleep_after(summary: BuyingSummary, audience: WinBackAudience) -> timedelta:
    """How long after the last order a member is asleep: with ``interval_factor_bp`` and >= 3 orders, their own mean
    interval between orders x the factor (clamped to 7..730 days), replacing ``inactive_days``; else ``inactive_days``.
    Integer seconds: the same summary gives the same answer everywhere."""
    first, last = summary.first_paid_at, summary.last_paid_at
    factor = audience.interval_factor_bp
    if factor is None or summary.orders < PERSONAL_MIN_ORDERS or first is None or last is None:
        return timedelta(days=audience.inactive_days)
    span = (last - first) // timedelta(seconds=1)
    own = timedelta(seconds=span * factor // ((summary.orders - 1) * BP))
    return min(max(own, PERSONAL_FLOOR), PERSONAL_CEILING)


def asleep_at(summary: BuyingSummary, audience: WinBackAudience) -> datetime | None:
    """When the member falls asleep if they buy nothing more (None: never bought, nothing to win back)."""
    if summary.last_paid_at is None:
        return None
    return summary.last_paid_at + asleep_after(summary, audience)


def win_back_due_at(
    summary: BuyingSummary, audience: WinBackAudience, last_win_back_at: datetime | None
) -> datetime | None:
    """The member's time in the win-back due index: asleep, and ``cooldown_days`` after the last win-back."""
    asleep = asleep_at(summary, audience)
    if asleep is None:
        return None
    if last_win_back_at is None:
        return asleep
    return max(asleep, last_win_back_at + timedelta(days=audience.cooldown_days))


def win_back_due(
    summary: BuyingSummary, audience: WinBackAudience, last_win_back_at: datetime | None, now: datetime
) -> bool:
    """Select the member now: asleep and out of the cooldown."""
    due = win_back_due_at(summary, audience, last_win_back_at)
    return due is not None and due <= now


def still_asleep(summary_at_send: BuyingSummary, audience: WinBackAudience, selected_at: datetime) -> bool:
    """The re-check just before sending, on the summary read again: the member was asleep at ``selected_at`` by
    what is known now. An order paid after the selection (or one recorded late that wakes them) cancels the send."""
    asleep = asleep_at(summary_at_send, audience)
    return asleep is not None and asleep <= selected_at


# -- feedback_request -------------------------------------------------------------------------------------------


def feedback_request_due(
    paid_at: datetime,
    zone: ZoneInfo,
    last_request_at: datetime | None,
    cooldown_days: int,
    at: time = FEEDBACK_AT,
) -> datetime | None:
    """When to ask about an order paid at ``paid_at``: the next tenant-local day at ``at``; None inside the
    cooldown after the last request (sent or scheduled): that order is not asked about, never asked later."""
    day = paid_at.astimezone(zone).date() + timedelta(days=1)
    due = datetime.combine(day, at, zone).astimezone(UTC)
    if last_request_at is not None and due < last_request_at + timedelta(days=cooldown_days):
        return None
    return due


def feedback_request_fresh(due_at: datetime, now: datetime) -> bool:
    """Still worth sending at ``now`` (a sweep that was down does not ask about last week's order)."""
    return due_at <= now < due_at + FEEDBACK_STALE


# -- personal_offer ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Offer:
    """ "xN points on ``category`` until ``until``" (tenant-local date, inclusive): applies to orders paid in
    [starts_at, ends_at)."""

    category: str
    multiplier_bp: int
    starts_at: datetime
    ends_at: datetime
    until: date

    def applies(self, paid_at: datetime) -> bool:
        return self.starts_at <= paid_at < self.ends_at


def offered_category(summary: BuyingSummary, popular: Sequence[str]) -> str | None:
    """The tenant's most popular category (``popular``: most popular first) the member never buys or rarely buys
    (in at most 1/4 as many orders as their favourite); None if the member has no favourite yet or buys them all."""
    favourite = max((count for _, count in summary.categories), default=0)
    if favourite == 0:
        return None
    rare = [c for c in dict.fromkeys(popular) if summary.bought(c) * RARE_SHARE <= favourite]
    never = [c for c in rare if summary.bought(c) == 0]
    return next(iter(never or rare), None)


def personal_offer(
    summary: BuyingSummary,
    audience: OfferAudience,
    popular: Sequence[str],
    zone: ZoneInfo,
    now: datetime,
    current: Offer | None = None,
) -> Offer | None:
    """A new offer for the member at ``now``: none before ``min_orders`` orders, none while ``current`` runs; it
    starts now and runs through the tenant-local date ``days`` days later."""
    if summary.orders < audience.min_orders or (current is not None and now < current.ends_at):
        return None
    category = offered_category(summary, popular)
    if category is None:
        return None
    until = now.astimezone(zone).date() + timedelta(days=audience.days)
    ends_at = datetime.combine(until + timedelta(days=1), time(0, 0), zone).astimezone(UTC)
    return Offer(category=category, multiplier_bp=audience.multiplier_bp, starts_at=now, ends_at=ends_at, until=until)


def offer_factor(
    lines: Sequence[Line], offer: Offer | None, category_multipliers: Mapping[str, int], paid_at: datetime
) -> tuple[int, int]:
    """The offer as one more multiplier of the rules engine (``shared.rules._multiplied``), applied right after the
    category multipliers and like them weighted by the lines' amounts: (numerator, denominator) relative to the
    category-weighted points. A line of the offered category gets category x offer, capped at x10 together; (1, 1)
    when the offer does not apply."""
    if offer is None or not offer.applies(paid_at) or all(line.category != offer.category for line in lines):
        return 1, 1
    weighted = num = 0
    for line in lines:
        category = category_multipliers.get(line.category or "", BP)
        boost = offer.multiplier_bp if line.category == offer.category else BP
        weighted += line.amount_minor * category * BP
        num += line.amount_minor * min(category * boost, MAX_STACKED_BP * BP)
    if weighted == 0 or num == weighted:
        return 1, 1
    return num, weighted
