"""Moving points from one member to another (SPEC §8), pure: no I/O, integers only.

The sender spends from spendable lots, soonest-expiring first (the same rule as a redemption, so
held, pending and owed points can never leave). Each expiry date the points came from arrives as
one recipient lot with that date: transferred points keep their expiry, they do not get a new life.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from shared.ledger import Account, Credit, LotChange, Movement, credit, spend

SOURCE = "transfer"


def arrivals(taken: Iterable[LotChange], now: datetime) -> list[Credit]:
    """The recipient's new lots: one per expiry date of the lots the points were taken from."""
    by_expiry: dict[datetime, int] = defaultdict(int)
    for change in taken:
        by_expiry[change.expires_at] -= change.change
    return [Credit(points, SOURCE, now, expires) for expires, points in sorted(by_expiry.items()) if points > 0]


def move_points(
    sender: Account, recipient: Account, points: int, now: datetime
) -> tuple[Account, Movement, Account, Movement]:
    """Both accounts after the transfer and one movement on each side (``transfer_out`` / ``transfer_in``).

    Raises ``InsufficientPoints`` when the sender's available balance is below ``points``."""
    sender, out = spend(sender, points, now)
    recipient, incoming = credit(recipient, "transfer_in", arrivals(out.lots, now), now)
    return sender, replace(out, kind="transfer_out"), recipient, incoming
