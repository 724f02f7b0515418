"""Earning formula and redeem cap (docs/spec.md §2, §4): integers only, always rounded down."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.money import eligible_minor, points_for, share_floor
from shared.orders import max_redeemable
from shared.program import ProgramSettings
from shared.rules import Cart, Earning, Standing
from shared.rules import earn as earn_with_rules

PAID_AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def earn(cart: Cart, points_redeemed: int, settings: ProgramSettings) -> Earning:
    """The permanent program alone: no tier, no multiplier."""
    return earn_with_rules(cart, points_redeemed, settings, Standing(), PAID_AT)


def program(**overrides: int) -> ProgramSettings:
    return ProgramSettings(currency="RUB", **overrides)  # type: ignore[arg-type]


def test_spec_worked_example_earns_117_points() -> None:
    # Given 5 % at 100 minor per point, a 250000 order with 10000 shipping, 50 points redeemed
    settings = program(earn_rate_bp=500, point_value_minor=100)
    cart = Cart(total_minor=250_000, shipping_minor=10_000)
    # When the order's points are computed
    quote = earn(cart, 50, settings)
    # Then eligible is 250000 - 10000 - 5000 = 235000 and 117.5 rounds down to 117
    assert quote.eligible_minor == 235_000
    assert quote.points == 117


def test_tax_shipping_and_redeemed_points_are_all_excluded() -> None:
    # Given every deductible part present
    settings = program(earn_rate_bp=1_000, point_value_minor=10)
    cart = Cart(total_minor=100_000, shipping_minor=5_000, tax_minor=15_000)
    # When earning with 200 points (2000 minor) redeemed
    quote = earn(cart, 200, settings)
    # Then eligible = 100000 - 5000 - 15000 - 2000 and points = floor(78000 * 0.1 / 10)
    assert quote.eligible_minor == 78_000
    assert quote.points == 780


@pytest.mark.parametrize(
    ("eligible", "rate_bp", "point_value", "expected"),
    [
        (1_999, 500, 100, 0),  # 0.9995 -> 0
        (2_000, 500, 100, 1),  # exactly 1
        (3_999, 500, 100, 1),  # 1.9995 -> 1
        (199, 10_000, 100, 1),  # 1.99 -> 1 (100 % rate)
        (33_333, 300, 1, 999),  # 999.99 -> 999
        (0, 500, 100, 0),
    ],
)
def test_points_round_down(eligible: int, rate_bp: int, point_value: int, expected: int) -> None:
    # Given an eligible amount whose exact points have a fraction
    # When converted to points
    # Then the result is the floor, never rounded up
    assert points_for(eligible, rate_bp, point_value) == expected


def test_large_amounts_are_exact_without_float_error() -> None:
    # Given an amount where float arithmetic would lose precision
    eligible = 10**17 + 1
    # When converted at 100 % and 1 minor per point
    # Then the result is exact integer arithmetic
    assert points_for(eligible, 10_000, 1) == eligible
    assert points_for(eligible * 3, 3_333, 7) == (eligible * 3 * 3_333) // (10_000 * 7)


def test_eligible_never_goes_below_zero() -> None:
    # Given points redeemed that cover more than the goods
    # When the eligible amount is computed
    # Then it is 0, not negative, and nothing is earned
    assert eligible_minor(10_000, 2_000, 0, 100, 100) == 0
    assert earn(Cart(10_000, 2_000), 100, program()).points == 0


def test_share_floor_is_proportional_and_capped() -> None:
    # Given 117 points and a third of the cash
    # Then the share is floored, and a numerator above the denominator counts as the whole
    assert share_floor(117, 100_000, 245_000) == 47
    assert share_floor(117, 300_000, 245_000) == 117
    assert share_floor(117, 0, 245_000) == 0


def test_max_redeemable_is_capped_by_share_and_balance() -> None:
    # Given 50 % share, 100 minor per point, a cart of 100000 with 10000 shipping
    settings = program(max_redeem_share_bp=5_000, point_value_minor=100)
    cart = Cart(total_minor=100_000, shipping_minor=10_000)
    # When the member has plenty, the share of the goods (45000 -> 450 points) caps it
    assert max_redeemable(cart, 10_000, settings) == 450
    # When the member has less, the balance caps it
    assert max_redeemable(cart, 120, settings) == 120
    # When the member has a debt (negative available), nothing is redeemable
    assert max_redeemable(cart, -5, settings) == 0


def test_max_redeemable_below_minimum_is_zero() -> None:
    # Given a minimum of 100 points per redemption
    settings = program(min_redeem_points=100)
    # When the member can use only 99
    # Then nothing is redeemable rather than an amount below the minimum
    assert max_redeemable(Cart(1_000_000), 99, settings) == 0
    assert max_redeemable(Cart(1_000_000), 100, settings) == 100
