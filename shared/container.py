"""Composition root: builds each store and service on first use, once per Lambda container.

Nothing is built when a handler's module is imported. The stores that every request and task uses (the tenants', the
ledger's) are imported with it, in the Lambda's init; each service's module is imported, and the service built, the
first time a request or a task asks for it. So a function loads only the services it uses: the API handler never
loads the scheduled jobs' services (its routes import the modules of their own services), a schedule starter only
the queue (and the VIP planner), the SQS worker each job's service on the first task of that job.
"""

from __future__ import annotations

import importlib
import inspect
import threading
from collections.abc import Callable, Iterator, Mapping
from functools import cache, partial
from typing import TYPE_CHECKING, Generic, TypeVar, overload

# What every request and task reaches (the tenant, the member's ledger) is imported with the handler, in the init:
from shared.dal.ledger_store import DynamoLedgerStore
from shared.dal.tenants_store import DynamoTenantStore
from shared.scheduled_jobs import SCHEDULED_JOBS
from shared.settings import Settings, get_settings
from shared.tenants import TenantDirectory

if TYPE_CHECKING:
    from shared.dal.grants_store import DynamoGrantStore
    from shared.dal.task_queue import SqsTaskQueue
    from shared.notify.aws import AwsNotifier
    from shared.ports import CabinetStore, CampaignStore, CardStore, FeedbackStore, TaskQueue
    from shared.services.abc import AbcService
    from shared.services.cabinet import CabinetService
    from shared.services.cabinet_profile import CabinetProfileService
    from shared.services.cabinet_transfers import CabinetTransfers
    from shared.services.campaigns import CampaignService
    from shared.services.cards import CardService
    from shared.services.checkout import CheckoutService
    from shared.services.feedback import FeedbackService
    from shared.services.grants import GrantService
    from shared.services.jobs import MemberJob
    from shared.services.members import MemberService
    from shared.services.messenger import Messenger
    from shared.services.orders import OrderService
    from shared.services.reminders import MailSettings
    from shared.services.sweep import Sweeper
    from shared.services.transfers import TransferService
    from shared.services.webhook_intake import WebhookIntake

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


# What a scheduled job's service may name in its constructor: the container's attributes of these names, and
# ``attempts`` (the commit attempts of a member write).
JOB_DEPENDENCIES = frozenset({"store", "notifier", "mail", "messenger", "attempts"})


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
    def cabinet_store(self) -> CabinetStore:
        from shared.dal.cabinet_store import DynamoCabinetStore

        return DynamoCabinetStore()

    @built
    def card_store(self) -> CardStore:
        from shared.dal.card_store import DynamoCardStore

        return DynamoCardStore()

    @built
    def campaign_store(self) -> CampaignStore:
        from shared.dal.campaign_store import DynamoCampaignStore

        return DynamoCampaignStore()

    @built
    def feedback_store(self) -> FeedbackStore:
        from shared.dal.feedback_store import DynamoFeedbackStore

        return DynamoFeedbackStore()

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
    def intake(self) -> WebhookIntake:
        from shared.services.webhook_intake import WebhookIntake

        return WebhookIntake(self.orders, self.store)

    @built
    def cabinet(self) -> CabinetService:
        from shared.services.cabinet import CabinetService

        return CabinetService(self.cabinet_store, self.store, self.notifier, self.mail, self.settings.commit_attempts)

    @built
    def cabinet_profile(self) -> CabinetProfileService:
        from shared.services.cabinet_profile import CabinetProfileService

        return CabinetProfileService(self.cabinet, self.members, self.store)

    @built
    def cards(self) -> CardService:
        from shared.services.cards import CardService

        return CardService(self.card_store)

    @built
    def cabinet_transfers(self) -> CabinetTransfers:
        from shared.services.cabinet_transfers import CabinetTransfers

        return CabinetTransfers(self.transfers, self.store, self.cabinet_store)

    @built
    def feedback(self) -> FeedbackService:
        from shared.services.feedback import FeedbackService

        return FeedbackService(self.feedback_store, self.store, self.notifier, self.settings.commit_attempts)

    @built
    def campaigns(self) -> CampaignService:
        from shared.services.campaigns import CampaignService

        return CampaignService(self.campaign_store)

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
            chunk_size=s.grant_chunk_size,
            page_size=s.sweep_page_size,
            threads=s.sweep_threads,
            attempts=s.commit_attempts,
            email_from=s.email_from,
            template_prefix=s.grant_template_prefix,
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
        """Each shard-sweeping job of the catalog (shared/scheduled_jobs.py) -> the builder of its member step."""
        return {row.job: partial(self._member_job, row.service) for row in SCHEDULED_JOBS if row.service is not None}

    def _member_job(self, service: str) -> MemberJob:
        """A catalog row's ``"<module>:<Class>.<method>"``: the module imported now (the job's first task), the
        class built with the dependencies its constructor names (``JOB_DEPENDENCIES``), the method bound."""
        module, _, path = service.partition(":")
        class_name, method = path.split(".")
        service_class = getattr(importlib.import_module(module), class_name)
        names = inspect.signature(service_class).parameters
        unknown = set(names) - JOB_DEPENDENCIES
        if unknown:
            raise TypeError(
                f"{service} asks for {sorted(unknown)}: a job service may ask for {sorted(JOB_DEPENDENCIES)}"
            )
        built_service = service_class(**{name: self._job_dependency(name) for name in names})
        return getattr(built_service, method)  # type: ignore[no-any-return]

    def _job_dependency(self, name: str) -> object:
        return self.settings.commit_attempts if name == "attempts" else getattr(self, name)


def build(settings: Settings) -> Container:
    return Container(settings)


@cache
def container() -> Container:
    return build(get_settings())


def reset() -> None:
    """Forget the built container and settings (tests change the environment between runs)."""
    get_settings.cache_clear()
    container.cache_clear()
