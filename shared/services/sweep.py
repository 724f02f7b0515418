"""The scheduled jobs' engine (docs/spec.md §7): fan a run out over the index shards, then sweep one shard.

A run is one EventBridge event. Its "now" is the event's ``time``, so a replayed event gives the same
result. The run becomes one task per shard of the due indexes (an SQS message each). A worker
sweeps its shard page by page: members due at ``now`` come from the job's sparse index (a Query,
never a Scan), are loaded in batches, and are processed by the job's member function in a few
threads. Before the Lambda's time runs out the worker stops between pages and hands the rest of
its shard on as a new task that carries the index cursor.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from shared import clock
from shared.clock import iso, parse_ts
from shared.keys import INDEX_SHARDS
from shared.observability import logger, metrics
from shared.records import DuePage, Member, MemberKey
from shared.scheduled_jobs import SCHEDULED_JOBS
from shared.services.jobs import MemberJob, MemberOutcome
from shared.tenants import TenantDirectory

# Job name (the `make schedule JOB=` names) -> the due index it reads: the catalog's shard sweeps.
JOB_INDEX = {row.job: row.index for row in SCHEDULED_JOBS if row.index is not None}
# Seconds from the start of an expiry run to a shard finished or handed on; alarmed on in infra/resources.json.
EXPIRY_RUN_AGE_METRIC = "ExpiryRunAgeSeconds"
# Jobs that write to the member (contact data and consent): their sweep reads the profiles with the accounts.
PROFILE_JOBS = {row.job for row in SCHEDULED_JOBS if row.profiles}


@dataclass(frozen=True, kw_only=True)
class ShardTask:
    job: str
    shard: int
    now: datetime
    run_id: str
    cursor: dict[str, Any] | None = None
    part: int = 0  # how many times this shard was handed on within the run
    started: datetime | None = None  # wall clock when the run was planned (absent: a hand-made task)

    def to_json(self) -> str:
        started = iso(self.started) if self.started else None
        return json.dumps({**asdict(self), "now": iso(self.now), "started": started}, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str) -> ShardTask:
        data = json.loads(raw)
        if data.get("job") not in JOB_INDEX or not 0 <= int(data.get("shard", -1)) < INDEX_SHARDS:
            raise ValueError("not a sweep task")
        return cls(
            job=data["job"],
            shard=int(data["shard"]),
            now=parse_ts(data["now"]),
            run_id=str(data["run_id"]),
            cursor=data.get("cursor"),
            part=int(data.get("part", 0)),
            started=parse_ts(data["started"]) if data.get("started") else None,
        )


@dataclass(kw_only=True)
class ShardReport:
    job: str
    shard: int
    members: int = 0
    changed: int = 0
    lots: int = 0
    points: int = 0
    messages: int = 0
    failed: int = 0
    skipped: int = 0
    errors: int = 0
    cost_usd_micros: int = 0
    pages: int = 0
    handed_on: ShardTask | None = field(default=None, repr=False)

    def add(self, outcome: MemberOutcome) -> None:
        self.members += 1
        self.changed += outcome.changed
        self.lots += outcome.lots
        self.points += outcome.points
        self.messages += outcome.messages
        self.failed += outcome.failed
        self.skipped += outcome.skipped
        self.cost_usd_micros += outcome.cost_usd_micros

    def summary(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if isinstance(v, int) and k != "shard"}


class DueStore(Protocol):
    def due(self, index: str, shard: int, now: datetime, cursor: dict[str, Any] | None, limit: int) -> DuePage: ...
    def load_members(self, keys: list[MemberKey], profiles: bool = False) -> dict[MemberKey, Member]: ...


def plan_run(job: str, now: datetime, run_id: str, started: datetime | None = None) -> list[ShardTask]:
    """One task per shard of the job's index; ``started`` (the wall clock) lets the worker report the run's age."""
    if job not in JOB_INDEX:
        raise ValueError(f"unknown job {job}")
    return [ShardTask(job=job, shard=shard, now=now, run_id=run_id, started=started) for shard in range(INDEX_SHARDS)]


class Sweeper:
    def __init__(
        self, store: DueStore, tenants: TenantDirectory, jobs: Mapping[str, MemberJob], page_size: int, threads: int
    ) -> None:
        self.store = store
        self.tenants = tenants
        self.jobs = jobs
        self.page_size = page_size
        self.threads = threads

    def run(self, task: ShardTask, time_left: Callable[[], float]) -> ShardReport:
        """Sweep the shard until it is done or ``time_left()`` (seconds) says stop: then hand on the rest."""
        report = ShardReport(job=task.job, shard=task.shard)
        cursor = task.cursor
        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            while True:
                if time_left() <= 0:
                    report.handed_on = replace(task, cursor=cursor, part=task.part + 1)
                    break
                page = self.store.due(JOB_INDEX[task.job], task.shard, task.now, cursor, self.page_size)
                report.pages += 1
                members = self.store.load_members(page.keys, profiles=task.job in PROFILE_JOBS) if page.keys else {}
                loaded = [(key, members[key]) for key in page.keys]
                for outcome in pool.map(lambda pair: self._member(task, *pair), loaded):
                    if outcome is None:
                        report.errors += 1
                    else:
                        report.add(outcome)
                cursor = page.cursor
                if cursor is None:
                    break
        self._record(task, report)
        return report

    def _member(self, task: ShardTask, key: MemberKey, member: Member) -> MemberOutcome | None:
        """One member; an error is logged and counted, the member stays due for the next run."""
        tenant = self.tenants.get(key.tenant)
        if tenant is None or tenant.status != "active":
            return MemberOutcome(skipped=1)
        try:
            return self.jobs[task.job](tenant, key, member, task.now)
        except Exception as exc:  # one member must not stop the shard; it is retried by the next run
            logger.warning(
                "member skipped after an error",
                extra={
                    "job": task.job,
                    "tenant_id": key.tenant,
                    "member_id": key.member_id,
                    "error": type(exc).__name__,
                },
            )
            return None

    @staticmethod
    def _record(task: ShardTask, report: ShardReport) -> None:
        """A log line and metrics per shard that had work (64 empty shards an hour are not news); for the expiry,
        the run's age at every shard finished or handed on, the metric of its deadline alarm (infra/)."""
        if task.job == "expire" and task.started is not None:
            age = (clock.now() - task.started).total_seconds()
            metrics.add_metric(name=EXPIRY_RUN_AGE_METRIC, unit="Seconds", value=max(age, 0.0))
        if not (report.members or report.errors or report.handed_on):
            return
        extra = {"job": task.job, "shard": task.shard, "run_id": task.run_id, **report.summary()}
        logger.info("shard swept", extra={**extra, "handed_on": report.handed_on is not None})
        name = task.job.replace("-", "_")
        metrics.add_metric(name=f"{name}_members", unit="Count", value=report.members)
        if report.errors:
            metrics.add_metric(name=f"{name}_errors", unit="Count", value=report.errors)
        if task.job == "expire":
            metrics.add_metric(name="PointsExpired", unit="Count", value=report.points)
            metrics.add_metric(name="LotsExpired", unit="Count", value=report.lots)
        if task.job in PROFILE_JOBS:
            metrics.add_metric(name="NotificationsSent", unit="Count", value=report.messages)
            metrics.add_metric(name="NotificationsFailed", unit="Count", value=report.failed)
            metrics.add_metric(name="NotificationCostUsdMicros", unit="Count", value=report.cost_usd_micros)
