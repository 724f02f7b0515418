"""Deployment settings: read from the environment once, validated, then passed around.

Only this module reads ``os.environ``; logic receives a ``Settings`` instance.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    region: str = "us-east-1"
    endpoint_url: str | None = None  # set for emulators (moto server, ministack)
    tenants_table: str = "loyalty-tenants"
    ledger_table: str = "loyalty-ledger"
    tenant_cache_seconds: int = Field(default=60, ge=0)
    max_body_bytes: int = Field(default=256 * 1024, ge=1)
    webhook_tolerance_seconds: int = Field(default=300, ge=1)
    commit_attempts: int = Field(default=8, ge=1, le=50)  # bounded retry on a member's version conflict

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values = {
            "region": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            "endpoint_url": env.get("AWS_ENDPOINT_URL") or None,
            "tenants_table": env.get("TENANTS_TABLE", "loyalty-tenants"),
            "ledger_table": env.get("LEDGER_TABLE", "loyalty-ledger"),
        }
        if "TENANT_CACHE_SECONDS" in env:
            values["tenant_cache_seconds"] = env["TENANT_CACHE_SECONDS"]
        return cls.model_validate(values)


@cache
def get_settings() -> Settings:
    return Settings.from_env()
