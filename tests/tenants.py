"""Tenants for tests that need no store: ``tenant(since, sms_calling_codes=...)`` is an active shop whose one
program version (RUB, the given settings) has applied since ``since``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.program import ProgramSettings, ProgramVersion
from shared.tenants import Tenant


def tenant(since: datetime, tenant_id: str = "shop", **program: Any) -> Tenant:
    settings = ProgramSettings(**{"currency": "RUB", **program})
    return Tenant(
        tenant_id=tenant_id,
        status="active",
        api_key_hashes=(),
        webhook_secrets={},
        programs=(ProgramVersion(version=1, effective_at=since, settings=settings),),
    )
