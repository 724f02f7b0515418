"""Composition root: builds the stores and services once per Lambda container."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from shared.dal.ledger_store import DynamoLedgerStore
from shared.dal.models import bind
from shared.dal.task_queue import SqsTaskQueue
from shared.dal.tenants_store import DynamoTenantStore
from shared.notify.aws import AwsNotifier
from shared.services.checkout import CheckoutService
from shared.services.jobs import MemberJob, Upkeep
from shared.services.members import MemberService
from shared.services.orders import OrderService
from shared.services.reminders import MailSettings, ReminderService
from shared.services.sweep import Sweeper, TaskQueue
from shared.services.transfers import TransferService
from shared.settings import Settings, get_settings
from shared.tenants import TenantDirectory


@dataclass(frozen=True)
class Container:
    settings: Settings
    tenants: TenantDirectory
    orders: OrderService
    checkout: CheckoutService
    members: MemberService
    transfers: TransferService
    sweeper: Sweeper
    tasks: TaskQueue


def build(settings: Settings) -> Container:
    bind(settings)
    store = DynamoLedgerStore()
    tenants = TenantDirectory(DynamoTenantStore(), settings.tenant_cache_seconds)
    upkeep = Upkeep(store, settings.commit_attempts)
    mail = MailSettings(settings.email_from, settings.email_template_prefix, settings.notify_max_attempts)
    reminders = ReminderService(
        store, AwsNotifier(settings.region, settings.endpoint_url), mail, settings.commit_attempts
    )
    jobs: dict[str, MemberJob] = {
        "expire": upkeep.expire,
        "remind": reminders.remind,
        "release-holds": upkeep.release_holds,
        "activate-pending": upkeep.activate_pending,
    }
    return Container(
        settings,
        tenants,
        OrderService(store, settings.commit_attempts),
        CheckoutService(store, settings.commit_attempts),
        MemberService(store),
        TransferService(store, settings.commit_attempts),
        Sweeper(store, tenants, jobs, settings.sweep_page_size, settings.sweep_threads),
        SqsTaskQueue(settings.region, settings.endpoint_url, settings.sweep_queue_url, settings.sweep_queue_name),
    )


@cache
def container() -> Container:
    return build(get_settings())


def reset() -> None:
    """Forget the built container and settings (tests change the environment between runs)."""
    get_settings.cache_clear()
    container.cache_clear()
