"""Run one scheduled job against the running local stack (`make schedule`, issue 3 item 5).

  .venv/bin/python scripts/schedule.py remind 2027-09-26T12:00:00+03:00
  .venv/bin/python scripts/schedule.py expire 2027-11-27T00:00:00Z
  .venv/bin/python scripts/schedule.py --at-for remind    # prints AT: the 60-day reminder of points earned now

The job's scheduled function (its row's ``function`` in the catalog, shared/scheduled_jobs.py; ``--help`` lists
the jobs) gets an EventBridge scheduled event whose ``time`` is the given instant. Against the stack of `make run` (.local/stack.json, while its emulator answers), the deployed
function is invoked and the deployed worker drains the queue through the SQS event source mapping
(scripts/schedule_deployed.py). Otherwise (`make dev`, or AWS_ENDPOINT_URL set) the function runs in this process
and the sweep queue is drained through ``sweep_worker`` as the SQS event source would (scripts/scheduler.py), at
AWS_ENDPOINT_URL or the embedded emulator of `make dev` at http://127.0.0.1:$AWS_PORT (default 5000). The time must
carry a UTC offset (``Z`` or ``+03:00``).

The summary goes to stdout (three lines, four for birthday-bonus, then one JSON line of the totals); the functions' logs go to stderr.
``--at-for remind|expire`` prints, instead of running anything, the AT of the demo tenant's points earned now (what
`make run` prints): noon Moscow on the day of their 60-day reminder (inside the SMS hours), or the day after they
expire. The README walk-through computes its reminder's AT with it, so that its commands work on any day.

Exit status: 0 when the run finished, 1 when the local stack is not running or a task failed (it was retried
and dead-lettered like on AWS), 2 for invalid arguments. Through `make schedule` the shell sees 2 for either failure:
make prints the script's status (``Error 1``) and exits 2 whenever a recipe fails.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parent.parent) not in sys.path:  # run as a file
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts import schedule_deployed
from scripts.deploy_local import DeployedStack
from scripts.localenv import aws_defaults
from scripts.scheduler import JOB_FUNCTIONS, FixedBudget, RunSummary, print_summary, run_job

LAMBDA_SECONDS = 900.0  # the worker's timeout (.chalice/config.json)
START_HINT = "start it with `make run`"
MISSING_QUEUE = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}


class NotRunning(Exception):
    """The local stack (its emulator, queue or tables) is not there: stderr, exit 1."""


def instant(text: str) -> datetime:
    """An ISO-8601 time with a UTC offset, as UTC; a naive time is an error, not a guess."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r} (e.g. 2027-01-01T09:00:00Z)") from exc
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset: add Z or +03:00 (e.g. 2027-01-01T09:00:00Z)")
    return parsed.astimezone(UTC)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run a scheduled job against the local stack (`make run`).")
    parser.add_argument("job", choices=list(JOB_FUNCTIONS), help="the scheduled job")
    parser.add_argument("at", type=instant, help="the EventBridge event's time, ISO-8601 with an offset")
    return parser.parse_args(argv)


def at_for(argv: list[str]) -> int:
    """``--at-for remind|expire``: print the AT `make run`'s banner gives for points the demo tenant grants now."""
    from scripts.local_stack import job_times
    from shared.clock import now

    parser = argparse.ArgumentParser(prog="schedule.py --at-for", description="Print the AT for points earned now.")
    parser.add_argument("job", choices=["remind", "expire"], help="the 60-day reminder, or the expiry")
    remind, expire = job_times(now())
    print((remind if parser.parse_args(argv).job == "remind" else expire).isoformat())
    return 0


def point_at_local_stack() -> str:
    """AWS_ENDPOINT_URL (default: the embedded emulator of `make run`), dummy credentials; the endpoint."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or f"http://127.0.0.1:{os.environ.get('AWS_PORT', '5000')}"
    aws_defaults(os.environ, endpoint)
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # the summary says it; no EMF blobs
    return endpoint


def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    from shared.settings import get_settings

    settings = get_settings()
    quick = Config(connect_timeout=2, read_timeout=60, retries={"max_attempts": 2})
    return boto3.client(service, region_name=settings.region, endpoint_url=settings.endpoint_url, config=quick)


def queue_url(sqs: Any, endpoint: str) -> str:
    """The sweep queue `make run` created; NotRunning when the emulator or the queue is missing."""
    from botocore.exceptions import ClientError, EndpointConnectionError

    from shared.settings import get_settings

    settings = get_settings()
    if settings.sweep_queue_url:
        return settings.sweep_queue_url
    try:
        return str(sqs.get_queue_url(QueueName=settings.sweep_queue_name)["QueueUrl"])
    except EndpointConnectionError as exc:
        raise NotRunning(f"no AWS emulator answers at {endpoint}: {START_HINT}") from exc
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in MISSING_QUEUE:
            raise
        raise NotRunning(
            f"queue {settings.sweep_queue_name} not found at {endpoint}: restart `make run`, which creates it"
        ) from exc


def require_tables() -> None:
    from scripts.ops import OpsError
    from scripts.ops import require_tables as check

    try:
        check()
    except OpsError as exc:
        raise NotRunning(f"{exc}, or restart `make run`") from exc


def logs_to_stderr() -> None:
    """The Powertools logger writes to stdout in Lambda; here stdout is the summary's."""
    from shared.observability import logger

    handler = logger.registered_handler
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(sys.stderr)


def run(job: str, at: datetime, endpoint: str) -> RunSummary:
    sqs = client("sqs")
    url = queue_url(sqs, endpoint)
    require_tables()
    from app import app

    # Only now: Chalice(app_name="loyalty") takes over the logger "loyalty" (level ERROR) unless it writes to stdout.
    logs_to_stderr()
    with contextlib.redirect_stdout(sys.stderr):  # anything the functions print is a log line
        return run_job(job, at, app.handler_map, sqs, url, lambda: FixedBudget(LAMBDA_SECONDS, time.monotonic))


def main_deployed(stack: DeployedStack, job: str, at: datetime) -> int:
    """The stack of `make run`: its deployed starter and worker do the run (scripts/schedule_deployed.py)."""
    print(f"Invoking the deployed {JOB_FUNCTIONS[job]} of stack {stack.name} at {stack.endpoint} ...", file=sys.stderr)
    summary, kept = schedule_deployed.run(stack, job, at)
    print_summary(summary)
    print(
        f"kept by the emulator since: {kept['emails']} e-mails, {kept['sms']} SMS, {kept['dead_letters']} dead letters"
    )
    if summary.failed_records or kept["dead_letters"] > 0:
        print(
            f"error: {summary.failed_records} task deliveries failed: see {stack.functions['SweepWorker']}'s log",
            file=sys.stderr,
        )
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--at-for"]:
        return at_for(argv[1:])
    args = parse_args(argv)
    stack = None if os.environ.get("AWS_ENDPOINT_URL") else schedule_deployed.running_stack()
    if stack is not None:
        return main_deployed(stack, args.job, args.at)
    endpoint = point_at_local_stack()
    try:
        summary = run(args.job, args.at, endpoint)
    except NotRunning as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as exc:
        print(f"error: {exc} (is `make run` still running at {endpoint}?)", file=sys.stderr)
        return 1
    print_summary(summary)
    if summary.failed_records:
        print(f"error: {summary.failed_records} task deliveries failed: see the log above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
