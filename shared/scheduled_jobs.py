"""The catalog of the scheduled jobs (docs/spec.md §7): one row per job, and everything that lists jobs reads it.

A row names the job (the task's ``job``, the `make schedule JOB=` name), its starter function (the Lambda function,
``functions.schedules.<function>``, whose name the packaged template and infra/resources.json's ``<Function>Role``
follow), its EventBridge expression, the due index its sweep reads (``<index>_due``, ranged by ``attribute`` of the
ACCOUNT item) and the service whose method is its per-member step. Derived from it: the starters and their schedules
(``functions.schedules``), the sweep's indexes and profile jobs (``shared.services.sweep``), the worker's job registry
(``shared.container``), the due queries of both stores (``shared.dal``), the sample events (``events/``), the local
runner (``scripts/scheduler.py``) and the cost model's runs per day. Pure data: no import beyond the standard library.

Adding a job with its wake-up (docs/architecture.md, "Adding a stored, scheduled member attribute"): a field of
``shared.account.WakeUps``, the ``AccountItem`` attribute of the same name and its ``_due_index`` in
``shared.dal.models``, a row here, the service, and the index and the starter's role in ``infra/resources.json``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SAMPLE_TIME = "2027-01-15T09:05:00Z"  # the ``time`` of the sample events (events/scheduled_<function>.json)


@dataclass(frozen=True, kw_only=True)
class ScheduledJob:
    job: str  # the task's job name, `make schedule JOB=<job>`
    function: str  # the starter: Chalice function name, Lambda handler ``functions.schedules.<function>``
    schedule: str  # EventBridge expression: ``rate(<n> minutes|hours|days)`` or ``cron(<minute> <hour> * * ? *)``
    description: str
    # The due index its sweep reads (``store.due(index, ...)``; its GSI is ``<index>_due``). None: not a shard sweep
    # (the VIP classification fans out per tenant).
    index: str | None = None
    # The ACCOUNT item's attribute that ranges the index (a ``WakeUps`` field, or a time the ledger derives).
    # None: the index is not the account's (the birthday index is the profiles').
    attribute: str | None = None
    # The member step, "<module>:<Class>.<method>": the composition root imports the module on the job's first task
    # and builds the class with the dependencies its constructor names (shared.container).
    service: str | None = None
    profiles: bool = False  # it writes to the member's contacts: its sweep loads the profiles with the accounts
    points: bool = False  # it moves points: its run summary reports lots and points
    sample_time: str = SAMPLE_TIME

    @property
    def gsi(self) -> str | None:
        """The due index's name in the table (and the ``AccountItem`` attribute that declares it)."""
        return None if self.index is None else f"{self.index}_due"

    @property
    def runs_per_day(self) -> int:
        """How often EventBridge starts it (the cost model's fixed lines)."""
        return runs_per_day(self.schedule)


SCHEDULED_JOBS: tuple[ScheduledJob, ...] = (
    ScheduledJob(
        job="expire",
        function="expire_points",
        schedule="cron(5 * * * ? *)",
        description="Expire due lots (hourly at :05)",
        index="expiry",
        attribute="next_expiry",
        service="shared.services.jobs:Upkeep.expire",
        points=True,
    ),
    ScheduledJob(
        job="remind",
        function="send_reminders",
        schedule="cron(10 * * * ? *)",
        description="Expiry reminder ladder (hourly at :10)",
        index="remind",
        attribute="remind_at",
        service="shared.services.reminders:ReminderService.remind",
        profiles=True,
    ),
    ScheduledJob(
        job="release-holds",
        function="release_holds",
        schedule="rate(15 minutes)",
        description="Release holds past their TTL",
        index="holds",
        attribute="hold_expiry",
        service="shared.services.jobs:Upkeep.release_holds",
        points=True,
    ),
    ScheduledJob(
        job="activate-pending",
        function="activate_pending",
        schedule="cron(15 * * * ? *)",
        description="Announce pending points now available",
        index="pending",
        attribute="next_available",
        service="shared.services.jobs:Upkeep.activate_pending",
        points=True,
    ),
    ScheduledJob(
        job="birthday-bonus",
        function="grant_birthdays",
        schedule="cron(20 * * * ? *)",
        description="Birthday bonus in each tenant's time (hourly)",
        index="birthday",
        service="shared.services.birthdays:BirthdayService.grant",
        profiles=True,
        points=True,
    ),
    ScheduledJob(
        job="tier-review",
        function="review_tiers",
        schedule="cron(25 * * * ? *)",
        description="Rolling-basis tier downgrades on the local 1st",
        index="tier_review",
        attribute="tier_review_at",
        service="shared.services.tier_reviews:TierReviewService.review",
        profiles=True,
    ),
    ScheduledJob(
        job="boost-reminder",
        function="remind_boosts",
        schedule="cron(30 * * * ? *)",
        description="Remind of a post-purchase boost's end",
        index="boost_remind",
        attribute="boost_remind_at",
        service="shared.services.boost_reminders:BoostReminderService.remind",
        profiles=True,
    ),
    ScheduledJob(
        job="classify-vip",  # shared.services.abc.JOB: planned per tenant by the AbcService, not a shard sweep
        function="classify_vip",
        schedule="cron(30 2 * * ? *)",
        description="VIP by ABC analysis: set class A on accounts (daily 02:30 UTC)",
        sample_time="2027-01-15T02:30:00Z",
    ),
)

JOBS: dict[str, ScheduledJob] = {row.job: row for row in SCHEDULED_JOBS}

_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\((\d+) (\*|\d+(?:,\d+)*) \* \* \? \*\)")
_PER_DAY = {"minute": 24 * 60, "hour": 24, "day": 1}


def runs_per_day(expression: str) -> int:
    """Runs a day of an EventBridge expression of the two forms the catalog uses (anything else is an error)."""
    if rate := _RATE.fullmatch(expression):
        return _PER_DAY[rate.group(2).rstrip("s")] // int(rate.group(1))
    if cron := _CRON.fullmatch(expression):
        return 24 if cron.group(2) == "*" else len(cron.group(2).split(","))
    raise ValueError(f"not a schedule expression the catalog knows: {expression}")


def job_names(last: str = "or") -> str:
    """The job names as a sentence's list: ``expire, remind, ... or classify-vip`` (the banners and help)."""
    names = [row.job for row in SCHEDULED_JOBS]
    return f"{', '.join(names[:-1])} {last} {names[-1]}"
