"""A tenant's program settings (docs/spec.md §2-§4, §8): validated on write, versioned by effective time.

Rates and multipliers are basis points (10000 = 100 % = ×1). The rules of docs/spec.md §8 are plain data here; what
they do to an order is ``shared.rules``."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.money import is_currency

Channel = Literal["email", "sms", "staff_call"]
SNS_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")
EMAIL_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Bound to the tenant by the operator (scripts/ops.py set-sender / set-staff-topic), shown in the program, never
# changed by a merchant's PUT /program (403 operator_setting): another tenant's sender or topic would impersonate it.
OPERATOR_SETTINGS = ("email_from", "staff_topic_arn")
SENDER_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9]{1,11}$")  # SNS SMS sender id: 1-11 alphanumerics, a letter


class ReminderStage(BaseModel):
    """One rung of the expiry reminder ladder (docs/spec.md §7): ``days_before`` the points expire, send on ``channels``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days_before: int = Field(ge=1, le=365)
    channels: list[Channel] = Field(min_length=1)

    @field_validator("channels")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a channel may appear once per stage")
        return value


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"


def bp(default: int | None = None) -> Any:
    """A rate in basis points, 0-100 %."""
    return Field(ge=0, le=10_000) if default is None else Field(default=default, ge=0, le=10_000)


def multiplier() -> Any:
    return Field(ge=0, le=100_000)  # up to ×10


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tier(Rule):
    """Reached when the member's spend before an order is at least ``min_spend_minor``."""

    name: str = Field(min_length=1, max_length=64)
    min_spend_minor: int = Field(ge=0, le=10**12)
    earn_rate_bp: int = bp()
    discount_bp: int = bp(0)


class Promotion(Rule):
    """A dated program on top of the permanent one: its own rate, its own lot and lifetime."""

    id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    name: str = Field(min_length=1, max_length=200)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    earn_rate_bp: int = bp()
    lifetime_days: int = Field(ge=1, le=3650)
    categories: list[str] | None = Field(default=None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class HappyHour(Rule):
    """A weekly window in tenant time, ``from`` inclusive, ``to`` exclusive (``24:00`` ends at midnight)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True)

    days: list[Weekday] = Field(min_length=1, max_length=7)
    from_: str = Field(alias="from", pattern=CLOCK)
    to: str = Field(pattern=CLOCK)
    multiplier_bp: int = multiplier()

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.to <= self.from_:
            raise ValueError("to must be after from (split a window that crosses midnight in two)")
        return self


class Combo(Rule):
    skus: list[str] = Field(min_length=2, max_length=20)
    bonus_points: int = Field(ge=1, le=10_000_000)

    @field_validator("skus")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a SKU may appear once per combo")
        return value


class PostPurchaseBoost(Rule):
    """After a paid order: ``days`` of ``multiplier_bp`` points and ``discount_bp`` off the next order."""

    days: int = Field(ge=1, le=365)
    multiplier_bp: int = multiplier()
    discount_bp: int = bp()
    reminder_days_before_end: int = Field(default=0, ge=0, le=365)

    @model_validator(mode="after")
    def _reminder_inside(self) -> Self:
        if self.reminder_days_before_end >= self.days:
            raise ValueError("reminder_days_before_end must be less than days")
        return self


class BirthdayBonus(Rule):
    points: int = Field(ge=1, le=10_000_000)
    lifetime_days: int = Field(ge=1, le=3650)


class Referral(Rule):
    referrer_points: int = Field(ge=0, le=10_000_000)
    referee_points: int = Field(ge=0, le=10_000_000)
    # the return window: both bonuses stay pending this long (at least the program's pending_days), so that a
    # first order returned at once never pays out (issue 13)
    pending_days: int = Field(default=14, ge=0, le=365)
    # referrals a referrer is paid for per calendar month of the tenant's time zone (0: no limit)
    max_per_month: int = Field(default=10, ge=0, le=1_000_000)


class Transfer(Rule):
    enabled: bool = False
    max_points_per_month: int = Field(default=0, ge=0, le=10**10)  # 0: no limit
    min_lot_age_days: int = Field(
        default=14,
        ge=0,
        le=365,
        description="Points of an order (or its promo or referral) can be sent this many days after they were "
        "earned, once the order's return window has passed: a cancellation must find them on the member.",
    )


class Cabinet(Rule):
    """The customer cabinet (issue 16): how the page looks, who may log in by SMS, who may join from it, and what
    joining and giving feedback earn."""

    title: str = Field(default="", max_length=60, description="The shop's name on the page; empty: the tenant id.")
    colour: str = Field(
        default="#0b6e4f",
        pattern=r"^#[0-9a-fA-F]{6}$",
        description="The page's accent colour, #rrggbb; the page picks black or white text for contrast.",
    )
    share_url: str = Field(
        default="",
        max_length=300,
        pattern=r"^(https://[^\s]*\{code\}[^\s]*)?$",
        description="The link a customer shares with friends, an https URL with {code} where the referral code goes "
        "(e.g. https://shop.example/?ref={code}: the shop's site passes it to the order). Empty: the cabinet page.",
    )
    self_enrolment: bool = Field(
        default=False,
        description="A customer whose contact is no member's may join from the cabinet (the code opens a new member).",
    )
    welcome_bonus_points: int = Field(
        default=0,
        ge=0,
        le=10_000_000,
        description="Points a customer who joins from the cabinet gets, in a lot of "
        "their own (the program's lifetime_days); 0: none.",
    )
    feedback_reward_points: int = Field(
        default=0,
        ge=0,
        le=10_000_000,
        description="Points for rating a paid order, the same whatever the score "
        "(rewarding only good reviews is forbidden); once per order; 0: none.",
    )

    sms_calling_codes: list[str] = Field(
        default_factory=list,
        max_length=50,
        description='Country calling codes (E.164, without +) whose phones get login codes by SMS, e.g. ["7"]; '
        "others log in by e-mail. Empty: no login by SMS (SMS pumping to premium-rate ranges costs the merchant).",
    )

    @field_validator("sms_calling_codes")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        if any(not re.fullmatch(r"[1-9][0-9]{0,3}", code) for code in value):
            raise ValueError("calling codes are 1-4 digits, not starting with 0")
        return value


class Vip(Rule):
    """Applies to members in class A of the scheduled ABC classification."""

    earn_rate_bp: int = bp()
    discount_bp: int = bp()
    metric: Literal["revenue", "orders"] = "revenue"
    period_days: int = Field(default=365, ge=1, le=3650)


def default_ladder() -> list[ReminderStage]:
    return [
        ReminderStage(days_before=60, channels=["email", "sms"]),
        ReminderStage(days_before=45, channels=["staff_call"]),
    ]


class ProgramSettings(BaseModel):
    """The settings of the core ledger. Amounts in minor units, rates in basis points."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    currency: str = Field(min_length=3, max_length=3)
    timezone: str = "UTC"
    earn_rate_bp: int = Field(default=500, ge=0, le=10_000)
    point_value_minor: int = Field(default=100, ge=1, le=1_000_000)
    pending_days: int = Field(default=0, ge=0, le=365)
    lifetime_days: int = Field(default=365, ge=1, le=3650)
    max_redeem_share_bp: int = Field(default=5_000, ge=0, le=10_000)
    min_redeem_points: int = Field(default=1, ge=1, le=10_000_000)
    hold_ttl_minutes: int = Field(default=15, ge=1, le=7 * 24 * 60)
    restore_grace_days: int = Field(default=30, ge=0, le=3650)
    # Expiry reminders (docs/spec.md §7)
    reminders: list[ReminderStage] = Field(default_factory=default_ladder, max_length=10)
    language: Literal["en", "ru"] = "en"
    email_from: str | None = Field(
        default=None,
        max_length=254,
        pattern=EMAIL_ADDRESS.pattern,
        description="The tenant's SES sender, bound by the platform operator; a PUT that changes it is 403 "
        "operator_setting. Unset: the platform's sender.",
        json_schema_extra={"readOnly": True},
    )
    sms_sender_id: str | None = None
    staff_topic_arn: str | None = Field(
        default=None,
        description="The SNS topic of the tenant's managers for call tasks, bound by the platform operator; a PUT "
        "that changes it is 403 operator_setting. Unset: no call tasks.",
        json_schema_extra={"readOnly": True},
    )
    # Program rules (docs/spec.md §8)
    tiers: list[Tier] = Field(default_factory=list, max_length=20)
    tier_basis: Literal["lifetime", "rolling_12m"] = "lifetime"
    min_check_minor: int = Field(default=0, ge=0, le=10**12)
    promotions: list[Promotion] = Field(default_factory=list, max_length=50)
    happy_hours: list[HappyHour] = Field(default_factory=list, max_length=50)
    category_multipliers: dict[str, int] = Field(default_factory=dict, max_length=500)
    combos: list[Combo] = Field(default_factory=list, max_length=100)
    post_purchase_boost: PostPurchaseBoost | None = None
    birthday_bonus: BirthdayBonus | None = None
    referral: Referral | None = None
    transfer: Transfer = Field(default_factory=Transfer)
    cabinet: Cabinet = Field(default_factory=Cabinet)
    vip: Vip | None = None

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, value: list[Tier]) -> list[Tier]:
        names = [tier.name for tier in value]
        spends = [tier.min_spend_minor for tier in value]
        if len(set(names)) != len(names):
            raise ValueError("tier names must be distinct")
        if len(set(spends)) != len(spends):
            raise ValueError("each min_spend_minor may appear once")
        return sorted(value, key=lambda tier: tier.min_spend_minor)

    @field_validator("promotions")
    @classmethod
    def _promotion_ids(cls, value: list[Promotion]) -> list[Promotion]:
        ids = [promo.id for promo in value]
        if len(set(ids)) != len(ids):
            raise ValueError("promotion ids must be distinct")
        return value

    @field_validator("category_multipliers")
    @classmethod
    def _multipliers(cls, value: dict[str, int]) -> dict[str, int]:
        for category, multiplier in value.items():
            if not 1 <= len(category) <= 128:
                raise ValueError("a category is 1-128 characters")
            if not 0 <= multiplier <= 100_000:
                raise ValueError(f"{category}: multiplier_bp must be 0-100000")
        return value

    @field_validator("reminders")
    @classmethod
    def _distinct_days(cls, value: list[ReminderStage]) -> list[ReminderStage]:
        days = [stage.days_before for stage in value]
        if len(set(days)) != len(days):
            raise ValueError("each days_before may appear once")
        return sorted(value, key=lambda stage: -stage.days_before)

    @field_validator("sms_sender_id")
    @classmethod
    def _sender_id(cls, value: str | None) -> str | None:
        if value is not None and not SENDER_ID.match(value):
            raise ValueError("1-11 letters and digits, at least one letter")
        return value

    @field_validator("staff_topic_arn")
    @classmethod
    def _topic_arn(cls, value: str | None) -> str | None:
        if value is not None and not SNS_TOPIC_ARN.match(value):
            raise ValueError("not an SNS topic ARN")
        return value

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        if not is_currency(value):
            raise ValueError("not an ISO-4217 currency code")
        return value

    @field_validator("timezone")
    @classmethod
    def _iana_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("not an IANA time zone") from exc
        return value


class ProgramVersion(BaseModel):
    """One saved version: the settings apply to orders paid at or after ``effective_at``."""

    model_config = ConfigDict(frozen=True)

    version: int
    effective_at: datetime
    settings: ProgramSettings


def version_at(versions: list[ProgramVersion], at: datetime) -> ProgramVersion:
    """The version in force at ``at``; an order paid before the first version uses the first."""
    ordered = sorted(versions, key=lambda v: v.version)
    chosen = ordered[0]
    for candidate in ordered:
        if candidate.effective_at <= at:
            chosen = candidate
    return chosen
