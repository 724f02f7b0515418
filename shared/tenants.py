"""Tenants: credentials (API key hashed, webhook secrets), status, and versioned programs.

API keys are 256-bit random tokens, so a plain SHA-256 is the right hash (a slow password hash
adds latency and nothing else); comparison is constant-time. Webhook secrets must be kept
readable to verify HMACs; they live only in the tenants table (encrypted at rest) and are
never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from shared.errors import Forbidden, TenantSuspended, Unprocessable
from shared.program import ProgramSettings, ProgramVersion, version_at

TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
WEBHOOK_PLATFORMS = ("standard", "shopify", "stripe", "woocommerce")
SECRETS_KEPT = 2  # the newest secret and the one before it: a rotation never drops deliveries in flight
ACTIVE, SUSPENDED = "active", "suspended"
STATUSES = (ACTIVE, SUSPENDED)


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    status: str
    api_key_hashes: tuple[str, ...]
    webhook_secrets: dict[str, list[str]]
    programs: tuple[ProgramVersion, ...] = field(default=())

    @property
    def suspended(self) -> bool:
        return self.status == SUSPENDED

    @property
    def known(self) -> bool:
        """Active or suspended: its keys and signatures are checked (any other status answers as no tenant)."""
        return self.status in STATUSES

    def program_at(self, at: datetime) -> ProgramVersion:
        return version_at(list(self.programs), at)

    @property
    def current(self) -> ProgramVersion:
        return max(self.programs, key=lambda v: v.version)


@dataclass(frozen=True)
class NewTenant:
    tenant: Tenant
    api_key: str  # shown once, never stored


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key() -> str:
    return "lk_" + secrets.token_urlsafe(32)


def new_webhook_secret(platform: str = "standard") -> str:
    """A fresh secret in the form the platform uses. Shopify and Stripe issue their own when the merchant creates
    the webhook there; that one is then stored with ``set_webhook_secret`` (see README, "Platforms")."""
    if platform == "standard":
        return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    if platform == "stripe":
        return "whsec_" + secrets.token_hex(32)
    return secrets.token_hex(32)  # Shopify, WooCommerce: any string; hex survives every admin form unchanged


def key_matches(tenant: Tenant | None, presented: str | None) -> bool:
    """Constant-time check; an unknown tenant costs the same work as a wrong key."""
    digest = hash_api_key(presented or "")
    candidates = tenant.api_key_hashes if tenant else ("0" * 64,)
    ok = False
    for stored in candidates:
        ok |= hmac.compare_digest(stored, digest)
    return ok and presented is not None and tenant is not None and tenant.known


class TenantStore(Protocol):
    def load(self, tenant_id: str) -> Tenant | None: ...
    def create(self, tenant: Tenant) -> None: ...
    def add_program(self, tenant_id: str, version: ProgramVersion, vip_registry: bool | None = None) -> None: ...
    def set_webhook_secrets(self, tenant_id: str, platform: str, secrets: list[str]) -> None: ...
    def set_status(self, tenant_id: str, status: str, reason: str | None, at: datetime) -> None: ...


class TenantDirectory:
    """Tenants cached per Lambda container: every request needs one, few change often."""

    def __init__(self, store: TenantStore, ttl_seconds: int) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[float, Tenant | None]] = {}

    def get(self, tenant_id: str) -> Tenant | None:
        hit = self._cache.get(tenant_id)
        if hit and time.monotonic() - hit[0] < self._ttl:
            return hit[1]
        tenant = self._store.load(tenant_id) if TENANT_ID.match(tenant_id) else None
        self._cache[tenant_id] = (time.monotonic(), tenant)
        return tenant

    def authorize(self, tenant_id: str, api_key: str | None) -> Tenant:
        """The tenant for a Bearer key; unknown tenant and wrong key give the same 403. A suspended tenant's own
        key gets a 503 ``tenant_suspended`` (only a caller holding the key learns of the suspension)."""
        tenant = self.get(tenant_id)
        if not key_matches(tenant, api_key) or tenant is None:
            raise Forbidden("this key has no access to this tenant")
        if tenant.suspended:
            raise TenantSuspended("this tenant is suspended; retry later")
        return tenant

    def set_status(self, tenant_id: str, status: str, reason: str | None, at: datetime) -> None:
        """Suspend or resume (scripts/ops.py; an unknown tenant is a Conflict ``tenant_not_found``). Other containers
        see it once their cached copy is older than the cache TTL (``TENANT_CACHE_SECONDS``, 60 s); this one at once."""
        if status not in STATUSES:
            raise Unprocessable(f"status must be {ACTIVE} or {SUSPENDED}", code="invalid_status")
        self._store.set_status(tenant_id, status, reason, at)
        self.forget(tenant_id)

    def forget(self, tenant_id: str) -> None:
        self._cache.pop(tenant_id, None)

    def create(self, tenant_id: str, program: ProgramSettings, at: datetime) -> NewTenant:
        if not TENANT_ID.match(tenant_id):
            raise Unprocessable("tenant id: 2-63 of a-z, 0-9 and '-'", code="invalid_tenant_id")
        api_key = new_api_key()
        tenant = Tenant(
            tenant_id,
            "active",
            (hash_api_key(api_key),),
            {platform: [new_webhook_secret(platform)] for platform in WEBHOOK_PLATFORMS},
            (ProgramVersion(version=1, effective_at=at, settings=program),),
        )
        self._store.create(tenant)
        self.forget(tenant_id)
        return NewTenant(tenant, api_key)

    def update_program(self, tenant: Tenant, settings: ProgramSettings, at: datetime) -> ProgramVersion:
        if settings.currency != tenant.current.settings.currency:
            raise Unprocessable(
                "currency cannot change once points were issued in it",
                code="validation_error",
                details=[{"field": "currency", "message": "cannot change"}],
            )
        version = ProgramVersion(version=tenant.current.version + 1, effective_at=at, settings=settings)
        # the VIP registry lists tenants with vip, and those that just dropped it (their VIPs are cleared once)
        had_vip = tenant.current.settings.vip is not None
        registry = True if settings.vip is not None else (False if had_vip else None)
        self._store.add_program(tenant.tenant_id, version, registry)
        self.forget(tenant.tenant_id)
        return version

    def set_webhook_secret(self, tenant: Tenant, platform: str, secret: str | None = None) -> str:
        """Make ``secret`` (or a new one) the platform's newest secret; the previous one stays valid until the
        next rotation. Returns the secret now in force."""
        if platform not in WEBHOOK_PLATFORMS:
            raise Unprocessable(f"platform must be one of {', '.join(WEBHOOK_PLATFORMS)}", code="unknown_platform")
        secret = secret or new_webhook_secret(platform)
        kept = [secret, *(s for s in tenant.webhook_secrets.get(platform, []) if s != secret)][:SECRETS_KEPT]
        self._store.set_webhook_secrets(tenant.tenant_id, platform, kept)
        self.forget(tenant.tenant_id)
        return secret
