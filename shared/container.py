"""Composition root: builds the stores and services once per Lambda container."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from shared.dal.ledger_store import DynamoLedgerStore
from shared.dal.models import bind
from shared.dal.tenants_store import DynamoTenantStore
from shared.services.checkout import CheckoutService
from shared.services.members import MemberService
from shared.services.orders import OrderService
from shared.settings import Settings, get_settings
from shared.tenants import TenantDirectory


@dataclass(frozen=True)
class Container:
    settings: Settings
    tenants: TenantDirectory
    orders: OrderService
    checkout: CheckoutService
    members: MemberService


def build(settings: Settings) -> Container:
    bind(settings)
    store = DynamoLedgerStore()
    return Container(
        settings,
        TenantDirectory(DynamoTenantStore(), settings.tenant_cache_seconds),
        OrderService(store, settings.commit_attempts),
        CheckoutService(store, settings.commit_attempts),
        MemberService(store),
    )


@cache
def container() -> Container:
    return build(get_settings())


def reset() -> None:
    """Forget the built container and settings (tests change the environment between runs)."""
    get_settings.cache_clear()
    container.cache_clear()
