"""One member's ledger (docs/spec.md §3) as pure functions: no I/O, no clock, integers only.

A ``Ledger`` is everything that decides what a member may spend: the open lots (points left),
the open holds and the debt. Each operation returns a new ``Ledger`` and the ``Movement`` it
caused (the body of one append-only ledger entry). The data layer writes both in one transaction
guarded by the account's version (``shared.account.Account``), so an operation computed on stale state is retried, never applied.

Balance identity kept by every operation (and checked by the property tests):
``balance == sum(lot.remaining) - debt == sum of all movement deltas``;
``available == remaining in spendable lots - held - debt``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, cast, get_args

from shared.errors import Conflict, InsufficientPoints, Unprocessable

# What a ledger entry did, and where a lot's points came from: mypy refuses any other value.
EntryKind = Literal[
    "earn", "redeem", "reverse", "restore", "expire", "activate", "grant", "referral", "transfer_in", "transfer_out"
]
LotSource = Literal["order", "promo", "refund", "grant", "birthday", "referral", "transfer"]


ENTRY_KINDS: frozenset[str] = frozenset(get_args(EntryKind))
LOT_SOURCES: frozenset[str] = frozenset(get_args(LotSource))


def entry_kind(value: str) -> EntryKind:
    """A stored kind back to its type; anything else is a corrupt record, not a value to carry on with."""
    if value not in ENTRY_KINDS:
        raise ValueError(f"unknown entry kind {value!r}")
    return cast(EntryKind, value)


def lot_source(value: str) -> LotSource:
    if value not in LOT_SOURCES:
        raise ValueError(f"unknown lot source {value!r}")
    return cast(LotSource, value)


MAX_OPEN_HOLDS = 20  # a cart abandons its hold; this caps what abandoned carts can pile up


@dataclass(frozen=True, kw_only=True)
class Lot:
    lot_id: str
    points: int  # as accrued
    remaining: int
    source: LotSource
    earned_at: datetime
    available_at: datetime
    expires_at: datetime

    def spendable(self, now: datetime) -> bool:
        return self.available_at <= now < self.expires_at

    def pending(self, now: datetime) -> bool:
        return now < self.available_at and now < self.expires_at

    def expired(self, now: datetime) -> bool:
        return self.expires_at <= now


@dataclass(frozen=True)
class Hold:
    hold_id: str
    order_id: str
    points: int
    expires_at: datetime

    def active(self, now: datetime) -> bool:
        return now < self.expires_at


@dataclass(frozen=True)
class LotChange:
    """How one lot's remaining points moved within one entry (the entry's "lots touched")."""

    lot_id: str
    change: int
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class Movement:
    kind: EntryKind
    delta: int
    seq: int
    balance_after: int
    lots: tuple[LotChange, ...] = ()
    debt_change: int = 0


@dataclass(frozen=True)
class Balances:
    balance: int
    available: int
    pending: int
    held: int
    debt: int


@dataclass(frozen=True)
class Ledger:
    """What decides what a member may spend: the open lots, the open holds and the debt (``seq`` numbers the
    entries). The member's standing under the program and the scheduler's wake-ups are kept beside it in
    ``shared.account.Account``, never in here: a new program feature does not widen the ledger."""

    member_id: str
    seq: int = 0
    debt: int = 0
    lots: tuple[Lot, ...] = ()
    holds: tuple[Hold, ...] = ()

    @property
    def next_expiry(self) -> datetime | None:
        """When the soonest lot with points left expires (lots are removed once empty)."""
        return min((lot.expires_at for lot in self.lots), default=None)

    @property
    def next_hold_expiry(self) -> datetime | None:
        return min((h.expires_at for h in self.holds), default=None)

    def next_activation(self, since: datetime | None) -> datetime | None:
        """When the next pending lot becomes spendable and has not been announced (by ``since``) yet."""
        return min((lot.available_at for lot in self.unannounced(since)), default=None)

    def unannounced(self, since: datetime | None) -> list[Lot]:
        """Pending lots (available later than earned) whose availability is after ``since``."""
        return [
            lot for lot in self.lots if lot.available_at > lot.earned_at and (since is None or lot.available_at > since)
        ]

    @property
    def balance(self) -> int:
        return sum(lot.remaining for lot in self.lots) - self.debt

    def balances(self, now: datetime) -> Balances:
        """What the member has at ``now``: lots past their expiry no longer count, even before the
        expiry entry that removes them is written (every write writes it first)."""
        held = sum(h.points for h in self.holds if h.active(now))
        spendable = sum(lot.remaining for lot in self.lots if lot.spendable(now))
        pending = sum(lot.remaining for lot in self.lots if lot.pending(now))
        return Balances(spendable + pending - self.debt, spendable - held - self.debt, pending, held, self.debt)

    def open_lots(self, now: datetime) -> list[Lot]:
        """Lots the member still has (pending or spendable), soonest-expiring first."""
        return [lot for lot in self.lots if not lot.expired(now)]

    def active_hold(self, hold_id: str, now: datetime) -> Hold | None:
        return next((h for h in self.holds if h.hold_id == hold_id and h.active(now)), None)


def expiry_order(lots: Iterable[Lot]) -> tuple[Lot, ...]:
    """Soonest-expiring first; ties broken by lot id so the order never depends on storage."""
    return tuple(sorted(lots, key=lambda lot: (lot.expires_at, lot.lot_id)))


@dataclass(frozen=True)
class Credit:
    """Points to add as one new lot."""

    points: int
    source: LotSource
    available_at: datetime
    expires_at: datetime


def credit(account: Ledger, kind: EntryKind, credits: Sequence[Credit], now: datetime) -> tuple[Ledger, Movement]:
    """Add lots (earn, restore, grant). Debt is paid first: a lot keeps only what is left after it.

    A lot born past its expiry (an order reported after its lifetime, a restore with no grace) is worth
    nothing at ``now``: it pays no debt, and the caller's expiry removes it in the same write."""
    if not credits or any(c.points <= 0 for c in credits):
        raise ValueError("credits must be positive")
    seq = account.seq + 1
    debt = account.debt
    lots = list(account.lots)
    changes: list[LotChange] = []
    for index, item in enumerate(credits):
        paid = min(debt, item.points) if now < item.expires_at else 0
        debt -= paid
        lot_id = str(seq) if index == 0 else f"{seq}-{index}"
        if item.points - paid > 0:
            lots.append(
                Lot(
                    lot_id=lot_id,
                    points=item.points,
                    remaining=item.points - paid,
                    source=item.source,
                    earned_at=now,
                    available_at=item.available_at,
                    expires_at=item.expires_at,
                )
            )
            changes.append(LotChange(lot_id, item.points - paid, item.expires_at))
    updated = replace(account, seq=seq, debt=debt, lots=expiry_order(lots))
    total = sum(c.points for c in credits)
    movement = Movement(
        kind=kind,
        delta=total,
        seq=seq,
        balance_after=updated.balance,
        lots=tuple(changes),
        debt_change=debt - account.debt,
    )
    return updated, movement


def _take(lots: Sequence[Lot], wanted: dict[str, int]) -> tuple[tuple[Lot, ...], tuple[LotChange, ...]]:
    """Remove ``wanted[lot_id]`` points from each lot; lots left empty leave the account."""
    kept: list[Lot] = []
    changes: list[LotChange] = []
    for lot in lots:
        take = wanted.get(lot.lot_id, 0)
        if take:
            changes.append(LotChange(lot.lot_id, -take, lot.expires_at))
        if lot.remaining - take > 0:
            kept.append(replace(lot, remaining=lot.remaining - take))
    return tuple(kept), tuple(changes)


def _prune_holds(holds: Iterable[Hold], now: datetime, drop: str | None = None) -> tuple[Hold, ...]:
    return tuple(h for h in holds if h.active(now) and h.hold_id != drop)


def spend(account: Ledger, points: int, now: datetime, *, releasing: str | None = None) -> tuple[Ledger, Movement]:
    """Redeem points from spendable lots, soonest-expiring first. ``releasing`` names a hold
    whose reservation this spend consumes (its points count as available for it)."""
    if points <= 0:
        raise ValueError("points must be positive")
    holds = _prune_holds(account.holds, now, drop=releasing)
    unheld = replace(account, holds=holds)
    if points > unheld.balances(now).available:
        raise InsufficientPoints(f"{points} points requested, {max(0, unheld.balances(now).available)} available")
    wanted: dict[str, int] = {}
    left = points
    for lot in account.lots:  # kept in expiry order
        if left and lot.spendable(now):
            wanted[lot.lot_id] = min(left, lot.remaining)
            left -= wanted[lot.lot_id]
    lots, changes = _take(account.lots, wanted)
    seq = account.seq + 1
    updated = replace(account, seq=seq, lots=lots, holds=holds)
    return updated, Movement(kind="redeem", delta=-points, seq=seq, balance_after=updated.balance, lots=changes)


def reverse(account: Ledger, points: int, now: datetime, own_lot_ids: Sequence[str] = ()) -> tuple[Ledger, Movement]:
    """Take earned points back: the order's own lots first, then soonest-expiring others, then debt.

    Points reserved by open holds stay untouched so a hold the merchant already granted can still
    be captured; what cannot be taken becomes debt that later accruals pay first.
    """
    if points <= 0:
        raise ValueError("points must be positive")
    live = [lot for lot in account.lots if not lot.expired(now)]
    own = [lot for lot in live if lot.lot_id in own_lot_ids]
    ordered = own + [lot for lot in live if lot.lot_id not in own_lot_ids]
    held = account.balances(now).held
    free_spendable = sum(lot.remaining for lot in live if lot.spendable(now)) - held
    wanted: dict[str, int] = {}
    left = points
    for lot in ordered:
        cap = lot.remaining if lot.pending(now) else max(0, min(lot.remaining, free_spendable))
        take = min(left, cap)
        if take:
            wanted[lot.lot_id] = take
            left -= take
            if lot.spendable(now):
                free_spendable -= take
    lots, changes = _take(account.lots, wanted)
    seq = account.seq + 1
    updated = replace(account, seq=seq, lots=lots, debt=account.debt + left)
    return updated, Movement(
        kind="reverse", delta=-points, seq=seq, balance_after=updated.balance, lots=changes, debt_change=left
    )


def expire(account: Ledger, now: datetime) -> tuple[Ledger, Movement | None]:
    """Remove the points left in lots whose expiry has passed (one ``expire`` entry)."""
    due = {lot.lot_id: lot.remaining for lot in account.lots if lot.expired(now)}
    if not due:
        return account, None
    lots, changes = _take(account.lots, due)
    seq = account.seq + 1
    updated = replace(account, seq=seq, lots=lots)
    return updated, Movement(
        kind="expire", delta=-sum(due.values()), seq=seq, balance_after=updated.balance, lots=changes
    )


def place_hold(account: Ledger, hold: Hold, now: datetime) -> Ledger:
    """Reserve points for an order; they leave the available balance until capture or release."""
    holds = _prune_holds(account.holds, now)
    if any(h.order_id == hold.order_id for h in holds):
        raise Conflict(f"order {hold.order_id} already has an open hold", code="hold_exists")
    if len(holds) >= MAX_OPEN_HOLDS:
        raise Unprocessable("too many open holds for this member", code="too_many_holds")
    current = replace(account, holds=holds)
    available = current.balances(now).available
    if hold.points > available:
        raise InsufficientPoints(f"{hold.points} points requested, {max(0, available)} available")
    return replace(current, holds=(*holds, hold))


def release_hold(account: Ledger, hold_id: str, now: datetime) -> Ledger:
    if account.active_hold(hold_id, now) is None:
        raise Conflict("hold is not active (captured, released or expired)", code="hold_not_active")
    return replace(account, holds=_prune_holds(account.holds, now, drop=hold_id))


def capture(account: Ledger, hold_id: str, points: int, now: datetime) -> tuple[Ledger, Movement]:
    """Spend up to the held points; a smaller capture releases the rest with the hold."""
    hold = account.active_hold(hold_id, now)
    if hold is None:
        raise Conflict("hold is not active (captured, released or expired)", code="hold_not_active")
    if not 0 < points <= hold.points:
        raise Unprocessable(f"capture must be between 1 and {hold.points} points", code="invalid_points")
    return spend(account, points, now, releasing=hold_id)


def release_expired_holds(account: Ledger, now: datetime) -> tuple[Ledger, tuple[Hold, ...]]:
    """Drop holds past their TTL (they stopped counting at ``expires_at``; this frees the slot)."""
    lapsed = tuple(h for h in account.holds if not h.active(now))
    return replace(account, holds=_prune_holds(account.holds, now)), lapsed


def activate(account: Ledger, since: datetime | None, now: datetime) -> tuple[Ledger, Movement | None]:
    """Announce pending lots that became spendable after ``since`` and by ``now`` (an ``activate`` entry, delta 0);
    the caller keeps ``now`` as the next ``since``.

    Balances already switch by time; the entry lets the customer see the moment in the history."""
    ready = [lot for lot in account.unannounced(since) if lot.available_at <= now and not lot.expired(now)]
    if not ready:
        return account, None
    seq = account.seq + 1
    updated = replace(account, seq=seq)
    changes = tuple(LotChange(lot.lot_id, 0, lot.expires_at) for lot in ready)
    return updated, Movement(kind="activate", delta=0, seq=seq, balance_after=updated.balance, lots=changes)


def nothing(account: Ledger, kind: EntryKind) -> tuple[Ledger, Movement]:
    """An entry that moves no points but stays on record (an order below the earning threshold, a referral bonus
    whose lot had expired before its reversal): the next sequence number, delta 0."""
    seq = account.seq + 1
    return replace(account, seq=seq), Movement(kind=kind, delta=0, seq=seq, balance_after=account.balance)
