"""`make schedule` against the stack of `make run`: the deployed starter invoked with a scheduled event whose
``time`` is AT (what EventBridge sends, and the Lambda console's Test button), its tasks carried by SQS to the
deployed worker through the event source mapping. The summary adds up the worker's "sweep batch done" log lines
of the run (its CloudWatch Logs) and counts what the emulator kept of the mail and SMS sent.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from scripts.deploy_local import DeployedStack, client
from scripts.localenv import ROOT, http_ok
from scripts.scheduler import JOB_FUNCTIONS, RunSummary, scheduled_event

DRAIN_TIMEOUT_SECONDS = 900.0  # the worker's timeout: a shard hands the rest on before it
QUEUE_COUNTS = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)
BATCH_DONE = "sweep batch done"  # functions/schedules.py logs it with the batch's summary


def running_stack(env: dict[str, str] | None = None) -> DeployedStack | None:
    """The stack `make run` deployed (.local/stack.json, or LOCAL_STACK_FILE) when its emulator still answers."""
    env = dict(os.environ) if env is None else env
    path = Path(env.get("LOCAL_STACK_FILE") or ROOT / ".local" / "stack.json")
    try:
        stack = DeployedStack.from_json(path.read_text())
    except (OSError, ValueError, TypeError):
        return None
    return stack if http_ok(f"{stack.endpoint}/_ministack/health") else None


def logical_id(function_name: str) -> str:
    """``expire_points`` -> ``ExpirePoints``, as `chalice package` names the function's resource."""
    return "".join(part.capitalize() for part in function_name.split("_"))


def queue_depth(stack: DeployedStack, url: str) -> int:
    attributes = client("sqs", stack.endpoint).get_queue_attributes(QueueUrl=url, AttributeNames=list(QUEUE_COUNTS))
    return sum(int(attributes["Attributes"].get(name, 0)) for name in QUEUE_COUNTS)


def wait_drained(stack: DeployedStack, timeout: float = DRAIN_TIMEOUT_SECONDS) -> float:
    """Seconds until the sweep queue held nothing, waiting or in flight, on two polls in a row."""
    started = time.monotonic()
    empty_polls = 0
    while empty_polls < 2:
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"the sweep queue did not drain within {timeout:.0f} s")
        empty_polls = empty_polls + 1 if queue_depth(stack, stack.outputs["SweepQueueUrl"]) == 0 else 0
        time.sleep(0.5)
    return time.monotonic() - started


def kept(stack: DeployedStack) -> dict[str, int]:
    """How many e-mails and SMS the emulator has kept, and the dead letters waiting."""

    def count(path: str, key: str) -> int:  # {account or phone: [message, ...]}
        with urllib.request.urlopen(f"{stack.endpoint}{path}", timeout=10) as response:
            return sum(len(listed) for listed in json.loads(response.read()).get(key, {}).values())

    return {
        "emails": count("/_ministack/ses/messages", "messages"),
        "sms": count("/_ministack/sns/sms-messages", "sms_messages"),
        "dead_letters": queue_depth(stack, stack.outputs["SweepDeadLetterQueueUrl"]),
    }


def worker_batches(stack: DeployedStack, since_ms: int) -> list[dict[str, Any]]:
    """The worker's "sweep batch done" log records since ``since_ms`` (its CloudWatch Logs group)."""
    logs = client("logs", stack.endpoint)
    group = f"/aws/lambda/{stack.functions['SweepWorker']}"
    records: list[dict[str, Any]] = []
    pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group, startTime=since_ms)
    for page in pages:
        for event in page.get("events", []):
            try:
                record = json.loads(event["message"])
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("message") == BATCH_DONE:
                records.append(record)
    return records


def run(stack: DeployedStack, job: str, at: datetime) -> tuple[RunSummary, dict[str, int]]:
    """Start the job's deployed starter at ``at``, wait for the worker to drain the queue; the summary and what the
    emulator kept since (e-mails, SMS, new dead letters)."""
    before = kept(stack)
    since_ms = int(time.time() * 1000) - 1000
    answer = client("lambda", stack.endpoint).invoke(
        FunctionName=stack.functions[logical_id(JOB_FUNCTIONS[job])],
        Payload=json.dumps(scheduled_event(job, at)).encode(),
    )
    payload = json.loads(answer["Payload"].read() or b"null")
    if answer.get("FunctionError"):
        raise RuntimeError(f"the {JOB_FUNCTIONS[job]} function failed: {payload}")
    summary = RunSummary(job, str(payload["now"]), tasks=int(payload["tasks"]))
    wait_drained(stack)
    time.sleep(1.0)  # the last invocation's log lines
    for record in worker_batches(stack, since_ms):
        summary.invocations += 1
        summary.failed_records += int(record.get("failed", 0))
        summary.add({k: int(v) for k, v in dict(record.get("summary", {})).items()})
    after = kept(stack)
    return summary, {name: after[name] - before[name] for name in after}
