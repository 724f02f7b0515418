"""Moving points from one member to another (docs/spec.md §8), pure: no I/O, integers only.

The sender spends from spendable lots, soonest-expiring first (the same rule as a redemption, so
held, pending and owed points can never leave). Each expiry date the points came from arrives as
one recipient lot with that date: transferred points keep their expiry, they do not get a new life.

Points of an order (and of its promo or referral) stay until the order's return window has passed
(``transfer.min_lot_age_days``): a cancellation within it must find them on the member who earned them,
or it leaves a debt nobody will pay (issue 13 item 12).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from shared.errors import InsufficientPoints, Unprocessable
from shared.ledger import Credit, Ledger, Lot, LotChange, LotSource, Movement, credit, expiry_order, spend

SOURCE: LotSource = "transfer"
RETURNABLE = frozenset({"order", "promo", "referral"})  # lots a cancellation of their order takes back


def settled(lot: Lot, now: datetime, min_age: timedelta) -> bool:
    """Whether the lot's points may leave the member: not earned on an order that may still be returned."""
    return lot.source not in RETURNABLE or lot.earned_at + min_age <= now


def _settled_part(account: Ledger, now: datetime, min_age: timedelta) -> Ledger:
    """The account with only its settled lots: holds and debt count against these points."""
    return replace(account, lots=tuple(lot for lot in account.lots if settled(lot, now, min_age)))


def transferable(account: Ledger, now: datetime, min_age: timedelta) -> int:
    """How many points may be sent now: spendable settled points less holds and debt."""
    return max(0, _settled_part(account, now, min_age).balances(now).available)


def arrivals(taken: Iterable[LotChange], now: datetime) -> list[Credit]:
    """The recipient's new lots: one per expiry date of the lots the points were taken from."""
    by_expiry: dict[datetime, int] = defaultdict(int)
    for change in taken:
        by_expiry[change.expires_at] -= change.change
    return [Credit(points, SOURCE, now, expires) for expires, points in sorted(by_expiry.items()) if points > 0]


def move_points(
    sender: Ledger, recipient: Ledger, points: int, now: datetime, *, min_lot_age: timedelta
) -> tuple[Ledger, Movement, Ledger, Movement]:
    """Both accounts after the transfer and one movement on each side (``transfer_out`` / ``transfer_in``).

    Raises ``InsufficientPoints`` when the sender's available balance is below ``points``, and 422
    ``points_not_yet_transferable`` when it suffices but the points past the return window do not."""
    available = sender.balances(now).available
    if points > available:
        raise InsufficientPoints(f"{points} points requested, {max(0, available)} available")
    allowed = transferable(sender, now, min_lot_age)
    if points > allowed:
        raise Unprocessable(
            f"{points} points requested, {allowed} may be sent now: points of an order can be sent "
            f"{min_lot_age.days} days after they were earned",
            code="points_not_yet_transferable",
            details={"transferable": allowed, "min_lot_age_days": min_lot_age.days},
        )
    spent, out = spend(_settled_part(sender, now, min_lot_age), points, now)
    recent = [lot for lot in sender.lots if not settled(lot, now, min_lot_age)]
    sender = replace(spent, lots=expiry_order((*spent.lots, *recent)))
    recipient, incoming = credit(recipient, "transfer_in", arrivals(out.lots, now), now)
    return sender, replace(out, kind="transfer_out", balance_after=sender.balance), recipient, incoming
