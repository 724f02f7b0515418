"""A bulk grant of a tenant suspended while it runs waits for the resume instead of being lost (issue 6 item 4)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.services import grants as grant_service
from tests.conftest import make_tenant, paid_event
from tests.integration.conftest import Clock
from tests.integration.scheduled.conftest import Jobs, aws_client
from tests.integration.scheduled.grant_support import counters, create_grant, grant_body, progress
from tests.integration.test_order_flow import send
from tests.integration.test_tenant_suspension import run_ops

NOON = datetime(2026, 12, 24, 12, 0, tzinfo=UTC)
RETRY = 10


def queued(jobs: Jobs) -> tuple[int, int]:
    """(visible, delayed) messages on the sweep queue."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"]
    attrs = aws_client("sqs").get_queue_attributes(QueueUrl=jobs.queue_url, AttributeNames=names)["Attributes"]
    return int(attrs[names[0]]), int(attrs[names[1]])


def test_a_grant_of_a_suspended_tenant_waits_on_the_queue_and_finishes_after_the_resume(
    client: Any, jobs: Jobs, frozen: Clock, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The postponed tasks come back after 10 s here instead of SQS's 900 (longer than the drain of 64 postponements,
    # or the drain would meet them again while the tenant is still suspended)
    monkeypatch.setattr(grant_service, "SUSPENDED_RETRY_SECONDS", RETRY)
    # Given a shop with two members and a grant to all of them, queued
    frozen.now = NOON
    shop = make_tenant("shop")
    for n in (1, 2):
        send(client, shop, paid_event(f"o{n}", f"c{n}", 100_000))
    create_grant(client, shop, grant_body("xmas", {"all": True}))
    # When the tenant is suspended before the worker gets to the grant's tasks
    assert run_ops(capsys, "suspend-tenant", "--id", "shop")[0] == 0
    jobs.drain()
    postponed = time.monotonic()
    # Then every task is back on the queue, delayed, not dropped or dead-lettered
    assert queued(jobs) == (0, 64) and jobs.dead_letters() == 0
    # When the tenant is resumed: nothing was granted meanwhile
    assert run_ops(capsys, "resume-tenant", "--id", "shop")[0] == 0
    assert counters(progress(client, shop, "xmas"))[2] == 0
    # And the tasks come back
    time.sleep(max(0.0, RETRY - (time.monotonic() - postponed)) + 0.5)
    jobs.drain()
    # Then the grant finishes: both members granted once
    done = progress(client, shop, "xmas")
    assert counters(done)[:3] == ("done", 2, 2)
    assert queued(jobs) == (0, 0)
