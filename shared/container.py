"""Composition root: builds each store and service on first use, once per Lambda container.

Nothing is built when a handler's module is imported. The stores that every request and task uses (the tenants', the
ledger's) are imported with it, in the Lambda's init; each service's module is imported, and the service built, the
first time a request or a task asks for it. So a function loads only the services it uses: the API handler never
loads the scheduled jobs' services (its routes import the modules of their own services), a schedule starter only
the queue (and the VIP planner), the SQS worker each job's service on the first task of that job.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from typing import TYPE_CHECKING, Generic, TypeVar, overload

# What every request and task reaches (the tenant, the member's ledger) is imported with the handler, in the init:
from shared.dal.ledger_store import DynamoLedgerStore
from shared.dal.tenants_store import DynamoTenantStore
from shared.settings import Settings, get_settings
from shared.tenants import TenantDirectory

if TYPE_CHECKING:
    from shared.dal.grants_store import DynamoGrantStore
    from shared.dal.task_queue import SqsTaskQueue
    from shared.notify.aws import AwsNotifier
    from shared.ports import TaskQueue
    from shared.services.abc import AbcService
    from shared.services.checkout import CheckoutService
    from shared.services.grants import GrantService
    from shared.services.jobs import MemberJob, Upkeep
    from shared.services.members import MemberService
    from shared.services.messenger import Messenger
    from shared.services.orders import OrderService
    from shared.services.reminders import MailSettings
    from shared.services.sweep import Sweeper
    from shared.services.transfers import TransferService

T = TypeVar("T")


class built(Generic[T]):  # lower case: a decorator, like functools.cached_property
    """A container attribute built on its first read, once: the sweep worker's threads and `chalice local`'s may
    ask for it at the same time. Later reads find it in the instance's ``__dict__`` and never come here."""

    def __init__(self, factory: Callable[[Container], T]) -> None:
        self.factory = factory
        self.name = factory.__name__
        self.__doc__ = factory.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> built[T]: ...
    @overload
    def __get__(self, instance: Container, owner: type | None = None) -> T: ...
    def __get__(self, instance: Container | None, owner: type | None = None) -> built[T] | T:
        if instance is None:
            return self
        with instance._lock:  # re-entrant: building a service builds the stores it needs
            if self.name not in instance.__dict__:
                instance.__dict__[self.name] = self.factory(instance)
        return instance.__dict__[self.name]  # type: ignore[no-any-return]


class Jobs(Mapping[str, "MemberJob"]):
    """The scheduled jobs' member functions by job name, each job's service built on the first task of that job."""

    def __init__(self, factories: Mapping[str, Callable[[], MemberJob]], lock: threading.RLock) -> None:
        self._factories = factories
        self._lock = lock
        self._built: dict[str, MemberJob] = {}

    def __getitem__(self, job: str) -> MemberJob:
        found = self._built.get(job)
        if found is None:
            with self._lock:
                found = self._built.get(job) or self._factories[job]()
                self._built[job] = found
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._factories)

    def __len__(self) -> int:
        return len(self._factories)


class Container:
    """The stores and services of one Lambda container, each built on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.RLock()
        from shared.dal.models import bind  # the PynamoDB models, which the stores and the ops scripts use

        bind(settings)

    # -- stores -------------------------------------------------------------------------------------------------

    @built
    def store(self) -> DynamoLedgerStore:
        return DynamoLedgerStore()

    @built
    def tenant_store(self) -> DynamoTenantStore:
        return DynamoTenantStore()

    @built
    def grant_store(self) -> DynamoGrantStore:
        from shared.dal.grants_store import DynamoGrantStore

        return DynamoGrantStore()

    @built
    def tasks(self) -> TaskQueue:
        return self.queue

    @built
    def queue(self) -> SqsTaskQueue:
        from shared.dal.task_queue import SqsTaskQueue

        s = self.settings
        return SqsTaskQueue(s.region, s.endpoint_url, s.sweep_queue_url, s.sweep_queue_name)

    @built
    def notifier(self) -> AwsNotifier:
        from shared.notify.aws import AwsNotifier

        return AwsNotifier(self.settings.region, self.settings.messaging_endpoint_url or self.settings.endpoint_url)

    # -- the API's services -------------------------------------------------------------------------------------

    @built
    def tenants(self) -> TenantDirectory:
        s = self.settings
        return TenantDirectory(
            self.tenant_store,
            s.tenant_cache_seconds,
            staff_topic_prefix=s.staff_topic_prefix,
            platform_sender=s.email_from,
            max_entries=s.tenant_cache_entries,
        )

    @built
    def orders(self) -> OrderService:
        from shared.services.orders import OrderService

        return OrderService(self.store, self.settings.commit_attempts)

    @built
    def checkout(self) -> CheckoutService:
        from shared.services.checkout import CheckoutService

        return CheckoutService(self.store, self.settings.commit_attempts)

    @built
    def members(self) -> MemberService:
        from shared.services.members import MemberService

        return MemberService(self.store)

    @built
    def transfers(self) -> TransferService:
        from shared.services.transfers import TransferService

        return TransferService(self.store, self.settings.commit_attempts)

    @built
    def abc(self) -> AbcService:
        from shared.services.abc import AbcService

        return AbcService(self.store, self.tenant_store, self.tenants, self.settings.commit_attempts)

    @built
    def grants(self) -> GrantService:
        from shared.services.grants import GrantConfig, GrantService

        s = self.settings
        config = GrantConfig(
            s.grant_chunk_size,
            s.sweep_page_size,
            s.sweep_threads,
            s.commit_attempts,
            s.email_from,
            s.grant_template_prefix,
        )
        return GrantService(self.store, self.grant_store, self.queue, self.tenants, self.notifier, config)

    # -- the scheduled jobs -------------------------------------------------------------------------------------

    @built
    def sweeper(self) -> Sweeper:
        from shared.services.sweep import Sweeper

        s = self.settings
        return Sweeper(
            self.store, self.tenants, Jobs(self._job_factories(), self._lock), s.sweep_page_size, s.sweep_threads
        )

    @built
    def upkeep(self) -> Upkeep:
        from shared.services.jobs import Upkeep

        return Upkeep(self.store, self.settings.commit_attempts)

    @built
    def mail(self) -> MailSettings:
        from shared.services.reminders import MailSettings

        s = self.settings
        return MailSettings(
            s.email_from, s.email_template_prefix, s.notify_max_attempts, template_namespace=s.email_template_namespace
        )

    @built
    def messenger(self) -> Messenger:
        from shared.services.messenger import Messenger

        return Messenger(self.store, self.notifier, self.mail)

    def _job_factories(self) -> dict[str, Callable[[], MemberJob]]:
        def reminders() -> MemberJob:
            from shared.services.reminders import ReminderService

            return ReminderService(self.store, self.notifier, self.mail, self.settings.commit_attempts).remind

        def birthdays() -> MemberJob:
            from shared.services.birthdays import BirthdayService

            return BirthdayService(self.store, self.messenger, self.settings.commit_attempts).grant

        def tier_reviews() -> MemberJob:
            from shared.services.tier_reviews import TierReviewService

            return TierReviewService(self.store, self.messenger, self.settings.commit_attempts).review

        def boost_reminders() -> MemberJob:
            from shared.services.boost_reminders import BoostReminderService

            return BoostReminderService(self.store, self.messenger, self.settings.commit_attempts).remind

        return {
            "expire": lambda: self.upkeep.expire,
            "remind": reminders,
            "release-holds": lambda: self.upkeep.release_holds,
            "activate-pending": lambda: self.upkeep.activate_pending,
            "birthday-bonus": birthdays,
            "tier-review": tier_reviews,
            "boost-reminder": boost_reminders,
        }


def build(settings: Settings) -> Container:
    return Container(settings)


@cache
def container() -> Container:
    return build(get_settings())


def reset() -> None:
    """Forget the built container and settings (tests change the environment between runs)."""
    get_settings.cache_clear()
    container.cache_clear()
