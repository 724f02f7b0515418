"""What a webhook may claim (issue 13 items 14 and 15), on the standard webhook and every platform adapter.

- ``paid_at`` lies within [now − 730 days, now + 5 minutes]. A payment cannot be in the future beyond the clock
  skew the signature tolerates; a far-future one overflowed (year 9999: a 500 the sender retried for ever) or earned
  lots that become available decades later. Late reports are legitimate (outages, back-fills, decision 41's orders
  reported after their lots' lifetime), so the past bound is generous: two years, beyond the rolling twelve months
  that standing looks at and beyond any platform's retry or payment terms.
- Every amount of a platform's command is at most ``MAX_MINOR`` minor units, the bound of the standard webhook's
  models: above it an amount is a bug, and DynamoDB refuses numbers of more than 38 digits.

Both answer 422 with a stable code (``paid_at_out_of_range``, ``amount_out_of_range``) and write nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.errors import Unprocessable
from shared.money import bounded
from shared.webhooks.commands import Command, Paid, Refund

PAID_AT_MAX_AGE = timedelta(days=730)
PAID_AT_MAX_AHEAD = timedelta(minutes=5)  # the signature's clock tolerance
MAX_QUANTITY = 1_000_000  # as the standard webhook's items


class PaidAtOutOfRange(Unprocessable):
    code = "paid_at_out_of_range"


def check_paid_at(paid_at: datetime, now: datetime) -> datetime:
    """``paid_at`` if it lies within [now − 730 days, now + 5 minutes], else ``PaidAtOutOfRange``."""
    if not now - PAID_AT_MAX_AGE <= paid_at <= now + PAID_AT_MAX_AHEAD:
        raise PaidAtOutOfRange(
            f"paid_at must lie between {PAID_AT_MAX_AGE.days} days ago and "
            f"{int(PAID_AT_MAX_AHEAD.total_seconds() // 60)} minutes from now"
        )
    return paid_at


def check_command(command: Command, now: datetime) -> None:
    """A platform's command within the bounds, else a 422 before anything of its delivery is applied."""
    if isinstance(command, Paid):
        check_paid_at(command.paid_at, now)
        cart = command.cart
        for what, amount in (("total", cart.total_minor), ("shipping", cart.shipping_minor), ("tax", cart.tax_minor)):
            bounded(amount, f"the order's {what}")
        lines = command.lines or cart.lines
        if any(line.quantity > MAX_QUANTITY for line in lines):
            raise Unprocessable(f"a line's quantity is above {MAX_QUANTITY}", code="amount_out_of_range")
        bounded(sum(line.amount_minor for line in lines), "the order's lines")
    if isinstance(command, Refund):
        bounded(command.amount_minor or 0, "the refund")
        bounded(command.cumulative_minor or 0, "the refunded total")
