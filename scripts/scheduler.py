"""Run a scheduled job the way AWS would, against whatever AWS endpoint is configured (tests, `make schedule`).

1. The job's scheduled function gets an EventBridge "Scheduled Event" (events/scheduled_<function>.json)
   whose ``time`` is the given instant.
2. Then, as the SQS event source mapping would, the sweep queue is drained into the ``sweep_worker``
   function, up to 5 records per invocation, each invocation with a Lambda time budget. Records the
   worker reports in ``batchItemFailures`` are made visible again (and dead-lettered by the queue's
   redrive policy after 5 receives); the others are deleted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from events import load_event
from shared.clock import iso
from shared.scheduled_jobs import JOBS, SCHEDULED_JOBS

JOB_FUNCTIONS = {row.job: row.function for row in SCHEDULED_JOBS}  # the `make schedule JOB=` name -> function
WORKER = "sweep_worker"


@dataclass
class RunSummary:
    job: str
    at: str
    tasks: int = 0
    invocations: int = 0
    failed_records: int = 0
    totals: dict[str, int] = field(default_factory=dict)

    def add(self, summary: dict[str, int]) -> None:
        for key, value in summary.items():
            self.totals[key] = self.totals.get(key, 0) + value

    def lines(self) -> list[str]:
        t = self.totals
        out = [
            f"job {self.job} at {self.at}: {self.tasks} shard tasks, {self.invocations} worker invocations, "
            f"{t.get('handed_on', 0)} hand-ons, {self.failed_records} failed records",
            f"members {t.get('members', 0)} (changed {t.get('changed', 0)}, errors {t.get('errors', 0)})",
        ]
        row = JOBS.get(self.job)  # None: the drain of a bulk grant's tasks
        if row is not None and row.index is None:  # the VIP classification: per tenant, not a shard sweep
            out[1] = (
                f"members classified {t.get('members', 0)} (accounts changed {t.get('changed', 0)}, errors {t.get('errors', 0)})"
            )
            out.append(f"tenants skipped {t.get('skipped', 0)}")
        elif row is not None and row.profiles:
            out.append(
                f"messages sent {t.get('messages', 0)}, failed {t.get('failed', 0)}, skipped {t.get('skipped', 0)}, "
                f"cost ${t.get('cost_usd_micros', 0) / 1_000_000:.6f}"
            )
        else:
            out.append(f"lots {t.get('lots', 0)}, points {t.get('points', 0)}")
        if row is not None and row.profiles and row.points:
            out.append(f"lots {t.get('lots', 0)}, points {t.get('points', 0)}")
        return out


class FixedBudget:
    """A Lambda context with ``seconds`` of run time from its creation (what the worker sees)."""

    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._deadline = clock() + seconds
        self.function_name = WORKER
        self.aws_request_id = "local"
        self.memory_limit_in_mb = 1024
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{WORKER}"

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - self._clock()) * 1000)


def scheduled_event(job: str, at: datetime) -> dict[str, Any]:
    event = load_event(f"scheduled_{JOB_FUNCTIONS[job]}")
    event["time"] = iso(at)
    event["id"] = f"{event['id'][:-12]}{int(at.timestamp()) % 10**12:012d}"  # one id per (job, instant)
    return dict(event)


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


def run_job(
    job: str,
    at: datetime,
    handlers: dict[str, Callable[[dict[str, Any], Any], Any]],
    sqs: Any,
    queue_url: str,
    context: Callable[[], Any],
    max_invocations: int = 10_000,
) -> RunSummary:
    """Start the run, then drain the queue through the worker until it is empty."""
    summary = RunSummary(job, iso(at))
    started = handlers[JOB_FUNCTIONS[job]](scheduled_event(job, at), context())
    summary.tasks = int(started["tasks"])
    return drain(summary, handlers, sqs, queue_url, context, max_invocations)


def drain(
    summary: RunSummary,
    handlers: dict[str, Callable[[dict[str, Any], Any], Any]],
    sqs: Any,
    queue_url: str,
    context: Callable[[], Any],
    max_invocations: int = 10_000,
) -> RunSummary:
    """Feed the queue to the worker, 5 records per invocation, until it is empty (also the tasks of a bulk grant,
    which its POST enqueued)."""
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    while summary.invocations < max_invocations:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=5, AttributeNames=["All"]).get(
            "Messages", []
        )
        if not messages:
            return summary
        summary.invocations += 1
        response = handlers[WORKER](sqs_event(messages, arn), context())
        summary.add(response.get("summary", {}))
        failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        summary.failed_records += len(failed)
        for m in messages:
            if m["MessageId"] in failed:  # back to the queue now (AWS: after the visibility timeout)
                sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
            else:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    raise RuntimeError(f"the queue did not drain in {max_invocations} invocations")


def print_summary(summary: RunSummary) -> None:
    print("\n".join(summary.lines()))
    print(json.dumps({"job": summary.job, "at": summary.at, **summary.totals}, sort_keys=True))
