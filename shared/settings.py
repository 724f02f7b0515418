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
    # SES and SNS elsewhere than the tables (an emulator without SES, e.g. ministack, beside moto); else endpoint_url
    messaging_endpoint_url: str | None = None
    tenants_table: str = "loyalty-tenants"
    ledger_table: str = "loyalty-ledger"
    tenant_cache_seconds: int = Field(default=60, ge=0)
    tenant_cache_entries: int = Field(default=1024, ge=1)  # tenants one container keeps (least recently used leave)
    max_body_bytes: int = Field(default=256 * 1024, ge=1)
    webhook_tolerance_seconds: int = Field(default=300, ge=1)
    commit_attempts: int = Field(default=8, ge=1, le=50)  # bounded retry on a member's version conflict
    # Scheduled work (docs/spec.md §7)
    sweep_queue_url: str | None = None  # from the template; locally the queue is found by name
    sweep_queue_name: str = "loyalty-sweep"
    sweep_page_size: int = Field(default=100, ge=1, le=100)  # members per index page (one BatchGetItem)
    sweep_threads: int = Field(default=8, ge=1, le=64)
    sweep_margin_seconds: float = Field(default=60, ge=0)  # stop this long before the Lambda's deadline
    email_from: str = "loyalty@example.com"  # the platform's verified SES sender for tenants the operator bound none
    email_template_prefix: str = "loyalty-expiry-reminder"
    email_template_namespace: str = "loyalty"  # program messages: <namespace>-<kind>-<language> (SES templates)
    grant_template_prefix: str = "loyalty-grant"  # SES templates of bulk grant messages: <prefix>-<language>
    grant_chunk_size: int = Field(default=100, ge=1, le=100)  # member ids per grant task
    notify_max_attempts: int = Field(default=10, ge=1, le=100)

    @property
    def stack_prefix(self) -> str:
        """The stack's names' common part, from the tenants table's name: ``loyalty-dev`` (deployed), ``loyalty``."""
        return self.tenants_table.removesuffix("-tenants")

    @property
    def staff_topic_prefix(self) -> str:
        """A tenant's managers' topic is named ``<stack>-staff-<tenant id>``: the roles may publish to
        ``loyalty-<stage>-staff-*`` only, and the tenant id in the name binds the topic to its tenant."""
        return f"{self.stack_prefix}-staff-"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values = {
            "region": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            "endpoint_url": env.get("AWS_ENDPOINT_URL") or None,
            "tenants_table": env.get("TENANTS_TABLE", "loyalty-tenants"),
            "ledger_table": env.get("LEDGER_TABLE", "loyalty-ledger"),
        }
        optional = {
            "TENANT_CACHE_SECONDS": "tenant_cache_seconds",
            "TENANT_CACHE_ENTRIES": "tenant_cache_entries",
            "MESSAGING_ENDPOINT_URL": "messaging_endpoint_url",
            "SWEEP_QUEUE_URL": "sweep_queue_url",
            "SWEEP_QUEUE_NAME": "sweep_queue_name",
            "SWEEP_PAGE_SIZE": "sweep_page_size",
            "SWEEP_THREADS": "sweep_threads",
            "SWEEP_MARGIN_SECONDS": "sweep_margin_seconds",
            "EMAIL_FROM": "email_from",
            "EMAIL_TEMPLATE_PREFIX": "email_template_prefix",
            "EMAIL_TEMPLATE_NAMESPACE": "email_template_namespace",
            "GRANT_TEMPLATE_PREFIX": "grant_template_prefix",
        }
        values.update({field: env[name] for name, field in optional.items() if env.get(name)})
        return cls.model_validate(values)


@cache
def get_settings() -> Settings:
    return Settings.from_env()
