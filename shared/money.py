"""Money and points arithmetic (docs/spec.md §2). Integers only; every division rounds down."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import cache

from shared.errors import Unprocessable

BP = 10_000  # basis points in 100 %
MAX_MINOR = 10**12  # ten billion units of any currency: above that an amount is a bug (issue 13)


class AmountOutOfRange(Unprocessable):
    """An amount above ``MAX_MINOR``: refused (422) rather than stored as an absurd balance, or refused by
    DynamoDB (38 digits at most) on every retry of the sender."""

    code = "amount_out_of_range"


def bounded(minor: int, what: str = "an amount") -> int:
    """``minor`` if it is within ``MAX_MINOR``, else ``AmountOutOfRange``."""
    if minor > MAX_MINOR:
        raise AmountOutOfRange(f"{what} is above {MAX_MINOR} minor units")
    return minor


@cache
def is_currency(code: str) -> bool:
    """True for an active ISO-4217 alphabetic code (table from the ``iso4217`` package)."""
    import iso4217  # imported lazily: only tenant creation and settings writes need it

    try:
        iso4217.Currency(code)
    except ValueError:
        return False
    return True


@cache
def exponent(code: str) -> int:
    """Digits after the decimal point of an ISO-4217 currency (JPY 0, USD 2, KWD 3); currencies without minor
    units in the table (some funds and metals) count as 2."""
    import iso4217

    value = iso4217.Currency(code).exponent
    return 2 if value is None else int(value)


def to_minor(amount: str | int | float, currency: str) -> int:
    """A platform's decimal amount (``"181.09"``) in minor units, exactly. An amount with more decimals than the
    currency has, a negative or a non-number raises ``ValueError``: money is never rounded on the way in. An amount
    above ``MAX_MINOR`` raises ``AmountOutOfRange`` before it is turned into an integer (``"1e400000000"`` would
    otherwise take minutes and gigabytes)."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {amount!r}") from exc
    if not value.is_finite() or value < 0:
        raise ValueError(f"not an amount: {amount!r}")
    minor = value.scaleb(exponent(currency))
    if minor > MAX_MINOR:
        raise AmountOutOfRange(f"{amount!r} {currency} is above {MAX_MINOR} minor units")
    if minor != minor.to_integral_value():
        raise ValueError(f"{amount!r} has more decimals than {currency} allows")
    return int(minor)


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
