"""Scheduled work (docs/spec.md §7, §8): eight EventBridge schedules fan out to one SQS worker.

Each schedule takes "now" from its event's ``time`` and enqueues one task per index shard; the
worker sweeps a shard, hands the rest on before its time runs out, and reports failed records one by
one (``ReportBatchItemFailures``, set on the event source in infra/resources.json) so that only they
are redelivered, then dead-lettered after five receives.
"""

from __future__ import annotations

import gc

# The scheduled functions' handler module: no garbage collection while the modules load, then frozen (see app.py).
_collecting = gc.isenabled()  # False when app.py, which imports this module, paused it: app.py resumes it
gc.disable()

from collections.abc import Callable
from typing import Any

from chalice import Blueprint
from chalice.app import CloudWatchEvent, SQSEvent

from functions.middleware import attach
from shared import clock
from shared.clock import now, parse_ts
from shared.container import container
from shared.grants import GrantTask
from shared.observability import logger
from shared.ports import QueuedTask
from shared.scheduled_jobs import SCHEDULED_JOBS
from shared.services.abc import JOB as VIP_JOB
from shared.services.abc import VipTask
from shared.services.grants import GrantReport
from shared.services.sweep import ShardReport, ShardTask, plan_run

bp = Blueprint(__name__)


def start_run(job: str, event: CloudWatchEvent) -> dict[str, Any]:
    now = parse_ts(event.time)
    # the VIP classification fans out per tenant of its registry; the sweeps per shard of their due index
    tasks: list[QueuedTask] = (
        list(container().abc.plan(now, event.event_id))
        if job == VIP_JOB
        else list(plan_run(job, now, event.event_id, started=clock.now()))
    )
    container().tasks.send(tasks)
    logger.info("run started", extra={"job": job, "run_id": event.event_id, "now": event.time, "tasks": len(tasks)})
    return {"job": job, "now": event.time, "tasks": len(tasks)}


# (job, Chalice function name, EventBridge expression, description) of every row of the catalog
# (shared/scheduled_jobs.py): one scheduled function each, so that each can be re-run alone from the Lambda console
# with its sample event (events/scheduled_<function>.json).
SCHEDULES = tuple((row.job, row.function, row.schedule, row.description) for row in SCHEDULED_JOBS)


def _starter(job: str, name: str) -> Callable[[CloudWatchEvent], dict[str, Any]]:
    """The starter of one job, named and placed as a module-level function of this module: the packaged template's
    ``Handler`` is ``functions.schedules.<function name>``, which Lambda imports."""

    def starter(event: CloudWatchEvent) -> dict[str, Any]:
        return start_run(job, event)

    starter.__name__ = starter.__qualname__ = name
    starter.__doc__ = f"Start a run of {job} at the event's time."
    return starter


STARTERS: list[Any] = []
for _job, _name, _expression, _description in SCHEDULES:
    STARTERS.append(bp.schedule(_expression, name=_name, description=_description)(_starter(_job, _name)))
    globals()[_name] = STARTERS[-1]


# The ARN here is a placeholder: infra/resources.json replaces it with the stage's queue (Fn::GetAtt). A plain
# string, because `chalice package --merge-template` merges a dict (Chalice's Fn::Sub) key by key instead.
QUEUE_PLACEHOLDER = "arn:aws:sqs:us-east-1:000000000000:loyalty-sweep"


@bp.on_sqs_message(queue_arn=QUEUE_PLACEHOLDER, batch_size=5, name="sweep_worker")
def sweep_worker(event: SQSEvent) -> dict[str, Any]:
    """Sweep each task's shard or do a part of a bulk grant; a failed record is reported alone and comes back after
    the visibility timeout."""
    settings = container().settings
    context: Any = event.context

    def time_left() -> float:
        return float(context.get_remaining_time_in_millis()) / 1000 - settings.sweep_margin_seconds

    failures: list[dict[str, str]] = []
    reports: list[ShardReport | GrantReport] = []
    for record in event:
        raw = record.to_dict()
        try:
            report = _run_task(record.body, time_left)
            if report.handed_on is not None:
                delay = report.delay_seconds if isinstance(report, GrantReport) else 0
                container().tasks.send([report.handed_on], delay)
            reports.append(report)
        except Exception:
            logger.exception("sweep task failed", extra={"message_id": raw.get("messageId")})
            failures.append({"itemIdentifier": str(raw.get("messageId"))})
    summary = _total(reports)
    # `make schedule` and Logs Insights add these up per run: the SQS event source mapping drops the return value
    logger.info("sweep batch done", extra={"summary": summary, "failed": len(failures)})
    return {"batchItemFailures": failures, "summary": summary}


def _run_task(body: str, time_left: Callable[[], float]) -> ShardReport | GrantReport:
    """A message is a VIP classification of one tenant, a part of a bulk grant, or a shard of a sweep."""
    logger.remove_keys(["tenant_id"])  # the previous record's
    if VipTask.accepts(body):
        vip = VipTask.from_json(body)
        _correlate(vip.run_id, vip.tenant_id)
        return container().abc.classify(vip)
    if GrantTask.matches(body):
        grant = GrantTask.from_json(body)
        _correlate(grant.grant_id, grant.tenant)
        return container().grants.run(grant, time_left, now())
    shard = ShardTask.from_json(body)
    _correlate(shard.run_id, None)
    return container().sweeper.run(shard, time_left)


def _correlate(correlation_id: str, tenant_id: str | None) -> None:
    """A task's log lines carry the id of its run (the scheduled event's id) or of its bulk grant."""
    logger.set_correlation_id(correlation_id)
    if tenant_id:
        logger.append_keys(tenant_id=tenant_id)


def _total(reports: list[ShardReport | GrantReport]) -> dict[str, int]:
    total: dict[str, int] = {"tasks": len(reports), "handed_on": sum(r.handed_on is not None for r in reports)}
    for report in reports:
        for key, value in report.summary().items():
            total[key] = total.get(key, 0) + value
    return total


# Lambda imports this module, not app.py, for these handlers: without this they would run bare (no Lambda context in
# the logs, no metrics flushed, no X-Ray subsegment).
attach(*STARTERS, sweep_worker)

gc.freeze()
if _collecting:
    gc.enable()
