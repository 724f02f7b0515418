"""Attribution of revenue and cost to campaigns (issue 17 item 2). Pure: no storage, no clock, integers only.

- ``Touch``: a campaign reached a member at ``sent_at`` (a message, a reward without a message, or, for a member of
  the holdout, the assignment that sent nothing: ``holdout_assignment``). Every touch opens an attribution window of
  its campaign's ``attribution_days`` (carried on the touch, as it was when the touch was made).
- ``attribute``: a paid order goes to the last touch whose window holds it: one campaign (and group) per order.
- ``Participation``: one member in one campaign (the store's conditional item under ``conversion_key``): the group,
  whether and by which order the member converted (once per member per campaign) and the member's attributed
  revenue so far, net of refunds: the per-member figure ``shared.experiments.GroupStats`` sums.
- ``join`` / ``convert`` / ``refund``: the state after a touch, an attributed order, a refund, each with the
  ``StatsDelta`` a writer adds to the group's counters (DynamoDB ``ADD``), so reports are maintained on write.
- ``reward_cost``: what a redemption cost the campaigns whose reward lots it consumed (expired points cost nothing).

Revenue is the order's total (``OrderRecord.total_minor``, points paid included), because a campaign's reward is
counted as its cost when spent: revenue net of the points paid would count that discount twice.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal, TypeVar

from shared.experiments import HOLDOUT, GroupStats
from shared.keys import member_scope
from shared.ledger import LotChange, Movement

Channel = Literal["email", "sms"]
MAX_ATTRIBUTION_DAYS = 90  # campaigns' attribution_days upper bound: an order looks at touches this far back
LOOKBACK = timedelta(days=MAX_ATTRIBUTION_DAYS)
K = TypeVar("K", bound=Hashable)


def _check_amounts(*amounts: int) -> None:
    if any(isinstance(a, bool) or not isinstance(a, int) or a < 0 for a in amounts):
        raise ValueError("amounts are non-negative integers")


def _check_time(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("times carry a time zone")


# --- touches and the attribution of an order ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Touch:
    """A campaign reached a member. ``variant``: a variant id, ``HOLDOUT`` (a member of the control group: selected,
    sent nothing), or None (the one treatment of a campaign without variants; ``shared.experiments.assign``'s
    answer). ``channel`` None: nothing was sent (a holdout assignment, or a reward granted without a message).
    ``cost_usd_micros``: the provider's price of the message as the messenger reports it (0 without a message)."""

    tenant: str
    campaign_id: str
    variant: str | None
    member_id: str
    channel: Channel | None
    sent_at: datetime
    attribution_days: int
    cost_usd_micros: int = 0

    def __post_init__(self) -> None:
        _check_time(self.sent_at)
        _check_amounts(self.cost_usd_micros)
        days = self.attribution_days
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_ATTRIBUTION_DAYS:
            raise ValueError(f"attribution_days is 1..{MAX_ATTRIBUTION_DAYS}")
        if self.holdout and (self.channel is not None or self.cost_usd_micros):
            raise ValueError("a holdout assignment sends nothing and costs nothing")

    @property
    def holdout(self) -> bool:
        return self.variant == HOLDOUT

    @property
    def window_end(self) -> datetime:
        return self.sent_at + timedelta(days=self.attribution_days)

    def covers(self, paid_at: datetime) -> bool:
        """An order paid strictly after the touch and at most ``attribution_days`` × 24 h after it."""
        return self.sent_at < paid_at <= self.window_end


def holdout_assignment(*, tenant: str, campaign_id: str, member_id: str, at: datetime, attribution_days: int) -> Touch:
    """The control group's touch: recorded when the member is selected and assigned to the holdout, at the moment a
    treated member would have been sent the message, so that the holdout's purchases in the same window count for
    the holdout group exactly as the treated members' count for theirs (the incremental revenue needs both)."""
    return Touch(
        tenant=tenant,
        campaign_id=campaign_id,
        variant=HOLDOUT,
        member_id=member_id,
        channel=None,
        sent_at=at,
        attribution_days=attribution_days,
    )


def tie_key(touch: Touch) -> tuple[datetime, str, str, str]:
    """The order among touches: the latest ``sent_at``; at the same instant the greatest campaign id, then variant,
    then channel (text order; "" for None). Storage order never decides."""
    return touch.sent_at, touch.campaign_id, touch.variant or "", touch.channel or ""


def attribute(order_paid_at: datetime, member_touches: Iterable[Touch]) -> Touch | None:
    """The touch a paid order is attributed to: the last (``tie_key``) of the member's touches whose window covers
    ``order_paid_at`` (each by its own campaign's ``attribution_days``); None if none does. A holdout assignment is a
    touch like any other: a holdout member's order goes to the holdout unless a later touch took it. The touches
    needed are those sent since ``order_paid_at - LOOKBACK``."""
    _check_time(order_paid_at)
    covering = [t for t in member_touches if t.covers(order_paid_at)]
    return max(covering, key=tie_key, default=None)


# --- one member in one campaign -----------------------------------------------------------------------------------


def conversion_key(campaign_id: str, member_id: str) -> tuple[str, str]:
    """(scope, sort key) of a member's ``Participation`` in a campaign: in the member's partition, one per campaign,
    so "converted once" is a condition on one item. (To move into shared/keys.py when the store is written.)"""
    return member_scope(member_id), f"CAMPAIGN#{campaign_id}"


@dataclass(frozen=True, kw_only=True)
class StatsDelta:
    """What one write adds to a group's counters (``GroupStats``' fields; may be negative: a refund)."""

    members: int = 0
    converted: int = 0
    revenue_minor_sum: int = 0
    revenue_minor_sumsq: int = 0
    cost_minor_sum: int = 0

    def apply(self, stats: GroupStats) -> GroupStats:
        return GroupStats(
            members=stats.members + self.members,
            converted=stats.converted + self.converted,
            revenue_minor_sum=stats.revenue_minor_sum + self.revenue_minor_sum,
            revenue_minor_sumsq=stats.revenue_minor_sumsq + self.revenue_minor_sumsq,
            cost_minor_sum=stats.cost_minor_sum + self.cost_minor_sum,
        )


def _revenue_delta(before: int, after: int, converted: int = 0) -> StatsDelta:
    return StatsDelta(
        converted=converted, revenue_minor_sum=after - before, revenue_minor_sumsq=after * after - before * before
    )


@dataclass(frozen=True, kw_only=True)
class Participation:
    """A member in a campaign, from the first touch on: the group (frozen: assignment never moves a member), the
    first attributed order (the conversion; None: not converted) and the attributed revenue so far, net of refunds.
    ``revenue_minor`` is this member's value in the group's revenue sums."""

    tenant: str
    campaign_id: str
    variant: str | None
    member_id: str
    since: datetime
    converted_order_id: str | None = None
    converted_at: datetime | None = None
    orders: int = 0
    revenue_minor: int = 0

    @property
    def converted(self) -> bool:
        return self.converted_order_id is not None

    @property
    def key(self) -> tuple[str, str]:
        return conversion_key(self.campaign_id, self.member_id)


def _same_group(state: Participation, touch: Touch) -> None:
    ours = (state.tenant, state.campaign_id, state.member_id)
    if ours != (touch.tenant, touch.campaign_id, touch.member_id):
        raise ValueError("the touch is another member's or another campaign's")
    if state.variant != touch.variant:
        raise ValueError("a member's group in a campaign never changes (decision 99)")


def join(state: Participation | None, touch: Touch) -> tuple[Participation, StatsDelta]:
    """The participation after a touch: the first touch counts the member in the group (``members`` + 1); a later
    touch of the same campaign (a win-back after its cooldown, next year's birthday) changes nothing."""
    if state is not None:
        _same_group(state, touch)
        return state, StatsDelta()
    joined = Participation(
        tenant=touch.tenant,
        campaign_id=touch.campaign_id,
        variant=touch.variant,
        member_id=touch.member_id,
        since=touch.sent_at,
    )
    return joined, StatsDelta(members=1)


@dataclass(frozen=True, kw_only=True)
class Conversion:
    """A paid order attributed to a campaign (kept with the order, so that its refunds find it). ``first``: it is the
    member's conversion for this campaign; later orders add revenue, not conversions. ``revenue_minor`` is the order
    total (points paid included), ``cash_paid_minor`` the part paid in money (what refunds are counted in)."""

    tenant: str
    campaign_id: str
    variant: str | None
    member_id: str
    order_id: str
    paid_at: datetime
    revenue_minor: int
    cash_paid_minor: int
    first: bool

    def __post_init__(self) -> None:
        _check_time(self.paid_at)
        _check_amounts(self.revenue_minor, self.cash_paid_minor)
        if self.cash_paid_minor > self.revenue_minor:
            raise ValueError("the cash paid is part of the order's total")


def convert(
    state: Participation | None,
    touch: Touch,
    *,
    order_id: str,
    paid_at: datetime,
    revenue_minor: int,
    cash_paid_minor: int,
) -> tuple[Participation, Conversion, StatsDelta]:
    """An order ``attribute`` gave to ``touch``: the participation after it, the order's ``Conversion`` and the
    counters' change. The first attributed order converts the member (``converted`` + 1, once per member per
    campaign); every attributed order adds its revenue to the member's (so ``GroupStats`` sees the member's whole
    attributed revenue in the window, for the holdout and the treated alike). A replayed order is the store's
    business (a conditional put under the order), not checked here."""
    if not touch.covers(paid_at):
        raise ValueError("the order is outside the touch's attribution window")
    joined, delta = join(state, touch)
    first = not joined.converted
    conversion = Conversion(
        tenant=touch.tenant,
        campaign_id=touch.campaign_id,
        variant=touch.variant,
        member_id=touch.member_id,
        order_id=order_id,
        paid_at=paid_at,
        revenue_minor=revenue_minor,
        cash_paid_minor=cash_paid_minor,
        first=first,
    )
    after = replace(
        joined,
        converted_order_id=order_id if first else joined.converted_order_id,
        converted_at=paid_at if first else joined.converted_at,
        orders=joined.orders + 1,
        revenue_minor=joined.revenue_minor + revenue_minor,
    )
    change = _revenue_delta(joined.revenue_minor, after.revenue_minor, converted=int(first))
    return after, conversion, replace(change, members=delta.members)


# --- refunds ------------------------------------------------------------------------------------------------------


def kept_revenue(
    revenue_minor: int, refunded_minor: int, *, cash_paid_minor: int | None = None, cancelled: bool = False
) -> int:
    """The revenue of an attributed order that stays after refunds of ``refunded_minor`` in all (the ledger's
    cumulative cash refunded, ``RefundRecord.refunded_minor``). Refunds are counted in cash and give back the points
    paid in the same share (``shared.orders.plan_refund``), so the order total shrinks by the refunded share of the
    cash: ``revenue × (cash − refunded) ÷ cash``, rounded down (revenue is never overstated); without points paid
    (``cash_paid_minor`` None: all cash) that is ``revenue − refunded``. A full refund or a cancellation leaves 0
    (an order paid entirely in points can only be cancelled). Never below 0, never above the revenue."""
    cash = revenue_minor if cash_paid_minor is None else cash_paid_minor
    _check_amounts(revenue_minor, refunded_minor, cash)
    if cash > revenue_minor:
        raise ValueError("the cash paid is part of the order's total")
    if cancelled or (cash and refunded_minor >= cash):
        return 0
    if not cash:
        return revenue_minor
    return revenue_minor * (cash - refunded_minor) // cash


def refund(
    state: Participation, conversion: Conversion, refunded_before: int, refunded_after: int, *, cancelled: bool = False
) -> tuple[Participation, StatsDelta]:
    """A refund of an attributed order: the member's revenue loses what the order no longer keeps (cumulative
    refunded ``refunded_before`` → ``refunded_after``). The conversion stays (the member did respond; decision 100),
    and a refunded amount that goes down (a delivery out of order) takes nothing back."""
    if conversion.member_id != state.member_id or conversion.campaign_id != state.campaign_id:
        raise ValueError("the order is another member's or another campaign's")

    def kept(refunded: int, whole: bool) -> int:
        return kept_revenue(
            conversion.revenue_minor, refunded, cash_paid_minor=conversion.cash_paid_minor, cancelled=whole
        )

    lost = max(0, kept(refunded_before, False) - kept(max(refunded_before, refunded_after), cancelled))
    after = replace(state, revenue_minor=max(0, state.revenue_minor - lost))
    return after, _revenue_delta(state.revenue_minor, after.revenue_minor)


# --- cost ---------------------------------------------------------------------------------------------------------


def reward_cost(consumed: Iterable[LotChange], origins: Mapping[str, K], point_value_minor: int) -> dict[K, int]:
    """What a redemption cost each campaign (or each campaign's group: the caller's ``origins`` key): points taken
    from a lot that a campaign granted (``origins[lot_id]``) × ``point_value_minor``. Lots of no campaign (orders,
    promos, refunds) cost no campaign anything; positive changes (a lot credited) are no spending."""
    _check_amounts(point_value_minor)
    cost: dict[K, int] = {}
    for change in consumed:
        origin = origins.get(change.lot_id)
        if origin is not None and change.change < 0:
            cost[origin] = cost.get(origin, 0) - change.change * point_value_minor
    return cost


def movement_reward_cost(movement: Movement, origins: Mapping[str, K], point_value_minor: int) -> dict[K, int]:
    """``reward_cost`` of a ledger entry: only a redemption spends. Points that expire cost nothing (breakage), points
    taken back by a refund's reversal or moved by a transfer are not spent on anything (a transferred reward leaves
    its campaign: its lot in the receiver's account has source "transfer")."""
    if movement.kind != "redeem":
        return {}
    return reward_cost(movement.lots, origins, point_value_minor)


def cost_delta(cost_minor: int) -> StatsDelta:
    """The counters' change for a group's reward cost (``reward_cost``'s value for that group)."""
    _check_amounts(cost_minor)
    return StatsDelta(cost_minor_sum=cost_minor)


def usd_micros_in_minor(cost_usd_micros: int, minor_per_usd: int) -> int:
    """Messages' provider cost in the tenant's minor units at a rate of ``minor_per_usd`` minor units per dollar
    (9,000 kopecks = 90 ₽): for a report's sum of a group's touches, converted once, rounded half up."""
    _check_amounts(cost_usd_micros, minor_per_usd)
    return (2 * cost_usd_micros * minor_per_usd + 1_000_000) // 2_000_000


def revenue_by_campaign(conversions: Sequence[Conversion]) -> dict[str, int]:
    """Attributed revenue per campaign before refunds (a report's check: it never exceeds the orders' revenue)."""
    total: dict[str, int] = {}
    for conversion in conversions:
        total[conversion.campaign_id] = total.get(conversion.campaign_id, 0) + conversion.revenue_minor
    return total
