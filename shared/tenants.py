"""Tenants: credentials (API key hashed, webhook secrets), status, and versioned programs.

API keys are 256-bit random tokens, so a plain SHA-256 is the right hash (a slow password hash
adds latency and nothing else); comparison is constant-time. Webhook secrets must be kept
readable to verify HMACs; they live only in the tenants table (encrypted at rest) and are
never logged. A leaked key is replaced with ``rotate_api_key`` (the old one revoked at once, or kept for a bounded
grace period) and every key is stopped with ``revoke_api_keys`` (scripts/ops.py rotate-key / revoke-keys).

The e-mail sender and the managers' SNS topic are bound to a tenant by the operator (scripts/ops.py set-sender /
set-staff-topic), never by the merchant's ``PUT /program``: a sender's domain belongs to one tenant, and a topic's
name must be ``<stack>-staff-<tenant id>`` (docs/decisions.md, "Sender and staff topic are the operator's").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from threading import Lock
from typing import Any, Protocol

from shared import clock
from shared.errors import Forbidden, TenantSuspended, Unprocessable
from shared.program import EMAIL_ADDRESS, OPERATOR_SETTINGS, SNS_TOPIC_ARN, ProgramSettings, ProgramVersion, version_at

TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
WEBHOOK_PLATFORMS = ("standard", "shopify", "stripe", "woocommerce")
SECRETS_KEPT = 2  # the newest secret and the one before it: a rotation never drops deliveries in flight
ACTIVE, SUSPENDED = "active", "suspended"
STATUSES = (ACTIVE, SUSPENDED)
CACHE_ENTRIES = 1024  # tenants one container keeps; the least recently used leaves first
MAX_KEY_GRACE = timedelta(days=7)  # the longest a rotated-out API key stays valid


@dataclass(frozen=True, kw_only=True)
class Tenant:
    tenant_id: str
    status: str
    api_key_hashes: tuple[str, ...]
    webhook_secrets: dict[str, list[str]]
    programs: tuple[ProgramVersion, ...] = field(default=())
    email_from: str | None = None  # bound by the operator (set-sender); None: the platform's EMAIL_FROM
    staff_topic_arn: str | None = None  # bound by the operator (set-staff-topic); None: no call tasks
    retiring_keys: dict[str, datetime] = field(default_factory=dict)  # key hash -> end of its grace period

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
    the webhook there; that one is then stored with ``set_webhook_secret`` (see docs/api.md, "Platforms")."""
    if platform == "standard":
        return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    if platform == "stripe":
        return "whsec_" + secrets.token_hex(32)
    return secrets.token_hex(32)  # Shopify, WooCommerce: any string; hex survives every admin form unchanged


def key_matches(tenant: Tenant | None, presented: str | None, now: datetime | None = None) -> bool:
    """Constant-time check; an unknown tenant costs the same work as a wrong key. A rotated-out key matches until its
    grace period ends."""
    digest = hash_api_key(presented or "")
    at = now or clock.now()
    candidates = [(h, True) for h in tenant.api_key_hashes] if tenant else [("0" * 64, False)]
    if tenant:
        candidates += [(h, until > at) for h, until in tenant.retiring_keys.items()]
    ok = False
    for stored, valid in candidates:
        ok |= hmac.compare_digest(stored, digest) and valid
    return ok and presented is not None and tenant is not None and tenant.known


def refuse_operator_settings(tenant: Tenant, values: Mapping[str, Any]) -> None:
    """403 ``operator_setting`` when ``values`` (a merchant's program) would change a setting the operator binds."""
    changed = [name for name in OPERATOR_SETTINGS if name in values and values[name] != getattr(tenant, name)]
    if changed:
        raise Forbidden(
            f"{' and '.join(changed)} can only be set by the platform operator",
            code="operator_setting",
            details=[{"field": name, "message": "set by the operator"} for name in changed],
        )


def staff_topic_owned(topic_arn: str, tenant_id: str, prefix: str) -> bool:
    """The topic is the tenant's: its name is exactly ``<prefix><tenant id>`` (``loyalty-dev-staff-shop-1``)."""
    return bool(SNS_TOPIC_ARN.match(topic_arn)) and topic_arn.rsplit(":", 1)[-1] == f"{prefix}{tenant_id}"


def sender_claim(address: str | None, platform_sender: str | None) -> str | None:
    """What binding ``address`` claims for one tenant: its domain (a tenant owns the domain it verified), except in
    the platform sender's domain, where only the address; the platform sender itself is everyone's (None)."""
    if not address:
        return None
    address, platform = address.lower(), (platform_sender or "").lower()
    if address == platform:
        return None
    domain = address.rpartition("@")[2]
    return address if domain == platform.rpartition("@")[2] else domain


class TenantStore(Protocol):
    def load(self, tenant_id: str) -> Tenant | None: ...
    def create(self, tenant: Tenant, sender_claim: str | None = None) -> None: ...
    def add_program(self, tenant_id: str, version: ProgramVersion, vip_registry: bool | None = None) -> None: ...
    def set_webhook_secrets(self, tenant_id: str, platform: str, secrets: list[str]) -> None: ...
    def set_status(self, tenant_id: str, status: str, reason: str | None, at: datetime) -> None: ...
    def set_api_keys(self, tenant_id: str, hashes: tuple[str, ...], retiring: dict[str, datetime]) -> None: ...
    def bind_sender(self, tenant_id: str, address: str | None, claim: str | None, previous: str | None) -> None: ...
    def bind_staff_topic(self, tenant_id: str, topic_arn: str | None) -> None: ...


class TenantDirectory:
    """Tenants cached per Lambda container: every request needs one, few change often. The cache is an LRU of
    ``max_entries`` valid ids (an unknown but valid id is cached as None); an invalid id is never looked up or kept."""

    def __init__(
        self,
        store: TenantStore,
        ttl_seconds: int,
        *,
        staff_topic_prefix: str = "loyalty-staff-",
        platform_sender: str | None = None,
        max_entries: int = CACHE_ENTRIES,
    ) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._cache: OrderedDict[str, tuple[float, Tenant | None]] = OrderedDict()
        self._lock = Lock()  # the sweep worker's threads share the directory
        self._max = max(1, max_entries)
        self.staff_topic_prefix = staff_topic_prefix
        self.platform_sender = platform_sender

    @property
    def cached(self) -> int:
        return len(self._cache)

    def get(self, tenant_id: str) -> Tenant | None:
        if not TENANT_ID.match(tenant_id):
            return None
        with self._lock:
            hit = self._cache.get(tenant_id)
            if hit and time.monotonic() - hit[0] < self._ttl:
                self._cache.move_to_end(tenant_id)
                return hit[1]
        tenant = self._store.load(tenant_id)
        with self._lock:
            self._cache[tenant_id] = (time.monotonic(), tenant)
            self._cache.move_to_end(tenant_id)
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)
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
        with self._lock:
            self._cache.pop(tenant_id, None)

    def create(self, tenant_id: str, program: ProgramSettings, at: datetime) -> NewTenant:
        """A new tenant; ``program``'s ``email_from`` and ``staff_topic_arn`` are bound as by the operator (only
        the ops command and the tests create tenants), with the same checks."""
        if not TENANT_ID.match(tenant_id):
            raise Unprocessable("tenant id: 2-63 of a-z, 0-9 and '-'", code="invalid_tenant_id")
        if program.staff_topic_arn is not None:
            self._check_topic(tenant_id, program.staff_topic_arn)
        api_key = new_api_key()
        tenant = Tenant(
            tenant_id=tenant_id,
            status=ACTIVE,
            api_key_hashes=(hash_api_key(api_key),),
            webhook_secrets={platform: [new_webhook_secret(platform)] for platform in WEBHOOK_PLATFORMS},
            programs=(ProgramVersion(version=1, effective_at=at, settings=program),),
            email_from=program.email_from,
            staff_topic_arn=program.staff_topic_arn,
        )
        self._store.create(tenant, sender_claim(program.email_from, self.platform_sender))
        self.forget(tenant_id)
        return NewTenant(tenant, api_key)

    def update_program(self, tenant: Tenant, settings: ProgramSettings, at: datetime) -> ProgramVersion:
        """A new program version. The operator's settings (sender, staff topic) cannot change here: 403
        ``operator_setting``."""
        refuse_operator_settings(tenant, settings.model_dump(include=set(OPERATOR_SETTINGS)))
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

    # -- the operator's commands (scripts/ops.py) -----------------------------------------------------------------

    def rotate_api_key(self, tenant: Tenant, grace: timedelta, at: datetime) -> str:
        """A new key, returned once. The current keys stop at once (``grace`` 0: a leak) or at ``at + grace`` (a
        planned rotation, at most ``MAX_KEY_GRACE``); keys retiring already keep their own end."""
        if not timedelta(0) <= grace <= MAX_KEY_GRACE:
            raise Unprocessable(f"the grace period is 0 to {MAX_KEY_GRACE.days} days", code="invalid_grace")
        api_key = new_api_key()
        retiring = {h: until for h, until in tenant.retiring_keys.items() if until > at}
        if grace:
            retiring.update({h: at + grace for h in tenant.api_key_hashes})
        self._store.set_api_keys(tenant.tenant_id, (hash_api_key(api_key),), retiring)
        self.forget(tenant.tenant_id)
        return api_key

    def revoke_api_keys(self, tenant: Tenant, retiring_only: bool, at: datetime) -> int:
        """Stop the keys in their grace period, or every key (the tenant has none until the next rotation). Other
        containers follow within ``TENANT_CACHE_SECONDS``. Returns how many valid keys were revoked."""
        kept = tenant.api_key_hashes if retiring_only else ()
        in_grace = sum(until > at for until in tenant.retiring_keys.values())
        revoked = in_grace + len(tenant.api_key_hashes) - len(kept)
        self._store.set_api_keys(tenant.tenant_id, kept, {})
        self.forget(tenant.tenant_id)
        return revoked

    def bind_sender(self, tenant: Tenant, address: str | None) -> None:
        """Bind the tenant's e-mail sender (None: the platform's). Its domain may be bound to one tenant only: a
        Conflict ``sender_bound_elsewhere`` otherwise. That SES verified the address is the ops command's check."""
        if address is not None:
            if len(address) > 254 or not EMAIL_ADDRESS.match(address):
                raise Unprocessable("not an e-mail address", code="invalid_sender")
            address = address.lower()
        previous = sender_claim(tenant.email_from, self.platform_sender)
        self._store.bind_sender(tenant.tenant_id, address, sender_claim(address, self.platform_sender), previous)
        self.forget(tenant.tenant_id)

    def bind_staff_topic(self, tenant: Tenant, topic_arn: str | None) -> None:
        """Bind the tenant's managers' topic (None: no call tasks); its name must carry the tenant's id."""
        if topic_arn is not None:
            self._check_topic(tenant.tenant_id, topic_arn)
        self._store.bind_staff_topic(tenant.tenant_id, topic_arn)
        self.forget(tenant.tenant_id)

    def _check_topic(self, tenant_id: str, topic_arn: str) -> None:
        if not staff_topic_owned(topic_arn, tenant_id, self.staff_topic_prefix):
            raise Unprocessable(
                f"the staff topic of tenant {tenant_id} must be an SNS topic named {self.staff_topic_prefix}{tenant_id}",
                code="staff_topic_not_owned",
            )
