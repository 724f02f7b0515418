"""What the services hand to storage and get back: plain dataclasses, no DynamoDB types.

A ``Commit`` is one atomic change: the member's new account (guarded by the version it was
computed from) plus new immutable records, each created only if its key is new. The keys are
business keys (order, refund, hold), which is what makes replays harmless (docs/spec.md §3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from shared.account import Account
from shared.entry_details import EntryDetails
from shared.keys import MemberKey as MemberKey  # re-exported: the services name it with the records
from shared.ledger import LotChange, Movement
from shared.orders import Returned


@dataclass(frozen=True, kw_only=True)
class EntryRecord:
    """One append-only ledger entry. ``scope``/``key`` name it uniquely within the tenant:
    ``ORDER#<id>``/``PAID`` for an order's accrual, ``ORDER#<id>``/``REFUND#<rid>#REVERSE`` ..."""

    scope: str
    key: str
    member_id: str
    movement: Movement
    reference: str
    created_at: datetime
    event_id: str | None = None
    details: EntryDetails | None = None
    paid_index: PaidIndex | None = None  # set on an order's accrual: the entry is a row of the tenant's paid orders


@dataclass(frozen=True, kw_only=True)
class PaidIndex:
    """What an order's PAID entry puts in the ``abc_paid`` index (the ABC analysis reads paid orders by time)."""

    order_id: str
    paid_at: datetime
    cash_minor: int


@dataclass(frozen=True, kw_only=True)
class HoldRecord:
    hold_id: str
    member_id: str
    order_id: str
    points: int
    discount_minor: int
    expires_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class OrderHoldClaim:
    """Which hold an order's checkout is on (one open hold per order, whichever member): written with the hold,
    marked ``captured`` or ``released`` by the commit that ends it, so the next hold's condition can tell."""

    order_id: str
    hold_id: str
    member_id: str
    expires_at: datetime
    status: Literal["active", "captured", "released"]


@dataclass(frozen=True, kw_only=True)
class RefundRecord:
    """A processed refund or cancellation (``refund_id == "CANCEL"``) of one order."""

    order_id: str
    refund_id: str
    member_id: str
    amount_minor: int | None
    refunded_minor: int  # cumulative cash refunded after it
    reversed_points: int
    restored_points: int
    created_at: datetime
    event_id: str | None = None
    order_paid_at: datetime | None = None  # indexes the refund with its order for the ABC analysis
    returned: tuple[Returned, ...] = ()  # the order's items returned by this refund and those before it


@dataclass(frozen=True)
class PaidRow:
    """One row of a tenant's paid orders (the ``abc_paid`` index): an order's PAID entry, or one of its refunds."""

    order_id: str
    member_id: str
    minor: int  # PAID: the cash paid; a refund: the cumulative cash refunded after it
    refund_id: str | None = None  # None: the PAID entry; "CANCEL": the order was cancelled


@dataclass(frozen=True, kw_only=True)
class Profile:
    """A member's contact data and consent. Read, it is the whole item (consent: every channel). Written
    (``Commit.profile``, ``save_profile``), it is a patch: None fields and consent channels it does not name
    keep what is stored, so an order's contact data and a merchant's opt-out never undo each other."""

    member_id: str
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    birthday: str | None = None
    consent: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Member:
    account: Account
    profile: Profile | None
    exists: bool


@dataclass(frozen=True)
class Redemption:
    """Points spent on an order (captured hold or direct), with the lots they came from."""

    points: int
    lots: tuple[LotChange, ...]
    hold_id: str | None
    member_id: str  # whose points they were: only that member's order may use them, and a cancel returns them


@dataclass(frozen=True)
class OrderState:
    """Everything recorded under one order id."""

    paid: EntryRecord | None = None
    voided: bool = False  # cancelled before it was ever paid
    redemption: Redemption | None = None
    refunds: tuple[RefundRecord, ...] = ()
    referral: tuple[EntryRecord, ...] = ()  # REFERRAL#REFEREE/REFERRER and the refunds' reversals of them

    @property
    def cancelled(self) -> bool:
        return any(r.refund_id == "CANCEL" for r in self.refunds)


@dataclass(frozen=True)
class CounterRecord:
    """A running total in the member's partition (``TRANSFER#<YYYY-MM>``: points sent that month), written
    only if it still holds ``previous`` (None: it must not exist yet), so concurrent writers cannot both count
    from the same total."""

    member_id: str
    key: str
    value: int
    previous: int | None


@dataclass(frozen=True, kw_only=True)
class Commit:
    member_id: str
    account: Account | None = None  # None: the account is not touched
    expected_version: int = 0
    entries: tuple[EntryRecord, ...] = ()
    hold: HoldRecord | None = None
    refund: RefundRecord | None = None
    profile: Profile | None = None
    void_order: str | None = None
    counter: CounterRecord | None = None
    claim: OrderHoldClaim | None = None  # the order's hold claim (see ``OrderHoldClaim``)


@dataclass(frozen=True, kw_only=True)
class NotificationRecord:
    """One message to one member (see ``shared.dal.models.NotificationItem`` for the statuses): an expiry reminder,
    a program message (``topic``), whose ``expiry_date`` is then the date the message is about, or a bulk grant's
    notice (``grant_id``)."""

    member_id: str
    key: str  # NOTIFY#<expiry date>#<days before:03d>#<channel>, or NOTIFY#<TOPIC>#<occasion>#<channel>
    expiry_date: str
    days_before: int
    channel: str
    points: int
    status: str
    attempts: int
    seq: int
    created_at: datetime
    updated_at: datetime
    cost_usd_micros: int = 0
    message_id: str | None = None
    error: str | None = None
    topic: str = "expiry"  # expiry | birthday | tier_downgrade | boost_ending
    grant_id: str | None = None  # a bulk grant's message (key MSG#GRANT#<grant>#<channel>), else an expiry reminder


@dataclass(frozen=True)
class HistoryPage:
    entries: list[EntryRecord | NotificationRecord]
    cursor: str | None


@dataclass(frozen=True)
class DuePage:
    """Members a scheduled job must look at, and where the next page starts (None: the shard is done)."""

    keys: list[MemberKey]
    cursor: dict[str, Any] | None
