"""A tenant's program settings (SPEC §2-§4): validated on write, versioned by effective time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.money import is_currency


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
