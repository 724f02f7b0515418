"""Fixtures of the scheduled-work tests: emulated SQS/SES/SNS from infra/, and a job runner that drives the
scheduled function and then the SQS worker exactly as AWS would (scripts/scheduler.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
import pytest

from scripts.emulator_atomicity import serialize_dynamodb_writes
from scripts.infra_messaging import create_messaging
from scripts.scheduler import FixedBudget, RunSummary, drain, run_job

SENDER = "loyalty@example.com"  # shared/settings.py default: the verified platform sender


def aws_client(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1")


@pytest.fixture
def messaging(aws: None) -> dict[str, Any]:
    return create_messaging(aws_client, SENDER)


@dataclass
class Jobs:
    queue_url: str
    budget_seconds: float = 900.0

    def run(self, job: str, at: datetime, context: Callable[[], Any] | None = None) -> RunSummary:
        from app import app

        ctx = context or (lambda: FixedBudget(self.budget_seconds, time.monotonic))
        return run_job(job, at, app.handler_map, aws_client("sqs"), self.queue_url, ctx)

    def drain(self, context: Callable[[], Any] | None = None) -> RunSummary:
        """Feed what is on the queue (a bulk grant's tasks) to the worker until it is empty."""
        from app import app

        ctx = context or (lambda: FixedBudget(self.budget_seconds, time.monotonic))
        return drain(RunSummary("grant", "now"), app.handler_map, aws_client("sqs"), self.queue_url, ctx)

    def dead_letters(self) -> int:
        sqs = aws_client("sqs")
        url = sqs.get_queue_url(QueueName="loyalty-sweep-dlq")["QueueUrl"]
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


@pytest.fixture
def jobs(messaging: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Jobs]:
    # The worker's threads share the in-process moto, which is not thread-safe: serialize it as the local stack does
    serialize_dynamodb_writes()
    monkeypatch.setenv("SWEEP_MARGIN_SECONDS", "0")
    from shared.container import reset

    reset()
    yield Jobs(messaging["queues"]["loyalty-sweep"])
    reset()
