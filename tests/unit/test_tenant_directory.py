"""The tenant directory (issue 13 items 3, 18, 19): a bounded cache, API keys rotated and revoked, and the sender and
staff topic bound by the operator rather than set by the merchant."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.errors import Conflict, Forbidden, Unprocessable
from shared.program import ProgramSettings, ProgramVersion
from shared.tenants import Tenant, TenantDirectory, hash_api_key, key_matches

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FakeStore:
    """The tenant store in memory, counting loads."""

    def __init__(self) -> None:
        self.tenants: dict[str, Tenant] = {}
        self.loads: list[str] = []
        self.senders: dict[str, str] = {}  # claim key -> tenant id

    def load(self, tenant_id: str) -> Tenant | None:
        self.loads.append(tenant_id)
        return self.tenants.get(tenant_id)

    def create(self, tenant: Tenant, sender_claim: str | None = None) -> None:
        if sender_claim:
            self._claim(tenant.tenant_id, sender_claim)
        self.tenants[tenant.tenant_id] = tenant

    def add_program(self, tenant_id: str, version: ProgramVersion, vip_registry: bool | None = None) -> None:
        tenant = self.tenants[tenant_id]
        self.tenants[tenant_id] = replace(tenant, programs=(*tenant.programs, version))

    def set_webhook_secrets(self, tenant_id: str, platform: str, secrets: list[str]) -> None:
        raise NotImplementedError

    def set_status(self, tenant_id: str, status: str, reason: str | None, at: datetime) -> None:
        raise NotImplementedError

    def set_api_keys(self, tenant_id: str, hashes: tuple[str, ...], retiring: dict[str, datetime]) -> None:
        self.tenants[tenant_id] = replace(self.tenants[tenant_id], api_key_hashes=hashes, retiring_keys=retiring)

    def bind_sender(self, tenant_id: str, address: str | None, claim: str | None, previous: str | None) -> None:
        if claim:
            self._claim(tenant_id, claim)
        if previous and previous != claim:
            self.senders.pop(previous, None)
        self.tenants[tenant_id] = replace(self.tenants[tenant_id], email_from=address)

    def bind_staff_topic(self, tenant_id: str, topic_arn: str | None) -> None:
        self.tenants[tenant_id] = replace(self.tenants[tenant_id], staff_topic_arn=topic_arn)

    def _claim(self, tenant_id: str, claim: str) -> None:
        if self.senders.get(claim, tenant_id) != tenant_id:
            raise Conflict("bound elsewhere", code="sender_bound_elsewhere")
        self.senders[claim] = tenant_id


def directory(store: FakeStore, **kwargs: Any) -> TenantDirectory:
    return TenantDirectory(
        store, 60, staff_topic_prefix="loyalty-staff-", platform_sender="loyalty@example.com", **kwargs
    )


def topic(name: str) -> str:
    return f"arn:aws:sns:us-east-1:123456789012:{name}"


# -- item 19: the cache is bounded and keeps no invalid id ------------------------------------------------------------


def test_ids_that_fail_validation_are_never_cached() -> None:
    # Given a directory
    store = FakeStore()
    tenants = directory(store)
    # When many ids that are not tenant ids are asked for
    for n in range(500):
        assert tenants.get(f"NOT A TENANT {n}") is None
    # Then none was loaded and none was kept
    assert store.loads == [] and tenants.cached == 0


def test_the_cache_keeps_at_most_its_size_dropping_the_least_recently_used() -> None:
    # Given a directory that keeps three tenants
    store = FakeStore()
    tenants = directory(store, max_entries=3)
    tenants.create("shop-a", ProgramSettings(currency="RUB"), NOW)
    # When five valid ids are asked for, shop-a again in between
    for tenant_id in ("shop-a", "shop-b", "shop-c", "shop-a", "shop-d", "shop-e"):
        tenants.get(tenant_id)
    # Then three are kept, and shop-a (used recently) is still a hit while shop-b was dropped
    assert tenants.cached == 3
    store.loads.clear()
    tenants.get("shop-a")
    tenants.get("shop-b")
    assert store.loads == ["shop-b"]


# -- item 18: rotate and revoke API keys ------------------------------------------------------------------------------


def test_a_rotation_without_grace_revokes_the_old_key_at_once() -> None:
    # Given a tenant and its key
    store = FakeStore()
    tenants = directory(store)
    old = tenants.create("shop-1", ProgramSettings(currency="RUB"), NOW).api_key
    # When the key is rotated with no grace period
    new = tenants.rotate_api_key(tenants.get("shop-1"), timedelta(0), NOW)  # type: ignore[arg-type]
    # Then only the new key opens the tenant, and only its hash is stored
    tenant = tenants.get("shop-1")
    assert key_matches(tenant, new, NOW) and not key_matches(tenant, old, NOW)
    assert tenant is not None and tenant.api_key_hashes == (hash_api_key(new),) and tenant.retiring_keys == {}


def test_a_rotation_with_grace_keeps_the_old_key_until_the_grace_ends_then_revoke_ends_it() -> None:
    # Given a tenant whose key is rotated with one hour of grace
    store = FakeStore()
    tenants = directory(store)
    old = tenants.create("shop-1", ProgramSettings(currency="RUB"), NOW).api_key
    new = tenants.rotate_api_key(tenants.get("shop-1"), timedelta(hours=1), NOW)  # type: ignore[arg-type]
    tenant = tenants.get("shop-1")
    # Then both keys work within the hour, only the new one after it
    assert key_matches(tenant, old, NOW + timedelta(minutes=59)) and key_matches(tenant, new, NOW)
    assert not key_matches(tenant, old, NOW + timedelta(hours=1))
    # When the retiring keys are revoked before the grace ends, then the old key stops at once
    assert tenants.revoke_api_keys(tenant, retiring_only=True, at=NOW) == 1  # type: ignore[arg-type]
    tenant = tenants.get("shop-1")
    assert not key_matches(tenant, old, NOW) and key_matches(tenant, new, NOW)
    # When every key is revoked, then no key opens the tenant
    assert tenants.revoke_api_keys(tenant, retiring_only=False, at=NOW) == 1  # type: ignore[arg-type]
    assert not key_matches(tenants.get("shop-1"), new, NOW)


def test_a_grace_period_is_bounded() -> None:
    store = FakeStore()
    tenants = directory(store)
    tenants.create("shop-1", ProgramSettings(currency="RUB"), NOW)
    with pytest.raises(Unprocessable) as refused:
        tenants.rotate_api_key(tenants.get("shop-1"), timedelta(days=8), NOW)  # type: ignore[arg-type]
    assert refused.value.code == "invalid_grace"


# -- item 3: the sender and the staff topic are the operator's --------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("email_from", "news@victim.example"), ("staff_topic_arn", topic("loyalty-staff-victim"))],
)
def test_a_program_change_cannot_set_the_sender_or_the_staff_topic(field: str, value: str) -> None:
    # Given tenant evil
    store = FakeStore()
    tenants = directory(store)
    tenants.create("evil", ProgramSettings(currency="RUB"), NOW)
    evil = tenants.get("evil")
    assert evil is not None
    # When a program version setting victim's sender or topic is saved
    settings = ProgramSettings.model_validate({**evil.current.settings.model_dump(), field: value})
    with pytest.raises(Forbidden) as refused:
        tenants.update_program(evil, settings, NOW)
    # Then it is refused with a stable code, and nothing was saved
    assert refused.value.code == "operator_setting"
    assert len(store.tenants["evil"].programs) == 1


def test_the_staff_topic_must_carry_the_tenant_id() -> None:
    # Given tenants evil and victim
    store = FakeStore()
    tenants = directory(store)
    tenants.create("victim", ProgramSettings(currency="RUB"), NOW)
    tenants.create("evil", ProgramSettings(currency="RUB"), NOW)
    evil = tenants.get("evil")
    assert evil is not None
    # When the operator binds victim's topic (or an unrelated one) to evil, then it is refused
    for name in ("loyalty-staff-victim", "loyalty-staff-evil-2", "other-staff-evil", "loyalty-staff-"):
        with pytest.raises(Unprocessable) as refused:
            tenants.bind_staff_topic(evil, topic(name))
        assert refused.value.code == "staff_topic_not_owned"
    # And evil's own topic is bound and shown in its program
    tenants.bind_staff_topic(evil, topic("loyalty-staff-evil"))
    bound = tenants.get("evil")
    assert bound is not None and bound.staff_topic_arn == topic("loyalty-staff-evil")
    # And creating a tenant with another's topic is refused the same way
    with pytest.raises(Unprocessable):
        tenants.create("evil-2", ProgramSettings(currency="RUB", staff_topic_arn=topic("loyalty-staff-victim")), NOW)


def test_a_sender_bound_to_one_tenant_cannot_be_bound_to_another() -> None:
    # Given victim bound to its sender
    store = FakeStore()
    tenants = directory(store)
    tenants.create("victim", ProgramSettings(currency="RUB", email_from="news@victim.example"), NOW)
    tenants.create("evil", ProgramSettings(currency="RUB"), NOW)
    evil = tenants.get("evil")
    assert evil is not None
    # When evil is bound to any address of victim's domain, then it is refused
    for address in ("news@victim.example", "Promo@Victim.Example"):
        with pytest.raises(Conflict) as refused:
            tenants.bind_sender(evil, address)
        assert refused.value.code == "sender_bound_elsewhere"
    # And the platform's own sender is shared: any tenant may use it
    tenants.bind_sender(evil, "loyalty@example.com")
    assert tenants.get("evil").email_from == "loyalty@example.com"  # type: ignore[union-attr]
