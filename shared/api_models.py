"""Request models of the HTTP API and the generic webhook (docs/spec.md §5, §6), validated by Pydantic.

Amounts are strict integers (a float or a numeric string is rejected, never rounded) with an
upper bound, so an absurd value is a 422 rather than an overflowing balance.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from shared.clock import parse_ts
from shared.money import MAX_MINOR  # ten billion units of any currency: above that an amount is a bug

MAX_POINTS = 10**10

MEMBER_ID_PATTERN = r"^[A-Za-z0-9._:@+\-]{1,128}$"  # the one definition: the platforms' customer ids too
MemberId = Annotated[str, StringConstraints(pattern=MEMBER_ID_PATTERN)]
ExternalId = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,128}$")]  # printable ASCII, no spaces
Minor = Annotated[int, Field(strict=True, ge=0, le=MAX_MINOR)]
PositiveMinor = Annotated[int, Field(strict=True, gt=0, le=MAX_MINOR)]
Points = Annotated[int, Field(strict=True, gt=0, le=MAX_POINTS)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a UTC offset")
    try:
        return parse_ts(value.isoformat()).replace(microsecond=0)
    except OverflowError as exc:  # e.g. 9999-12-31T23:59:59-12:00: its UTC instant is past year 9999
        raise ValueError("timestamp is out of range") from exc


def _text_time(value: Any) -> Any:
    """On the wire a time is ISO-8601 text, as documented: a JSON number is not read as Unix seconds."""
    if not isinstance(value, str | datetime):
        raise ValueError("timestamp must be an ISO-8601 string with a UTC offset")
    return value


UtcTime = Annotated[datetime, BeforeValidator(_text_time), AfterValidator(_utc)]


def _text_date(value: Any) -> Any:
    """A date is ISO-8601 text (YYYY-MM-DD): a JSON number is not read as Unix seconds."""
    if not isinstance(value, str | date):
        raise ValueError("date must be an ISO-8601 string (YYYY-MM-DD)")
    return value


Date = Annotated[date, BeforeValidator(_text_date)]


class Strict(BaseModel):
    # defer_build: a model's validator is built on first use, so a cold start pays only for its route's models
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


class Item(Strict):
    sku: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    category: Annotated[str, StringConstraints(max_length=128)] | None = None
    quantity: Annotated[int, Field(strict=True, ge=1, le=1_000_000)]
    amount_minor: Minor


class CartIn(Strict):
    total_minor: PositiveMinor
    shipping_minor: Minor = 0
    tax_minor: Minor = 0
    items: Annotated[list[Item], Field(max_length=1000)] | None = None

    @model_validator(mode="after")
    def _parts_within_total(self) -> CartIn:
        if self.shipping_minor + self.tax_minor > self.total_minor:
            raise ValueError("shipping_minor + tax_minor exceed total_minor")
        return self


class Customer(Strict):
    id: MemberId
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    birthday: Date | None = None
    referral_code: Annotated[str, StringConstraints(max_length=32)] | None = None  # only a first order uses it


class OrderPaidData(CartIn):
    order_id: ExternalId
    customer: Customer
    currency: Currency
    discount_minor: Minor = 0
    points_redeemed: Annotated[int, Field(strict=True, ge=0, le=MAX_POINTS)] = 0
    hold_id: ExternalId | None = None
    paid_at: UtcTime


class OrderRefundedData(Strict):
    order_id: ExternalId
    refund_id: Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,128}$")]
    amount_minor: PositiveMinor
    items: Annotated[list[Item], Field(max_length=1000)] | None = None

    @model_validator(mode="after")
    def _refund_id_not_reserved(self) -> OrderRefundedData:
        if self.refund_id == "CANCEL":
            raise ValueError("refund_id CANCEL is reserved")
        return self


class OrderCancelledData(Strict):
    order_id: ExternalId


EVENT_TYPES = ("order.paid", "order.refunded", "order.cancelled")


class Envelope(Strict):
    type: str
    timestamp: UtcTime
    data: dict[str, Any]


class PaidEvent(Envelope):
    """The documented shape of each event type; the handler reads an ``Envelope``, then its ``data`` by type."""

    type: Literal["order.paid"]
    data: OrderPaidData  # type: ignore[assignment]


class RefundedEvent(Envelope):
    type: Literal["order.refunded"]
    data: OrderRefundedData  # type: ignore[assignment]


class CancelledEvent(Envelope):
    type: Literal["order.cancelled"]
    data: OrderCancelledData  # type: ignore[assignment]


class QuoteIn(CartIn):
    member_id: MemberId
    currency: Currency


class HoldIn(Strict):
    member_id: MemberId
    order_id: ExternalId
    points: Points
    currency: Currency | None = None
    total_minor: PositiveMinor | None = None  # with the cart, the redeem share cap is enforced
    shipping_minor: Minor = 0
    tax_minor: Minor = 0


class CaptureIn(Strict):
    points: Points | None = None


class Consent(Strict):
    email: Annotated[bool, Field(strict=True)] | None = None
    sms: Annotated[bool, Field(strict=True)] | None = None
    call: Annotated[bool, Field(strict=True)] | None = None


class MemberUpdateIn(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    birthday: Date | None = None
    consent: Consent | None = None


class AbcQuery(Strict):
    """``GET .../reports/abc``: query strings arrive as text, so the numbers are parsed (lax), then bounded."""

    metric: Literal["revenue", "orders"] | None = None
    period_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    member_id: MemberId | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 100
    cursor: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,9}$")] | None = None


class HistoryQuery(Strict):
    limit: Annotated[int, Field(ge=1, le=100)] = 25
    cursor: Annotated[str, StringConstraints(max_length=2048)] | None = None


GrantId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
MAX_GRANT_MEMBER_IDS = 10_000  # shared.grants.MAX_MEMBER_IDS


class SegmentIn(Strict):
    """Exactly one of: every member, the members of one tier, a list of member ids."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    all: Annotated[bool, Field(strict=True)] | None = None
    tier: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    member_ids: Annotated[list[MemberId], Field(min_length=1, max_length=MAX_GRANT_MEMBER_IDS)] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SegmentIn:
        given = [name for name in ("all", "tier", "member_ids") if getattr(self, name) is not None]
        if len(given) != 1 or self.all is False:
            raise ValueError("give exactly one of all: true, tier or member_ids")
        return self


class GrantIn(Strict):
    """A bulk grant (docs/spec.md §8). ``grant_id`` is the client's idempotency key: the same id, the same grant."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    grant_id: GrantId
    segment: SegmentIn
    points: Points
    expires_at: UtcTime | None = None
    lifetime_days: Annotated[int, Field(strict=True, ge=1, le=3650)] | None = None
    reason: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    notify: Annotated[list[Literal["email", "sms"]], Field(max_length=2)] = []


class TransferBody(Strict):
    """``transfer_id`` is the caller's idempotency key: the same id again answers the first result."""

    transfer_id: ExternalId
    from_member_id: MemberId
    to_member_id: MemberId
    points: Points


class CabinetTransferIn(Strict):
    """A transfer to a friend from the cabinet: ``transfer_id`` is the page's idempotency key (a UUID, say): the same
    id again answers the first transfer; ``to`` is the friend's phone (international form), e-mail or referral code."""

    transfer_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
    to: Annotated[str, StringConstraints(min_length=3, max_length=254)]
    points: Points


class FeedbackIn(Strict):
    """A rating of one of the customer's paid orders, once per order."""

    order_id: ExternalId
    score: Annotated[int, Field(strict=True, ge=1, le=5)]
    comment: Annotated[str, StringConstraints(max_length=1000)] = ""


class FeedbackQuery(Strict):
    """The merchant's list: ratings created at or after ``since`` (at most 92 days ago; default 30), oldest first."""

    since: UtcTime | None = None
    cursor: Annotated[str, StringConstraints(max_length=512)] | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 50


class CabinetLoginIn(Strict):
    """The customer's e-mail or phone (international form, e.g. +79991234567)."""

    contact: Annotated[str, StringConstraints(min_length=3, max_length=254)]


class CabinetVerifyIn(Strict):
    contact: Annotated[str, StringConstraints(min_length=3, max_length=254)]
    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]


class CabinetProfileIn(Strict):
    """The customer's questionnaire: fields given replace the stored ones (a birthday only while none is set), consent
    channels given replace theirs. The e-mail and phone are not here: a new one is confirmed by a code first."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    birthday: Date | None = None
    consent: Consent | None = None
