"""Program rules through HTTP (issue 5, docs/spec.md §8): each rule alone, together, at its edges, and under refunds.

Defaults: 5 % (500 bp) earn rate, a point is worth 100 minor, so an eligible 100000 earns 50 points before rules.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared import clock
from tests.conftest import TenantCreds, body, paid_event, refund_event
from tests.integration.conftest import Clock
from tests.integration.support import assert_error, history, member
from tests.integration.test_program_api import get_program, put_program, send

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # the rules are set here; every order below is paid later


def rules(client: Any, creds: TenantCreds, frozen: Clock, **settings: Any) -> dict[str, Any]:
    frozen.now = T0
    response = put_program(client, creds, settings)
    assert response.status_code == 200, response.body
    return dict(body(response))


def pay(client: Any, creds: TenantCreds, order_id: str, at: datetime, total: int = 100_000, **data: Any) -> Any:
    return send(client, creds, paid_event(order_id, total=total, paid_at=at, **data))


def earned(client: Any, creds: TenantCreds, order_id: str) -> dict[str, Any]:
    """The PAID entry's details of an order, from the member history."""
    entry = next(e for e in history(client, creds) if e["kind"] == "earn" and e["reference"] == order_id)
    return dict(entry["details"])


def quote(client: Any, creds: TenantCreds, cart: dict[str, Any]) -> dict[str, Any]:
    raw = {"member_id": "c1", "currency": "RUB", **cart}
    response = client.http.post(
        f"/v1/tenants/{creds.tenant_id}/checkout/quote", body=__import__("json").dumps(raw), headers=creds.auth
    )
    assert response.status_code == 200, response.body
    return dict(body(response))


def item(sku: str, amount: int, category: str | None = None) -> dict[str, Any]:
    return {"sku": sku, "category": category, "quantity": 1, "amount_minor": amount}


TIERS = [
    {"name": "Silver", "min_spend_minor": 0, "earn_rate_bp": 500},
    {"name": "Gold", "min_spend_minor": 100_000, "earn_rate_bp": 1_000, "discount_bp": 300},
]


def test_the_order_crossing_a_tier_earns_the_old_rate_and_the_next_one_the_new(
    client: Any, tenant: TenantCreds, frozen: Clock
) -> None:
    # Given Silver at 5 % from 0 and Gold at 10 % from a spend of 100000
    rules(client, tenant, frozen, tiers=TIERS)
    frozen.now = T0 + timedelta(days=1)
    # When the first order brings the spend exactly to Gold's threshold
    first = pay(client, tenant, "o1", frozen.now)
    # Then it earns at Silver's rate: the tier is the one reached before the order
    assert first["points_earned"] == 50
    assert earned(client, tenant, "o1")["rules"] == [{"rule": "tier", "tier": "Silver", "rate_bp": 500, "points": 50}]
    # And the member is Gold now, and the quote offers Gold's discount (3 % of the goods)
    assert (member(client, tenant)["tier"], member(client, tenant)["tier_spend_minor"]) == ("Gold", 100_000)
    offer = quote(client, tenant, {"total_minor": 50_000})
    assert (offer["tier"], offer["tier_discount_minor"], offer["points_to_earn"]) == ("Gold", 1_500, 50)
    # When the next order arrives, it earns at Gold's 10 %
    assert pay(client, tenant, "o2", frozen.now, total=50_000)["points_earned"] == 50
    assert earned(client, tenant, "o2")["tier"] == "Gold"
    # When the first order is refunded in full, the spend falls below Gold and so does the tier (lifetime basis)
    assert send(client, tenant, refund_event("o1", "r1", 100_000))["points_reversed"] == 50
    assert member(client, tenant)["tier"] == "Silver"


def test_rolling_basis_keeps_the_tier_until_the_evaluation(client: Any, tenant: TenantCreds, frozen: Clock) -> None:
    # Given tiers measured on the rolling 12 months
    rules(client, tenant, frozen, tiers=TIERS, tier_basis="rolling_12m")
    frozen.now = datetime(2027, 3, 15, tzinfo=UTC)
    pay(client, tenant, "o1", frozen.now)
    # When the spend of March 2027 leaves the window (April 2028)
    frozen.now = datetime(2028, 4, 2, tzinfo=UTC)
    view = member(client, tenant)
    # Then the spend measured is 0, yet the tier stays until a scheduled evaluation downgrades it
    assert (view["tier_spend_minor"], view["tier"]) == (0, "Gold")
    assert pay(client, tenant, "o2", frozen.now)["points_earned"] == 100


def test_minimum_check_earns_nothing_below_and_everything_at_it(
    client: Any, tenant: TenantCreds, frozen: Clock
) -> None:
    # Given a minimum check of 500.00 and a promo that would otherwise earn too
    promo = {
        "id": "p",
        "name": "P",
        "starts_at": "2027-03-01T00:00:00Z",
        "ends_at": "2027-04-01T00:00:00Z",
        "earn_rate_bp": 1_000,
        "lifetime_days": 30,
    }
    rules(client, tenant, frozen, min_check_minor=50_000, promotions=[promo])
    frozen.now = T0 + timedelta(hours=1)
    # When an order of 499.99 is paid, then it earns nothing and says why
    assert pay(client, tenant, "low", frozen.now, total=49_999)["points_earned"] == 0
    assert earned(client, tenant, "low")["rules"] == [{"rule": "min_check", "min_check_minor": 50_000, "points": 0}]
    # When an order of exactly 500.00 is paid, then it earns 25 + the promo's 50
    assert pay(client, tenant, "at", frozen.now, total=50_000)["points_earned"] == 75


def test_happy_hours_follow_tenant_time_across_the_dst_change(client: Any, tenant: TenantCreds, frozen: Clock) -> None:
    # Given double points on Saturdays 10:00-12:00 in New York (DST starts Sunday 14 March 2027)
    window = {"days": ["sat"], "from": "10:00", "to": "12:00", "multiplier_bp": 20_000}
    rules(client, tenant, frozen, timezone="America/New_York", happy_hours=[window])
    frozen.now = datetime(2027, 3, 22, tzinfo=UTC)  # every order below is reported after it was paid
    cases = {
        "2027-03-13T14:59:59Z": 50,  # 09:59:59 EST: before the window
        "2027-03-13T15:00:00Z": 100,  # 10:00 EST: "from" is inclusive
        "2027-03-13T16:59:59Z": 100,  # 11:59:59 EST
        "2027-03-13T17:00:00Z": 50,  # 12:00 EST: "to" is exclusive
        "2027-03-20T14:00:00Z": 100,  # 10:00 EDT: the same wall clock, one hour earlier in UTC
        "2027-03-20T16:00:00Z": 50,  # 12:00 EDT
        "2027-03-21T15:00:00Z": 50,  # Sunday
    }
    # When an order is paid at each moment, then only those inside the window in New York time earn double
    got = {at: pay(client, tenant, f"o-{at}", clock.parse_ts(at))["points_earned"] for at in cases}
    assert got == cases
    line = earned(client, tenant, "o-2027-03-20T14:00:00Z")["rules"][1]
    assert line == {"rule": "happy_hour", "multiplier_bp": 20_000, "points": 50}


def test_category_multipliers_are_floored_once_per_order_and_combos_add_once(
    client: Any, tenant: TenantCreds, frozen: Clock
) -> None:
    # Given shoes ×3, sale items ×0, and two combos of which the order completes one
    rules(
        client,
        tenant,
        frozen,
        category_multipliers={"shoes": 30_000, "sale": 0},
        combos=[{"skus": ["A", "B"], "bonus_points": 7}, {"skus": ["A", "Z"], "bonus_points": 100}],
    )
    frozen.now = T0 + timedelta(days=1)
    items = [item("A", 33_333, "shoes"), item("B", 33_333, "bags"), item("C", 33_334, "sale")]
    # When the order is paid
    result = pay(client, tenant, "o1", frozen.now, items=items)
    # Then 50 × (3·33333 + 33333 + 0) / 100000 = 66.666 → 66 (floored per item it would be 49 + 16 + 0 = 65), + 7
    assert result["points_earned"] == 73
    assert earned(client, tenant, "o1")["rules"] == [
        {"rule": "base", "rate_bp": 500, "points": 50},
        {"rule": "category", "points": 16},
        {"rule": "combo", "skus": ["A", "B"], "points": 7},
    ]


def test_a_promo_earns_its_own_lot_while_active_and_refunds_use_the_recorded_points(
    client: Any, tenant: TenantCreds, frozen: Clock
) -> None:
    # Given a spring promo: 10 % on shoes for a week, its points living 30 days
    spring = {
        "id": "spring",
        "name": "Spring",
        "starts_at": "2027-04-01T00:00:00Z",
        "ends_at": "2027-04-08T00:00:00Z",
        "earn_rate_bp": 1_000,
        "lifetime_days": 30,
        "categories": ["shoes"],
    }
    rules(client, tenant, frozen, promotions=[spring])
    paid_at = datetime(2027, 4, 2, 12, tzinfo=UTC)
    frozen.now = paid_at
    items = [item("A", 60_000, "shoes"), item("B", 40_000, "bags")]
    # When an order is paid inside the promo
    assert pay(client, tenant, "o1", paid_at, items=items)["points_earned"] == 110
    # Then the permanent 50 and the promo's 60 (10 % of the shoes) sit in two lots with their own expiry
    lots = {(lot["source"], lot["points"], lot["expires_at"]) for lot in member(client, tenant)["lots"]}
    assert lots == {
        ("order", 50, clock.iso(paid_at + timedelta(days=365))),
        ("promo", 60, clock.iso(paid_at + timedelta(days=30))),
    }
    assert earned(client, tenant, "o1")["rules"][-1] == {"rule": "promotion", "id": "spring", "points": 60}
    # And an order paid the moment the promo ends earns the permanent points only
    frozen.now = datetime(2027, 4, 8, tzinfo=UTC)
    assert pay(client, tenant, "o2", datetime(2027, 4, 8, tzinfo=UTC), items=items)["points_earned"] == 50
    # When the rules change (promo gone, rate doubled) and the bags of the first order are returned
    frozen.now = datetime(2027, 4, 9, tzinfo=UTC)
    assert put_program(client, tenant, {"promotions": [], "earn_rate_bp": 1_000}).status_code == 200
    returned = refund_event("o1", "r1", 40_000)
    returned["data"]["items"] = [item("B", 40_000, "bags")]
    refund = send(client, tenant, returned)
    # Then what the shoes kept earn under the rules of the payment (30 + the promo's 60) stays: 20 go back, not the
    # 50 a recomputation under today's rules (10 %, no promo) would take
    assert refund["points_reversed"] == 20
    assert member(client, tenant)["balance"] == 110 + 50 - 20


def test_tier_happy_hour_category_and_promo_on_one_order(client: Any, tenant: TenantCreds, frozen: Clock) -> None:
    # Given Gold 10 % from 0, ×1.5 all week, shoes ×2 and a 3 % promo
    promo = {
        "id": "all",
        "name": "All",
        "starts_at": "2027-03-01T00:00:00Z",
        "ends_at": "2027-12-01T00:00:00Z",
        "earn_rate_bp": 300,
        "lifetime_days": 10,
    }
    week = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    rules(
        client,
        tenant,
        frozen,
        tiers=[{"name": "Gold", "min_spend_minor": 0, "earn_rate_bp": 1_000}],
        happy_hours=[{"days": week, "from": "00:00", "to": "24:00", "multiplier_bp": 15_000}],
        category_multipliers={"shoes": 20_000},
        promotions=[promo],
    )
    frozen.now = T0 + timedelta(days=2)
    items = [item("S", 30_000, "shoes"), item("X", 70_000, "other")]
    # When an order of 1000.00 of goods plus 50.00 shipping is paid
    result = pay(client, tenant, "o1", frozen.now, total=105_000, shipping_minor=5_000, items=items)
    # Then 100 (tier) → ×1.3 (categories) 130 → ×1.5 195, plus the promo's 30; each rule's share is recorded
    breakdown = earned(client, tenant, "o1")["rules"]
    assert breakdown == [
        {"rule": "tier", "tier": "Gold", "rate_bp": 1_000, "points": 100},
        {"rule": "category", "points": 30},
        {"rule": "happy_hour", "multiplier_bp": 15_000, "points": 65},
        {"rule": "promotion", "id": "all", "points": 30},
    ]
    assert result["points_earned"] == sum(line["points"] for line in breakdown) == 225


def test_post_purchase_boost_doubles_points_and_discounts_the_next_order_once(
    client: Any, tenant: TenantCreds, frozen: Clock
) -> None:
    # Given 30 days of double points and 5 % off the next order after a purchase
    boost = {"days": 30, "multiplier_bp": 20_000, "discount_bp": 500, "reminder_days_before_end": 10}
    rules(client, tenant, frozen, post_purchase_boost=boost)
    start = T0 + timedelta(days=1)
    frozen.now = start
    # When a first order is paid, it earns normally and starts the boost
    assert pay(client, tenant, "o1", start)["points_earned"] == 50
    assert member(client, tenant)["boost_until"] == clock.iso(start + timedelta(days=30))
    frozen.now = start + timedelta(days=1)
    assert quote(client, tenant, {"total_minor": 100_000})["boost_discount_minor"] == 5_000
    # When the next order is paid inside the boost, it earns double and uses the discount
    assert pay(client, tenant, "o2", frozen.now)["points_earned"] == 100
    assert earned(client, tenant, "o2")["rules"][-1] == {"rule": "boost", "multiplier_bp": 20_000, "points": 50}
    assert quote(client, tenant, {"total_minor": 100_000})["boost_discount_minor"] == 0
    # When an order comes after the boost ended, it earns normally and starts a new boost
    frozen.now = start + timedelta(days=30)
    assert pay(client, tenant, "o3", frozen.now)["points_earned"] == 50
    assert member(client, tenant)["boost_until"] == clock.iso(frozen.now + timedelta(days=30))


def test_every_rule_round_trips_through_get(client: Any, tenant: TenantCreds, frozen: Clock) -> None:
    # Given every rule set at once
    settings = {
        "tiers": TIERS,
        "tier_basis": "rolling_12m",
        "min_check_minor": 1_000,
        "promotions": [
            {
                "id": "p1",
                "name": "P",
                "starts_at": "2027-03-01T00:00:00Z",
                "ends_at": "2027-04-01T00:00:00Z",
                "earn_rate_bp": 100,
                "lifetime_days": 30,
                "categories": ["shoes"],
            }
        ],
        "happy_hours": [{"days": ["mon", "fri"], "from": "17:00", "to": "19:30", "multiplier_bp": 15_000}],
        "category_multipliers": {"shoes": 20_000},
        "combos": [{"skus": ["A", "B"], "bonus_points": 10}],
        "post_purchase_boost": {
            "days": 30,
            "multiplier_bp": 20_000,
            "discount_bp": 500,
            "reminder_days_before_end": 10,
        },
        "birthday_bonus": {"points": 100, "lifetime_days": 30},
        "referral": {"referrer_points": 50, "referee_points": 25, "pending_days": 7, "max_per_month": 5},
        "transfer": {"enabled": True, "max_points_per_month": 1_000, "min_lot_age_days": 7},
        "vip": {"earn_rate_bp": 1_500, "discount_bp": 700, "metric": "revenue", "period_days": 365},
    }
    saved = rules(client, tenant, frozen, **settings)
    # When the program is read back, then each rule is as sent (tiers with their default discount)
    program = get_program(client, tenant)
    for key, value in settings.items():
        if key == "tiers":
            value = [{"discount_bp": 0, **tier} for tier in TIERS]
        assert program[key] == value == saved[key], key


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("tiers", [{"name": "A", "min_spend_minor": 0, "earn_rate_bp": 1}] * 2, "tiers"),
        ("tiers", [{"name": "A", "min_spend_minor": -1, "earn_rate_bp": 1}], "tiers.0.min_spend_minor"),
        ("tier_basis", "monthly", "tier_basis"),
        ("min_check_minor", -1, "min_check_minor"),
        ("happy_hours", [{"days": ["mon"], "from": "25:00", "to": "26:00", "multiplier_bp": 1}], "happy_hours.0.from"),
        (
            "happy_hours",
            [{"days": ["fun"], "from": "10:00", "to": "11:00", "multiplier_bp": 1}],
            "happy_hours.0.days.0",
        ),
        ("happy_hours", [{"days": ["mon"], "from": "12:00", "to": "10:00", "multiplier_bp": 1}], "happy_hours.0"),
        ("category_multipliers", {"shoes": 200_000}, "category_multipliers"),
        ("combos", [{"skus": ["A"], "bonus_points": 5}], "combos.0.skus"),
        (
            "promotions",
            [
                {
                    "id": "p",
                    "name": "P",
                    "starts_at": "2027-04-01T00:00:00Z",
                    "ends_at": "2027-03-01T00:00:00Z",
                    "earn_rate_bp": 100,
                    "lifetime_days": 30,
                }
            ],
            "promotions.0",
        ),
        (
            "promotions",
            [
                {
                    "id": "p",
                    "name": "P",
                    "starts_at": "2027-04-01T00:00:00",
                    "ends_at": "2027-05-01T00:00:00Z",
                    "earn_rate_bp": 100,
                    "lifetime_days": 30,
                }
            ],
            "promotions.0.starts_at",
        ),
        (
            "post_purchase_boost",
            {"days": 30, "multiplier_bp": 20_000, "discount_bp": 500, "reminder_days_before_end": 30},
            "post_purchase_boost",
        ),
        ("birthday_bonus", {"points": 0, "lifetime_days": 30}, "birthday_bonus.points"),
        ("referral", {"referrer_points": -1, "referee_points": 5}, "referral.referrer_points"),
        ("transfer", {"enabled": "yes"}, "transfer.enabled"),
        ("vip", {"earn_rate_bp": 20_000, "discount_bp": 0}, "vip.earn_rate_bp"),
    ],
)
def test_an_invalid_rule_is_422_naming_the_field(
    client: Any, tenant: TenantCreds, field: str, value: Any, where: str
) -> None:
    # Given version 1, when a rule is set to an invalid value
    response = put_program(client, tenant, {field: value})
    # Then 422 names the place of the error, and the program is unchanged
    error = assert_error(response, 422, "validation_error")
    assert where in [d["field"] for d in error["details"]], error
    assert get_program(client, tenant)["version"] == 1
