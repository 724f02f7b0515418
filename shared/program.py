"""A tenant's program settings (SPEC §2-§4): validated on write, versioned by effective time."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.money import is_currency

Channel = Literal["email", "sms", "staff_call"]
SNS_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")
SENDER_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9]{1,11}$")  # SNS SMS sender id: 1-11 alphanumerics, a letter


class ReminderStage(BaseModel):
    """One rung of the expiry reminder ladder (SPEC §7): ``days_before`` the points expire, send on ``channels``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days_before: int = Field(ge=1, le=365)
    channels: list[Channel] = Field(min_length=1)

    @field_validator("channels")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a channel may appear once per stage")
        return value


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
    # Expiry reminders (SPEC §7)
    reminders: list[ReminderStage] = Field(default_factory=default_ladder, max_length=10)
    language: Literal["en", "ru"] = "en"
    email_from: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    sms_sender_id: str | None = None
    staff_topic_arn: str | None = None  # the tenant's managers' SNS topic for call tasks

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
