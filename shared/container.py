"""Composition root: builds the stores and services once per Lambda container."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

from shared.dal.grants_store import DynamoGrantStore
from shared.dal.ledger_store import DynamoLedgerStore
from shared.dal.models import bind
from shared.dal.task_queue import SqsTaskQueue
from shared.dal.tenants_store import DynamoTenantStore
from shared.notify.aws import AwsNotifier
from shared.services.abc import AbcService
from shared.services.birthdays import BirthdayService
from shared.services.boost_reminders import BoostReminderService
from shared.services.checkout import CheckoutService
from shared.services.grants import GrantConfig, GrantService
from shared.services.jobs import MemberJob, Upkeep
from shared.services.members import MemberService
from shared.services.messenger import Messenger
from shared.services.orders import OrderService
from shared.services.reminders import MailSettings, ReminderService
from shared.services.sweep import Sweeper, TaskQueue
from shared.services.tier_reviews import TierReviewService
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
    abc: AbcService
    grants: GrantService


def build(settings: Settings) -> Container:
    bind(settings)
    store = DynamoLedgerStore()
    tenant_store = DynamoTenantStore()
    tenants = TenantDirectory(tenant_store, settings.tenant_cache_seconds)
    upkeep = Upkeep(store, settings.commit_attempts)
    mail = MailSettings(settings.email_from, settings.email_template_prefix, settings.notify_max_attempts)
    mail = replace(mail, template_namespace=settings.email_template_namespace)
    notifier = AwsNotifier(settings.region, settings.messaging_endpoint_url or settings.endpoint_url)
    reminders = ReminderService(store, notifier, mail, settings.commit_attempts)
    messenger = Messenger(store, notifier, mail)
    queue = SqsTaskQueue(settings.region, settings.endpoint_url, settings.sweep_queue_url, settings.sweep_queue_name)
    grant_config = GrantConfig(
        settings.grant_chunk_size,
        settings.sweep_page_size,
        settings.sweep_threads,
        settings.commit_attempts,
        settings.email_from,
        settings.grant_template_prefix,
    )
    jobs: dict[str, MemberJob] = {
        "expire": upkeep.expire,
        "remind": reminders.remind,
        "release-holds": upkeep.release_holds,
        "activate-pending": upkeep.activate_pending,
        "birthday-bonus": BirthdayService(store, messenger, settings.commit_attempts).grant,
        "tier-review": TierReviewService(store, messenger, settings.commit_attempts).review,
        "boost-reminder": BoostReminderService(store, messenger, settings.commit_attempts).remind,
    }
    return Container(
        settings,
        tenants,
        OrderService(store, settings.commit_attempts),
        CheckoutService(store, settings.commit_attempts),
        MemberService(store),
        TransferService(store, settings.commit_attempts),
        Sweeper(store, tenants, jobs, settings.sweep_page_size, settings.sweep_threads),
        queue,
        AbcService(store, tenant_store, tenants, settings.commit_attempts),
        GrantService(store, DynamoGrantStore(), queue, tenants, notifier, grant_config),
    )


@cache
def container() -> Container:
    return build(get_settings())


def reset() -> None:
    """Forget the built container and settings (tests change the environment between runs)."""
    get_settings.cache_clear()
    container.cache_clear()
