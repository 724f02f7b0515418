"""Money and points arithmetic (SPEC §2). Integers only; every division rounds down."""

from __future__ import annotations

from functools import cache

BP = 10_000  # basis points in 100 %


@cache
def is_currency(code: str) -> bool:
    """True for an active ISO-4217 alphabetic code (table from the ``iso4217`` package)."""
    import iso4217  # imported lazily: only tenant creation and settings writes need it

    try:
        iso4217.Currency(code)
    except ValueError:
        return False
    return True


def eligible_minor(
    total_minor: int, shipping_minor: int, tax_minor: int, points_redeemed: int, point_value_minor: int
) -> int:
    """What accrual is computed on: the cash paid for goods, never below zero."""
    return max(0, total_minor - shipping_minor - tax_minor - points_redeemed * point_value_minor)


def points_for(eligible: int, earn_rate_bp: int, point_value_minor: int) -> int:
    """floor(eligible * rate / 10000 / point_value) in one integer division (no float, no double rounding)."""
    return (eligible * earn_rate_bp) // (BP * point_value_minor)


def share_floor(amount: int, numerator: int, denominator: int) -> int:
    """floor(amount * numerator / denominator), the proportional refund rule of §3."""
    if denominator <= 0:
        return amount
    return (amount * min(numerator, denominator)) // denominator
