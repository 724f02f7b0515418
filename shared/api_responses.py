"""Response models of the HTTP API (docs/spec.md §6): what every route answers, success and error, as JSON Schema.

scripts/openapi.py writes them into docs/openapi.json; tests/integration/test_response_schemas.py checks real answers
of every route against the document, and schemathesis checks the deployed stack's (tests/deployed/). The presenters
(shared/presenters.py) still build plain dicts: no validation on the request path, no cost at run time. A field that
is omitted when empty is typed ``X | SkipJsonSchema[None] = None`` (optional, never null); one that is present but
may be empty is ``X | None`` (required, nullable). Every model forbids other keys, so a new field in a presenter
fails the tests until it is declared here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel
from pydantic.json_schema import SkipJsonSchema

from shared import campaigns
from shared.program import ProgramSettings

Count = Annotated[int, Field(ge=0)]
Basis = Annotated[int, Field(ge=0, le=10_000)]  # a share in basis points (1/100 of a percent)


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class ErrorDetail(Out):
    code: str = Field(description="stable machine-readable code, e.g. validation_error, insufficient_points")
    message: str
    details: Any | SkipJsonSchema[None] = None


class Error(Out):
    """Every error: ``{"error": {"code", "message", "details"?}}``; ``details`` lists the invalid fields of a 422."""

    error: ErrorDetail


class HealthOut(Out):
    status: Literal["ok"]


class OrderResultOut(Out):
    """The effect of one order event; ``balance`` and ``member_id`` are omitted when no member was touched."""

    status: Literal["applied", "duplicate", "ignored", "rejected"]
    order_id: str
    member_id: str | SkipJsonSchema[None] = None
    points_earned: Count
    points_redeemed: Count
    points_reversed: Count
    points_restored: Count
    balance: int | SkipJsonSchema[None] = None
    reason: str | SkipJsonSchema[None] = None


class PlatformResultOut(Out):
    """A platform delivery: its topic and the effect of each command it carried (unknown topics: ignored)."""

    topic: str
    results: list[OrderResultOut]


class QuoteOut(Out):
    available: int
    max_redeemable_points: Count
    max_discount_minor: Count
    points_to_earn: Count
    points_to_earn_at_max_redeem: Count
    tier: str | None
    tier_discount_minor: Count
    boost_discount_minor: Count


class HoldOut(Out):
    hold_id: str
    code: str | None = Field(description="the one-time checkout code a platform order's discount code may carry")
    order_id: str
    member_id: str
    points: Count
    discount_minor: Count
    expires_at: datetime
    status: Literal["active", "captured", "released"]


class LotOut(Out):
    lot_id: str
    points: int
    remaining: int
    source: str
    earned_at: datetime
    available_at: datetime
    expires_at: datetime


class ContactOut(Out):
    """A member's contact data; ``consent`` names only the channels ever set."""

    member_id: str
    email: str | None
    phone: str | None
    name: str | None
    birthday: date | None
    consent: dict[str, bool]


class MemberOut(ContactOut):
    balance: int
    available: int
    pending: int
    held: int
    debt: int
    tier: str | None
    tier_spend_minor: int
    vip: bool
    boost_until: datetime | None
    lifetime_spend_minor: int
    referral_code: str | None = Field(description="what a new customer gives on a first order (program `referral`)")
    lots: list[LotOut] = Field(description="every open lot, soonest-expiring first")
    next_tier: NextTierOut | None = Field(description="the tier above the member's; null at the top or without tiers")


class NextTierOut(Out):
    name: str
    spend_needed_minor: int = Field(description="what the member still has to spend to reach it")


class CabinetMeOut(MemberOut):
    currency: str
    share_link: str | None = Field(description="the referral code in a link to share (program `cabinet.share_url`)")


class CabinetShopOut(Out):
    """The shop as its cabinet page shows it before a login."""

    tenant_id: str
    title: str
    colour: str
    language: str
    currency: str
    self_enrolment: bool = Field(description="a customer who is no member yet may join from the cabinet")
    sms_login: bool = Field(description="some countries' phones get login codes by SMS (`cabinet.sms_calling_codes`)")


class MemberRef(Out):
    member_id: str


class MembersOut(Out):
    members: list[MemberRef]


class LotChangeOut(Out):
    lot_id: str
    change: int
    expires_at: datetime


class EntryOut(Out):
    """A ledger entry: points moved (earn, redeem, reverse, restore, expire, transfer, ...)."""

    seq: int
    kind: str
    delta: int
    balance_after: int
    debt_change: int
    reference: str
    entry: str
    created_at: datetime
    lots: list[LotChangeOut]
    details: dict[str, Any]


class NotificationDetails(Out):
    topic: str
    channel: str
    days_before: int
    expiry_date: str
    points: int
    status: str
    attempts: int
    cost_usd_micros: int
    message_id: str | None
    error: str | None
    updated_at: datetime
    grant_id: str | SkipJsonSchema[None] = None


class NotificationOut(Out):
    """A message sent to the member: no points move."""

    seq: int
    kind: Literal["notification"]
    delta: Literal[0]
    reference: str
    entry: str
    created_at: datetime
    lots: Annotated[list[LotChangeOut], Field(max_length=0)]
    details: NotificationDetails


class HistoryOut(Out):
    entries: list[EntryOut | NotificationOut]
    next_cursor: str | None


class ProgramOut(ProgramSettings):
    """The settings in force and their version (every field of ``ProgramSettings``)."""

    version: Annotated[int, Field(ge=1)]
    effective_at: datetime


class AbcClass(Out):
    members: Count
    value: int
    share_bp: Basis


class AbcClasses(Out):
    A: AbcClass
    B: AbcClass
    C: AbcClass


class AbcRanked(Out):
    member_id: str
    value: int
    rank: Annotated[int, Field(ge=1)]
    share_bp: Basis
    cumulative_share_bp: Basis


class AbcMember(Out):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, populate_by_name=True)

    member_id: str
    klass: Literal["A", "B", "C"] = Field(alias="class")
    value: int
    rank: int | None


class AbcReportOut(Out):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, populate_by_name=True)

    metric: Literal["revenue", "orders"]
    period_days: Annotated[int, Field(ge=1)]
    since: datetime = Field(alias="from")
    until: datetime = Field(alias="to")
    currency: str | None = Field(description="the tenant's currency for metric revenue, else null")
    total: int
    members: Count
    classes: AbcClasses
    class_a: list[AbcRanked] = Field(description="one page of the A members, highest first")
    next_cursor: str | None
    member: AbcMember | SkipJsonSchema[None] = Field(default=None, description="given with ?member_id=")


class AllMembers(Out):
    all: Literal[True]


class TierMembers(Out):
    tier: str


class ListedMembers(Out):
    member_ids: Annotated[int, Field(ge=1, description="how many member ids were given")]


class GrantTasks(Out):
    chains: Count
    chains_done: Count
    parts_done: Count


class GrantOut(Out):
    """A bulk grant and its progress; the counters count members (``notified``: reached by at least one message)."""

    grant_id: str
    status: Literal["queued", "running", "done"]
    segment: AllMembers | TierMembers | ListedMembers
    points: Annotated[int, Field(ge=1)]
    expires_at: datetime
    reason: str
    notify: list[Literal["email", "sms"]]
    targeted: Count
    granted: Count
    skipped: Count
    failed: Count
    notified: Count
    tasks: GrantTasks
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class TransferredLot(Out):
    points: int
    expires_at: datetime


class TransferOut(Out):
    """A retry with the same ``transfer_id`` answers the first transfer with ``status: duplicate``."""

    status: Literal["applied", "duplicate"]
    transfer_id: str
    from_member_id: str
    to_member_id: str
    points: Annotated[int, Field(ge=1)]
    lots: list[TransferredLot]
    from_balance: int
    to_balance: int
    month: str


class CabinetTransferOut(Out):
    """A transfer to a friend from the cabinet: 201 when it moved the points, 200 (``duplicate``) when the page's id
    was used before (the first transfer's answer; nothing moved again). The friend is named only as masked."""

    status: Literal["applied", "duplicate"]
    transfer_id: str = Field(description="the page's id, as sent")
    points: Annotated[int, Field(ge=1)]
    to: str = Field(description="the friend, masked: +7 *** *** 70 01, a***@example.com or the referral code")
    balance: int = Field(description="the sender's balance after the transfer")


class FeedbackOut(Out):
    """A rating of a paid order."""

    order_id: str
    score: Annotated[int, Field(ge=1, le=5)]
    comment: str
    created_at: datetime
    reward_points: Count = Field(description="points the customer got for rating (the same whatever the score)")


class MerchantFeedbackOut(FeedbackOut):
    member_id: str


class FeedbackListOut(Out):
    """Ratings created at or after ``since``, oldest first; ``next_cursor`` continues the list (null: the end)."""

    items: list[MerchantFeedbackOut]
    next_cursor: str | None


class CabinetCodeOut(Out):
    """The same answer whether or not the contact is a member's: a code was sent if it is."""

    status: Literal["code_requested"]
    expires_in_seconds: int
    resend_after_seconds: int


class CabinetSessionOut(Out):
    """A session opened: the token is in the ``cabinet_session`` cookie (HttpOnly, Secure, SameSite=Strict)."""

    member_id: str
    expires_at: datetime


class CabinetLogoutOut(Out):
    status: Literal["logged_out"]


class CardOut(Out):
    """The customer's digital card: an opaque token (no phone or member id in it) and its QR code, to show at the
    till; the till resolves it with ``GET members/by-card/{token}``."""

    token: str = Field(pattern=r"^LC-[A-Z2-7]{32}$")
    qr_svg: str = Field(description="an inline SVG element (no XML declaration) with role=img and a <title>")
    rotated_at: datetime = Field(description="when this token was issued: the card's creation or its last rotation")


class CampaignIn(RootModel[campaigns.Campaign]):
    """A campaign: ``kind`` picks the shape of ``audience`` (the request body of POST campaigns; documentation only:
    the handler validates with ``shared.campaigns.parse``)."""

    model_config = ConfigDict(defer_build=True)


class CampaignServed(BaseModel):
    """What the server adds to a campaign's fields: its version (shared/campaigns.py ``CampaignVersion``)."""

    version: Annotated[int, Field(ge=1)]
    effective_at: datetime = Field(description="when this version was saved; it is in force from then")
    activated_at: datetime | SkipJsonSchema[None] = Field(
        default=None, description="when the campaign was first active; from then its holdout and weights are frozen"
    )


class WinBackOut(campaigns.WinBackCampaign, CampaignServed):
    pass


class FeedbackRequestOut(campaigns.FeedbackRequestCampaign, CampaignServed):
    pass


class PersonalOfferOut(campaigns.PersonalOfferCampaign, CampaignServed):
    pass


class BirthdayOut(campaigns.BirthdayCampaign, CampaignServed):
    pass


class ExpiryReminderOut(campaigns.ExpiryReminderCampaign, CampaignServed):
    pass


class BoostReminderOut(campaigns.BoostReminderCampaign, CampaignServed):
    pass


class BulkGrantOut(campaigns.BulkGrantCampaign, CampaignServed):
    pass


class CampaignOut(
    RootModel[
        Annotated[
            WinBackOut
            | FeedbackRequestOut
            | PersonalOfferOut
            | BirthdayOut
            | ExpiryReminderOut
            | BoostReminderOut
            | BulkGrantOut,
            Field(discriminator="kind"),
        ]
    ]
):
    """A campaign as saved (the version in force, or the one asked for with ``?version=``)."""


class CampaignsOut(Out):
    """The current version of each of the tenant's campaigns (at most 100), by id."""

    campaigns: list[CampaignOut]
