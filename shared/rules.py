"""What a paid order earns under the tenant's program rules (docs/spec.md §8), explained rule by rule. Pure: no I/O.

Order of the rules, each one a line of the breakdown:
1. ``min_check``: an order whose eligible amount is below ``min_check_minor`` earns nothing at all.
2. ``base`` / ``tier`` / ``vip``: the earn rate (the tier reached by spend *before* the order; VIP class A
   members earn the VIP rate when it is higher).
3. ``category``, ``happy_hour``, ``boost``: multipliers. They multiply, and the result is floored once per
   order: each line is the cumulative floor minus the one before, so the lines always add up to that one floor.
4. ``combo``: bonus points when every SKU of a combo is in the order, once per combo.
5. ``promotion``: each active promo earns its own points on its own eligible share, in a lot of its own.

The eligible amount (docs/spec.md §2: cash paid for goods) is spread over the items in proportion to their amounts, so
a category multiplier or a promo's categories weigh the cash actually paid, discounts and points included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared.money import BP, eligible_minor, points_for
from shared.program import WEEKDAYS, HappyHour, ProgramSettings, Promotion, Tier

ONE = BP  # a multiplier of ×1 in basis points


@dataclass(frozen=True)
class Line:
    """One order line: ``amount_minor`` is what the line cost in all (quantity included)."""

    sku: str
    category: str | None
    quantity: int
    amount_minor: int


@dataclass(frozen=True)
class Cart:
    total_minor: int
    shipping_minor: int = 0
    tax_minor: int = 0
    lines: tuple[Line, ...] = ()


@dataclass(frozen=True)
class Standing:
    """The member as the rules see them before the order."""

    spend_minor: int = 0  # on the tenant's tier basis
    kept_tier: str | None = None  # the tier the last evaluation left them in (rolling basis)
    vip: bool = False  # class A of the last ABC classification
    boost_active: bool = False  # inside a post-purchase boost at the order's time
    boost_discount_open: bool = False  # the boost's discount has not been used yet


@dataclass(frozen=True)
class PromoEarning:
    promo_id: str
    points: int
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class Earning:
    eligible_minor: int
    points: int  # the permanent program's lot: rate × multipliers, floored once, plus combos
    rate_bp: int
    tier: str | None
    promos: tuple[PromoEarning, ...] = ()
    breakdown: tuple[dict[str, Any], ...] = ()

    @property
    def total_points(self) -> int:
        return self.points + sum(p.points for p in self.promos)


@dataclass(frozen=True)
class Discounts:
    tier_discount_minor: int
    boost_discount_minor: int


def tier_for(program: ProgramSettings, standing: Standing) -> Tier | None:
    """The highest tier whose threshold the spend reaches; on a rolling basis, never below the kept tier."""
    reached = [tier for tier in program.tiers if tier.min_spend_minor <= standing.spend_minor]
    best = reached[-1] if reached else None  # tiers are sorted by threshold
    kept = next((t for t in program.tiers if t.name == standing.kept_tier), None)
    if program.tier_basis == "rolling_12m" and kept and (best is None or kept.min_spend_minor > best.min_spend_minor):
        return kept
    return best


def next_tier(program: ProgramSettings, standing: Standing) -> tuple[Tier, int] | None:
    """The tier above the member's and the spend still needed to reach it (None: at the top, or no tiers). On a
    rolling basis a kept tier counts as the member's, so the next one is above it, measured on the rolling spend."""
    current = tier_for(program, standing)
    floor = current.min_spend_minor if current else -1
    above = [tier for tier in program.tiers if tier.min_spend_minor > floor]
    if not above:
        return None
    return above[0], max(0, above[0].min_spend_minor - standing.spend_minor)


def earn(cart: Cart, points_redeemed: int, program: ProgramSettings, standing: Standing, paid_at: datetime) -> Earning:
    eligible = eligible_minor(
        cart.total_minor, cart.shipping_minor, cart.tax_minor, points_redeemed, program.point_value_minor
    )
    tier = tier_for(program, standing)
    rate, rate_line = _rate(program, standing, tier)
    if eligible < program.min_check_minor:
        line = {"rule": "min_check", "min_check_minor": program.min_check_minor, "points": 0}
        return Earning(
            eligible_minor=eligible,
            points=0,
            rate_bp=rate,
            tier=tier.name if tier else None,
            promos=(),
            breakdown=(line,),
        )
    lines, points = _multiplied(cart, eligible, rate, rate_line, program, standing, paid_at)
    for combo_line in _combos(cart, program):
        lines.append(combo_line)
        points += combo_line["points"]
    promos = tuple(_promotions(cart, eligible, program, paid_at))
    lines += [{"rule": "promotion", "id": p.promo_id, "points": p.points} for p in promos]
    return Earning(
        eligible_minor=eligible,
        points=points,
        rate_bp=rate,
        tier=tier.name if tier else None,
        promos=promos,
        breakdown=tuple(lines),
    )


def discounts(cart: Cart, program: ProgramSettings, standing: Standing) -> Discounts:
    """The discount program: the tier's (or VIP's, when larger) share off the goods, and the boost's once."""
    goods = eligible_minor(cart.total_minor, cart.shipping_minor, cart.tax_minor, 0, program.point_value_minor)
    tier = tier_for(program, standing)
    tier_bp = tier.discount_bp if tier else 0
    if standing.vip and program.vip:
        tier_bp = max(tier_bp, program.vip.discount_bp)
    boost = program.post_purchase_boost
    boost_bp = boost.discount_bp if boost and standing.boost_active and standing.boost_discount_open else 0
    return Discounts(goods * tier_bp // BP, goods * boost_bp // BP)


def _rate(program: ProgramSettings, standing: Standing, tier: Tier | None) -> tuple[int, dict[str, Any]]:
    rate, line = program.earn_rate_bp, {"rule": "base", "rate_bp": program.earn_rate_bp}
    if tier is not None:
        rate, line = tier.earn_rate_bp, {"rule": "tier", "tier": tier.name, "rate_bp": tier.earn_rate_bp}
    if standing.vip and program.vip and program.vip.earn_rate_bp > rate:
        rate, line = program.vip.earn_rate_bp, {"rule": "vip", "rate_bp": program.vip.earn_rate_bp}
    return rate, line


def _multiplied(
    cart: Cart,
    eligible: int,
    rate: int,
    rate_line: dict[str, Any],
    program: ProgramSettings,
    standing: Standing,
    paid_at: datetime,
) -> tuple[list[dict[str, Any]], int]:
    """The rate and each multiplier as a rational factor; every line is a cumulative floor minus the last."""
    num, den = eligible * rate, BP * program.point_value_minor
    points = points_for(eligible, rate, program.point_value_minor)  # == num // den
    lines = [{**rate_line, "points": points}]
    factors: list[tuple[dict[str, Any], int, int]] = []
    weighted, amount = _category_weight(cart, program)
    if weighted != amount:
        factors.append(({"rule": "category"}, weighted, amount * ONE))
    happy = happy_hour(program, paid_at)
    if happy is not None and happy.multiplier_bp != ONE:
        factors.append(({"rule": "happy_hour", "multiplier_bp": happy.multiplier_bp}, happy.multiplier_bp, ONE))
    boost = program.post_purchase_boost
    if boost and standing.boost_active and boost.multiplier_bp != ONE:
        factors.append(({"rule": "boost", "multiplier_bp": boost.multiplier_bp}, boost.multiplier_bp, ONE))
    for line, factor_num, factor_den in factors:
        num, den = num * factor_num, den * factor_den
        now_points = num // den
        lines.append({**line, "points": now_points - points})
        points = now_points
    return lines, points


def _category_weight(cart: Cart, program: ProgramSettings) -> tuple[int, int]:
    """(Σ amount × multiplier / ONE-scaled, Σ amount): equal when no line has a multiplier other than ×1."""
    amount = sum(line.amount_minor for line in cart.lines)
    if not amount or not program.category_multipliers:
        return 1, 1
    weighted = sum(
        line.amount_minor * program.category_multipliers.get(line.category or "", ONE) for line in cart.lines
    )
    if weighted == amount * ONE:
        return 1, 1
    return weighted, amount


def happy_hour(program: ProgramSettings, paid_at: datetime) -> HappyHour | None:
    """The best window the order's time falls in, in the tenant's time zone (overlaps do not stack)."""
    local = paid_at.astimezone(ZoneInfo(program.timezone))
    day, clock = WEEKDAYS[local.weekday()], local.strftime("%H:%M")
    windows = [w for w in program.happy_hours if day in w.days and w.from_ <= clock < w.to]
    return max(windows, key=lambda w: w.multiplier_bp, default=None)


def _combos(cart: Cart, program: ProgramSettings) -> list[dict[str, Any]]:
    skus = {line.sku for line in cart.lines}
    return [
        {"rule": "combo", "skus": list(combo.skus), "points": combo.bonus_points}
        for combo in program.combos
        if skus.issuperset(combo.skus)
    ]


def _promotions(cart: Cart, eligible: int, program: ProgramSettings, paid_at: datetime) -> list[PromoEarning]:
    earned = []
    for promo in program.promotions:
        if not promo.starts_at <= paid_at < promo.ends_at:
            continue
        share, whole = _promo_share(cart, promo)
        points = (eligible * share * promo.earn_rate_bp) // (whole * BP * program.point_value_minor)
        if points > 0:
            earned.append(PromoEarning(promo.id, points, paid_at + timedelta(days=promo.lifetime_days)))
    return earned


def _promo_share(cart: Cart, promo: Promotion) -> tuple[int, int]:
    """The part of the order a promo counts: all of it, or the lines of its categories."""
    whole = sum(line.amount_minor for line in cart.lines)
    if promo.categories is None:
        return 1, 1
    if not whole:
        return 0, 1
    return sum(line.amount_minor for line in cart.lines if line.category in promo.categories), whole


def lines_from(items: Sequence[Any] | None) -> tuple[Line, ...]:
    """Request items (anything with sku, category, quantity, amount_minor) as order lines."""
    return tuple(Line(i.sku, i.category, i.quantity, i.amount_minor) for i in items or ())
