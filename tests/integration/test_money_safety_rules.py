"""Money safety (issue 13) of the program rules: a boost or a tier gained by an order does not outlive its refund."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import TenantCreds, cancel_event, refund_event
from tests.integration.conftest import Clock
from tests.integration.support import member
from tests.integration.test_program_api import send
from tests.integration.test_rules_api import T0, TIERS, pay, quote, rules

BOOST = {"days": 30, "multiplier_bp": 20_000, "discount_bp": 500}


def boosted_by_o1(client: Any, tenant: TenantCreds, frozen: Clock) -> None:
    rules(client, tenant, frozen, post_purchase_boost=BOOST)
    frozen.now = T0 + timedelta(days=1)
    pay(client, tenant, "o1", frozen.now)
    assert member(client, tenant)["boost_until"] is not None


def test_a_boost_ends_when_the_order_that_started_it_is_cancelled(
    client: Any, tenant: TenantCreds, frozen: Clock
) -> None:
    # Given a post-purchase boost and an order that started it
    boosted_by_o1(client, tenant, frozen)
    # When that order is cancelled
    send(client, tenant, cancel_event("o1"))
    # Then the boost is over: no discount quoted, and the next order earns the plain rate (and starts its own)
    assert member(client, tenant)["boost_until"] is None
    assert quote(client, tenant, {"total_minor": 100_000})["boost_discount_minor"] == 0
    assert pay(client, tenant, "o2", frozen.now)["points_earned"] == 50


def test_a_partial_refund_keeps_the_boost_and_a_full_refund_ends_it(
    client: Any, tenant: TenantCreds, frozen: Clock
) -> None:
    # Given a boost started by an order of 1000.00
    boosted_by_o1(client, tenant, frozen)
    # When half of it is refunded, then the boost runs on; when the rest is refunded, it ends
    send(client, tenant, refund_event("o1", "r1", 50_000))
    assert member(client, tenant)["boost_until"] is not None
    send(client, tenant, refund_event("o1", "r2", 50_000))
    assert member(client, tenant)["boost_until"] is None


def test_an_order_below_the_minimum_check_starts_no_boost(client: Any, tenant: TenantCreds, frozen: Clock) -> None:
    # Given a boost and a minimum check of 500.00
    rules(client, tenant, frozen, post_purchase_boost=BOOST, min_check_minor=50_000)
    frozen.now = T0 + timedelta(days=1)
    # When a 1.00 order is paid, then no boost starts; an order at the minimum starts one
    pay(client, tenant, "tiny", frozen.now, total=100)
    assert member(client, tenant)["boost_until"] is None
    pay(client, tenant, "real", frozen.now, total=50_000)
    assert member(client, tenant)["boost_until"] is not None


def test_a_rolling_tier_reached_by_an_order_is_lost_when_it_is_cancelled(
    client: Any, tenant: TenantCreds, frozen: Clock
) -> None:
    # Given rolling-basis tiers and a first order that reaches Gold
    rules(client, tenant, frozen, tiers=TIERS, tier_basis="rolling_12m")
    frozen.now = datetime(2027, 3, 15, tzinfo=UTC)
    pay(client, tenant, "o1", frozen.now)
    assert member(client, tenant)["tier"] == "Gold"
    # When it is cancelled
    send(client, tenant, cancel_event("o1"))
    # Then the tier falls back at once (not at the monthly review): Silver, its rate and no Gold discount
    view = member(client, tenant)
    assert (view["tier"], view["tier_spend_minor"]) == ("Silver", 0)
    assert quote(client, tenant, {"total_minor": 100_000})["tier_discount_minor"] == 0
    assert pay(client, tenant, "o2", frozen.now, total=50_000)["points_earned"] == 25


def test_a_rolling_tier_kept_by_the_review_survives_a_later_refund(
    client: Any, tenant: TenantCreds, frozen: Clock
) -> None:
    # Given a member already Gold before the order (reached by o1), and o2 paid on top
    rules(client, tenant, frozen, tiers=TIERS, tier_basis="rolling_12m")
    frozen.now = datetime(2027, 3, 15, tzinfo=UTC)
    pay(client, tenant, "o1", frozen.now)
    pay(client, tenant, "o2", frozen.now)
    # When o2 is cancelled, then Gold stays: the member held it before o2
    send(client, tenant, cancel_event("o2"))
    assert member(client, tenant)["tier"] == "Gold"


def combo_order(client: Any, creds: TenantCreds, frozen: Clock, **program: Any) -> None:
    """A 990.00 + B 10.00 with a 500-point combo on A+B: 550 points (5 % of 1000.00 is 50, and the combo's 500)."""
    rules(client, creds, frozen, combos=[{"skus": ["A", "B"], "bonus_points": 500}], **program)
    frozen.now = T0 + timedelta(days=1)
    items = [ITEM_A, ITEM_B]
    assert pay(client, creds, "o1", frozen.now, total=100_000, items=items)["points_earned"] == 550


ITEM_A = {"sku": "A", "quantity": 1, "amount_minor": 99_000}
ITEM_B = {"sku": "B", "quantity": 1, "amount_minor": 1_000}


def refund_items(order_id: str, refund_id: str, amount: int, items: list[dict[str, Any]]) -> dict[str, Any]:
    event = refund_event(order_id, refund_id, amount)
    event["data"]["items"] = items
    return event


def test_returning_the_cheap_item_of_a_combo_takes_the_combo_bonus(
    client: Any, tenant: TenantCreds, frozen: Clock
) -> None:
    # Given A + B bought together for a 500-point combo (550 points)
    combo_order(client, tenant, frozen)
    # When B (10.00) is returned, naming the item
    result = send(client, tenant, refund_items("o1", "r1", 1_000, [ITEM_B]))
    # Then the customer keeps what A alone earns (49): 501 are taken back, not 5
    assert result["points_reversed"] == 501
    assert member(client, tenant)["balance"] == 49
    # And returning A afterwards takes the rest, whatever it says
    assert send(client, tenant, refund_items("o1", "r2", 99_000, [ITEM_A]))["points_reversed"] == 49
    assert member(client, tenant)["balance"] == 0


def test_returning_an_item_keeps_the_points_of_what_the_customer_keeps(
    client: Any, tenant: TenantCreds, frozen: Clock
) -> None:
    # Given shoes earn ×10: a 100.00 pair of shoes and a 900.00 coat
    rules(client, tenant, frozen, category_multipliers={"shoes": 100_000})
    frozen.now = T0 + timedelta(days=1)
    shoes = {"sku": "S", "category": "shoes", "quantity": 1, "amount_minor": 10_000}
    coat = {"sku": "C", "quantity": 1, "amount_minor": 90_000}
    earned = pay(client, tenant, "o1", frozen.now, total=100_000, items=[shoes, coat])["points_earned"]
    # (5 % of 1000.00 = 50, weighted: (100.00 × 10 + 900.00) / 1000.00 = 1.9 → 95)
    assert earned == 95
    # When the shoes are returned, then what the coat earns alone (45) stays: 50 go, not 9 (the cash share)
    assert send(client, tenant, refund_items("o1", "r1", 10_000, [shoes]))["points_reversed"] == 50
    assert member(client, tenant)["balance"] == 45


def test_a_refund_without_items_of_a_combo_order_takes_the_combo_bonus_first(
    client: Any, tenant: TenantCreds, frozen: Clock
) -> None:
    # Given the combo order of 550 points (500 of them the combo's)
    combo_order(client, tenant, frozen)
    # When 10.00 is refunded without saying which items
    result = send(client, tenant, refund_event("o1", "r1", 1_000))
    # Then the combo's 500 go with it, and the share of the rest (1 % of 50, floored: 0)
    assert result["points_reversed"] == 500
    assert member(client, tenant)["balance"] == 50
