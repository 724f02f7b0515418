"""What an order earns under the program rules (docs/spec.md §8, docs/decisions.md 21), as a table: one row per rule.

Every expected value is worked out by hand from the rules as documented (shared/rules.py, decision 21), never by
calling the function: the table is the specification. Unless a row says otherwise the program earns 10 % at 100
minor per point, so an eligible amount of 100000 is 100 points, and the order is paid on Monday 2 March 2026 at
12:00 UTC in a tenant on UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.program import Combo, HappyHour, PostPurchaseBoost, ProgramSettings, Promotion, Tier, Vip
from shared.rules import Cart, Line, Standing, earn

MONDAY_NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TIERS = [
    Tier(name="silver", min_spend_minor=100_000, earn_rate_bp=1_500),
    Tier(name="gold", min_spend_minor=500_000, earn_rate_bp=2_000),
]


def happy(days: list[str], start: str, end: str, multiplier_bp: int) -> HappyHour:
    return HappyHour.model_validate({"days": days, "from": start, "to": end, "multiplier_bp": multiplier_bp})


def promo(promo_id: str = "spring", rate_bp: int = 500, categories: list[str] | None = None) -> Promotion:
    """Runs through March 2026 (``starts_at`` inclusive, ``ends_at`` exclusive), its lot lives 30 days."""
    return Promotion(
        id=promo_id,
        name=promo_id,
        starts_at=datetime(2026, 3, 1, tzinfo=UTC),
        ends_at=datetime(2026, 4, 1, tzinfo=UTC),
        earn_rate_bp=rate_bp,
        lifetime_days=30,
        categories=categories,
    )


def boost(multiplier_bp: int) -> PostPurchaseBoost:
    return PostPurchaseBoost(days=30, multiplier_bp=multiplier_bp, discount_bp=500)


def cart(*lines: tuple[str, str | None, int], shipping: int = 0, tax: int = 0, total: int | None = None) -> Cart:
    """Lines as (sku, category, amount), one of each; the total is the lines plus shipping and tax unless given."""
    items = tuple(Line(sku, category, 1, amount) for sku, category, amount in lines)
    goods = sum(line.amount_minor for line in items)
    return Cart(goods + shipping + tax if total is None else total, shipping, tax, items)


@dataclass(frozen=True)
class Row:
    cart: Cart
    total: int  # all the points the order earns: the permanent lot plus every promo's
    program: dict[str, Any] = field(default_factory=dict)
    redeemed: int = 0
    standing: Standing = field(default_factory=Standing)
    paid_at: datetime = MONDAY_NOON
    lines: tuple[tuple[str, int], ...] | None = None  # the breakdown as (rule, points), when it matters
    promos: tuple[tuple[str, int], ...] = ()  # (promo id, points) of the promo lots


ROWS = [
    # -- the base rate, the eligible amount (cash paid for goods), the floor ----------------------------------
    pytest.param(Row(Cart(100_000), 100, lines=(("base", 100),)), id="base-10pct-100000-is-100"),
    pytest.param(Row(Cart(100_999), 100), id="base-floors-100.999-to-100"),
    pytest.param(Row(Cart(999), 0, lines=(("base", 0),)), id="base-under-one-point-is-0"),
    pytest.param(Row(Cart(0), 0), id="zero-order-earns-0"),
    pytest.param(Row(Cart(100_000, shipping_minor=10_000), 90), id="shipping-excluded"),
    pytest.param(Row(Cart(100_000, shipping_minor=5_000, tax_minor=20_000), 75), id="shipping-and-tax-excluded"),
    pytest.param(Row(Cart(100_000), 80, redeemed=200), id="redeemed-points-reduce-eligible"),
    pytest.param(Row(Cart(10_000, shipping_minor=2_000), 0, redeemed=100), id="redeemed-beyond-goods-floors-at-0"),
    pytest.param(
        Row(Cart(100_000), 500, {"earn_rate_bp": 500, "point_value_minor": 10}), id="point-value-10-rate-5pct"
    ),
    # -- the minimum check cuts every rule ----------------------------------------------------------------------
    pytest.param(Row(Cart(50_000), 50, {"min_check_minor": 50_000}), id="min-check-reached-exactly"),
    pytest.param(
        Row(Cart(49_999), 0, {"min_check_minor": 50_000}, lines=(("min_check", 0),)), id="min-check-missed-by-one"
    ),
    pytest.param(
        Row(Cart(55_000, shipping_minor=10_000), 0, {"min_check_minor": 50_000}), id="min-check-on-goods-not-shipping"
    ),
    pytest.param(Row(Cart(60_000), 0, {"min_check_minor": 50_000}, redeemed=200), id="min-check-after-redeemed-points"),
    pytest.param(
        Row(
            cart(("A", None, 20_000), ("B", None, 20_000)),
            0,
            {"min_check_minor": 50_000, "combos": [Combo(skus=["A", "B"], bonus_points=50)], "promotions": [promo()]},
            lines=(("min_check", 0),),
        ),
        id="min-check-cuts-combos-and-promos",
    ),
    # -- the rate: tier reached by spend before the order, kept tier (rolling), VIP ----------------------------
    pytest.param(Row(Cart(100_000), 100, {"tiers": TIERS}, standing=Standing(99_999)), id="tier-not-reached-base"),
    pytest.param(
        Row(Cart(100_000), 150, {"tiers": TIERS}, standing=Standing(100_000), lines=(("tier", 150),)),
        id="tier-silver-at-threshold",
    ),
    pytest.param(Row(Cart(100_000), 200, {"tiers": TIERS}, standing=Standing(600_000)), id="tier-gold"),
    pytest.param(
        Row(Cart(100_000), 50, {"tiers": [Tier(name="bronze", min_spend_minor=0, earn_rate_bp=500)]}),
        id="tier-rate-replaces-base-even-when-lower",
    ),
    pytest.param(
        Row(Cart(100_000), 200, {"tiers": TIERS, "tier_basis": "rolling_12m"}, standing=Standing(0, "gold")),
        id="rolling-basis-keeps-the-kept-tier",
    ),
    pytest.param(
        Row(Cart(100_000), 100, {"tiers": TIERS}, standing=Standing(0, "gold")), id="lifetime-basis-ignores-kept-tier"
    ),
    pytest.param(
        Row(
            Cart(100_000),
            250,
            {"vip": Vip(earn_rate_bp=2_500, discount_bp=0)},
            standing=Standing(vip=True),
            lines=(("vip", 250),),
        ),
        id="vip-rate-when-higher",
    ),
    pytest.param(
        Row(
            Cart(100_000),
            200,
            {"tiers": TIERS, "vip": Vip(earn_rate_bp=1_200, discount_bp=0)},
            standing=Standing(600_000, vip=True),
        ),
        id="vip-rate-lower-than-tier-keeps-tier",
    ),
    pytest.param(Row(Cart(100_000), 100, {"vip": Vip(earn_rate_bp=2_500, discount_bp=0)}), id="vip-rate-needs-class-a"),
    # -- multipliers: happy hours (tenant time, best window), categories, boost; floored once -------------------
    pytest.param(
        Row(
            Cart(100_000),
            200,
            {"happy_hours": [happy(["mon"], "11:00", "13:00", 20_000)]},
            lines=(("base", 100), ("happy_hour", 100)),
        ),
        id="happy-hour-doubles",
    ),
    pytest.param(
        Row(
            Cart(100_000),
            100,
            {"happy_hours": [happy(["mon"], "11:00", "12:00", 20_000)]},
            lines=(("base", 100),),
        ),
        id="happy-hour-to-is-exclusive",
    ),
    pytest.param(
        Row(Cart(100_000), 100, {"happy_hours": [happy(["tue"], "11:00", "13:00", 20_000)]}), id="happy-hour-other-day"
    ),
    pytest.param(
        Row(Cart(100_000), 200, {"timezone": "Asia/Tokyo", "happy_hours": [happy(["mon"], "21:00", "22:00", 20_000)]}),
        id="happy-hour-in-tenant-time-zone",
    ),
    pytest.param(
        Row(
            Cart(100_000),
            300,
            {"happy_hours": [happy(["mon"], "10:00", "14:00", 20_000), happy(["mon"], "12:00", "13:00", 30_000)]},
            lines=(("base", 100), ("happy_hour", 200)),
        ),
        id="happy-hours-overlapping-best-not-stacked",
    ),
    pytest.param(
        Row(
            cart(("A", "coffee", 50_000), ("B", "tea", 50_000)),
            200,
            {"category_multipliers": {"coffee": 30_000}},
            lines=(("base", 100), ("category", 100)),
        ),
        id="category-x3-on-half-the-cart",
    ),
    pytest.param(
        Row(
            cart(("A", "coffee", 100_000), shipping=10_000, total=90_000),
            240,
            {"category_multipliers": {"coffee": 30_000}},
        ),
        id="category-weighs-eligible-cash-not-line-price",
    ),
    pytest.param(
        Row(
            cart(("A", "gift", 100_000)),
            0,
            {"category_multipliers": {"gift": 0}},
            lines=(("base", 100), ("category", -100)),
        ),
        id="category-x0-cancels-the-points",
    ),
    pytest.param(
        Row(Cart(100_000), 200, {"post_purchase_boost": boost(20_000)}, standing=Standing(boost_active=True)),
        id="boost-active-doubles",
    ),
    pytest.param(Row(Cart(100_000), 100, {"post_purchase_boost": boost(20_000)}), id="boost-inactive-nothing"),
    pytest.param(
        Row(
            Cart(100_000),
            100,
            {"post_purchase_boost": boost(10_000)},
            standing=Standing(boost_active=True),
            lines=(("base", 100),),
        ),
        id="boost-x1-writes-no-line",
    ),
    pytest.param(
        Row(
            Cart(13_000),
            29,
            {"happy_hours": [happy(["mon"], "12:00", "13:00", 15_000)], "post_purchase_boost": boost(15_000)},
            standing=Standing(boost_active=True),
            lines=(("base", 13), ("happy_hour", 6), ("boost", 10)),
        ),
        id="multipliers-floored-once-29-not-28",
    ),
    pytest.param(
        Row(
            cart(("A", "coffee", 100_000)),
            800,
            {
                "category_multipliers": {"coffee": 20_000},
                "happy_hours": [happy(["mon"], "00:00", "24:00", 20_000)],
                "post_purchase_boost": boost(20_000),
            },
            standing=Standing(boost_active=True),
            lines=(("base", 100), ("category", 100), ("happy_hour", 200), ("boost", 400)),
        ),
        id="category-happy-hour-boost-multiply",
    ),
    # -- combos: a bonus once per order, on the permanent lot, never multiplied ---------------------------------
    pytest.param(
        Row(
            cart(("A", None, 50_000), ("B", None, 50_000)),
            150,
            {"combos": [Combo(skus=["A", "B"], bonus_points=50)]},
            lines=(("base", 100), ("combo", 50)),
        ),
        id="combo-complete",
    ),
    pytest.param(
        Row(cart(("A", None, 100_000)), 100, {"combos": [Combo(skus=["A", "B"], bonus_points=50)]}),
        id="combo-incomplete",
    ),
    pytest.param(
        Row(
            Cart(100_000, lines=(Line("A", None, 2, 60_000), Line("B", None, 1, 40_000))),
            150,
            {"combos": [Combo(skus=["A", "B"], bonus_points=50)]},
        ),
        id="combo-once-whatever-the-quantity",
    ),
    pytest.param(
        Row(
            cart(("A", None, 30_000), ("B", None, 30_000), ("C", None, 40_000)),
            180,
            {"combos": [Combo(skus=["A", "B"], bonus_points=50), Combo(skus=["B", "C"], bonus_points=30)]},
        ),
        id="two-combos-sharing-a-sku",
    ),
    pytest.param(
        Row(
            cart(("A", None, 50_000), ("B", None, 50_000)),
            250,
            {
                "combos": [Combo(skus=["A", "B"], bonus_points=50)],
                "happy_hours": [happy(["mon"], "12:00", "13:00", 20_000)],
            },
        ),
        id="combo-not-multiplied",
    ),
    # -- promotions: own rate on own share, own lot, no multipliers ----------------------------------------------
    pytest.param(Row(Cart(100_000), 150, {"promotions": [promo()]}, promos=(("spring", 50),)), id="promo-whole-order"),
    pytest.param(
        Row(
            Cart(100_000),
            150,
            {"promotions": [promo()]},
            paid_at=datetime(2026, 3, 1, tzinfo=UTC),
            promos=(("spring", 50),),
        ),
        id="promo-starts-at-inclusive",
    ),
    pytest.param(
        Row(Cart(100_000), 100, {"promotions": [promo()]}, paid_at=datetime(2026, 4, 1, tzinfo=UTC)),
        id="promo-ends-at-exclusive",
    ),
    pytest.param(
        Row(
            cart(("A", "coffee", 30_000), ("B", "tea", 70_000)),
            115,
            {"promotions": [promo(categories=["coffee"])]},
            promos=(("spring", 15),),
        ),
        id="promo-categories-count-their-share",
    ),
    pytest.param(
        Row(
            cart(("A", "coffee", 50_000), ("B", "tea", 50_000), shipping=10_000),
            125,
            {"promotions": [promo(categories=["coffee"])]},
            promos=(("spring", 25),),
        ),
        id="promo-share-of-eligible-not-of-total",
    ),
    pytest.param(
        Row(Cart(100_000), 100, {"promotions": [promo(categories=["coffee"])]}), id="promo-categories-without-lines"
    ),
    pytest.param(
        Row(Cart(10_000), 13, {"promotions": [promo(rate_bp=333)]}, promos=(("spring", 3),)), id="promo-floors"
    ),
    pytest.param(
        Row(
            Cart(100_000),
            250,
            {"promotions": [promo()], "happy_hours": [happy(["mon"], "12:00", "13:00", 20_000)]},
            promos=(("spring", 50),),
        ),
        id="promo-not-multiplied",
    ),
    pytest.param(
        Row(Cart(100_000), 180, {"promotions": [promo("a"), promo("b", rate_bp=300)]}, promos=(("a", 50), ("b", 30))),
        id="two-promos-two-lots",
    ),
]


@pytest.mark.parametrize("row", ROWS)
def test_earn(row: Row) -> None:
    # Given the program and the member's standing before the order
    program = ProgramSettings(**{"currency": "RUB", "earn_rate_bp": 1_000, "point_value_minor": 100, **row.program})
    # When the order is paid
    earning = earn(row.cart, row.redeemed, program, row.standing, row.paid_at)
    # Then it earns the row's points, split into the permanent lot and the promo lots as the row says
    assert earning.total_points == row.total
    assert tuple((p.promo_id, p.points) for p in earning.promos) == row.promos
    assert earning.points == row.total - sum(points for _, points in row.promos)
    if row.lines is not None:
        assert tuple((line["rule"], line["points"]) for line in earning.breakdown) == row.lines
    # And the lines of the breakdown add up to the total (decision 21)
    assert sum(line["points"] for line in earning.breakdown) == row.total


def test_a_promo_lot_lives_its_own_lifetime() -> None:
    # Given a promo whose lots live 30 days / When an order is paid inside it
    program = ProgramSettings(currency="RUB", earn_rate_bp=1_000, promotions=[promo()])
    earning = earn(Cart(100_000), 0, program, Standing(), MONDAY_NOON)
    # Then its lot expires 30 days after the payment, whatever the program's lifetime
    assert [p.expires_at for p in earning.promos] == [MONDAY_NOON + timedelta(days=30)]
