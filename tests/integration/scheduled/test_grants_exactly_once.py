"""Bulk grants exactly once (issue 5 item 7): redelivered tasks, a rerun, a crash before a part is recorded,
parts handed on before the time budget runs out, and no Scan at any size."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from scripts.scheduler import FixedBudget
from shared.container import reset
from shared.dal.grants_store import DynamoGrantStore
from tests.conftest import make_tenant, paid_event
from tests.integration.conftest import Clock
from tests.integration.scheduled.conftest import Jobs
from tests.integration.scheduled.grant_support import (
    counters,
    create_grant,
    grant_body,
    grant_lots,
    progress,
    put_messages,
    take_messages,
)
from tests.integration.scheduled.test_expiry_at_scale import dynamodb_calls, seed  # noqa: F401 (a fixture)
from tests.integration.support import ledger_items
from tests.integration.test_order_flow import send

NOON = datetime(2026, 12, 24, 12, 0, tzinfo=UTC)


def _members(client: Any, n: int) -> Any:
    shop = make_tenant("shop")
    for i in range(n):
        send(client, shop, paid_event(f"o{i}", f"c{i}", 100_000))
    return shop


def test_redelivered_tasks_and_a_second_post_change_nothing(client: Any, jobs: Jobs, frozen: Clock) -> None:
    # Given a grant to all of six members whose tasks are delivered twice (SQS is at-least-once)
    frozen.now = NOON
    shop = _members(client, 6)
    create_grant(client, shop, grant_body("g1"))
    tasks = take_messages(jobs.queue_url)
    put_messages(jobs.queue_url, tasks + tasks)
    jobs.drain()
    # Then every member has the points once and the counters count each member once
    assert counters(progress(client, shop)) == ("done", 6, 6, 0, 0, 0)
    assert all([lot["points"] for lot in grant_lots(client, shop, f"c{i}")] == [50] for i in range(6))
    # When the tasks come a third time, and the client posts the same grant again
    before = ledger_items()
    put_messages(jobs.queue_url, tasks)
    jobs.drain()
    again = create_grant(client, shop, grant_body("g1"))
    # Then the same grant answers, no task is enqueued, and not one item of the ledger changed
    assert counters(again) == ("done", 6, 6, 0, 0, 0)
    assert jobs.drain().invocations == 0
    assert ledger_items() == before


def test_a_part_that_crashed_before_it_was_recorded_is_redone_and_counted_once(
    client: Any, jobs: Jobs, frozen: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a list grant whose first part dies after granting its members, before its result is recorded
    frozen.now = NOON
    shop = _members(client, 3)
    real = DynamoGrantStore.record_part
    crashes = iter([True])

    def crashing(self: DynamoGrantStore, *args: Any) -> bool:
        if next(crashes, False):
            raise RuntimeError("Lambda killed")
        return real(self, *args)

    monkeypatch.setattr(DynamoGrantStore, "record_part", crashing)
    create_grant(client, shop, grant_body("g1", {"member_ids": ["c0", "c1", "c2", "nobody"]}))
    # When the worker reports the failed record and SQS delivers it again
    summary = jobs.drain()
    # Then the redelivery finds the points already there, grants nothing twice and counts each member once
    assert summary.failed_records == 1
    assert counters(progress(client, shop)) == ("done", 4, 3, 1, 0, 0)
    assert all([lot["points"] for lot in grant_lots(client, shop, f"c{i}")] == [50] for i in range(3))


def test_parts_handed_on_before_the_time_runs_out_cover_every_member_once(
    client: Any, jobs: Jobs, frozen: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given index pages of one member and a worker whose time runs out after each page
    frozen.now = NOON
    shop = _members(client, 12)
    monkeypatch.setenv("SWEEP_PAGE_SIZE", "1")
    reset()
    create_grant(client, shop, grant_body("g1"))
    ticks = itertools.count()

    def budget() -> FixedBudget:
        return FixedBudget(1.5, lambda: float(next(ticks)))  # the first check passes, the next one is past it

    # When the worker drains the queue, tasks redelivered on the way
    tasks = take_messages(jobs.queue_url)
    put_messages(jobs.queue_url, tasks + tasks[:5])
    summary = jobs.drain(budget)
    # Then the chains went on part by part, and every member was granted and counted once
    grant = progress(client, shop)
    assert summary.totals["handed_on"] >= 12 and grant["tasks"]["parts_done"] > 64
    assert counters(grant) == ("done", 12, 12, 0, 0, 0)
    assert all([lot["points"] for lot in grant_lots(client, shop, f"c{i}")] == [50] for i in range(12))


def test_a_grant_to_all_of_300_members_reads_the_tenant_index_and_never_scans(
    client: Any,
    jobs: Jobs,
    dynamodb_calls: Counter[str],  # noqa: F811 (the imported fixture)
    frozen: Clock,
) -> None:
    # Given 300 members of one tenant and 20 of another
    frozen.now = NOON
    shop = make_tenant("bulk")
    make_tenant("else")
    seed("bulk", 300, 1)
    seed("else", 20, 1)
    dynamodb_calls.clear()
    # When the tenant grants to all members and the worker drains the queue
    create_grant(client, shop, grant_body("g1"))
    jobs.drain()
    # Then all 300 were granted: one transaction each plus one per recorded part, and not a single Scan
    assert counters(progress(client, shop)) == ("done", 300, 300, 0, 0, 0)
    assert dynamodb_calls["scan"] == 0
    assert dynamodb_calls["transact_write_items"] == 300 + 64
    assert dynamodb_calls["query"] <= 64 + 300 // 100 + 64 + 5  # index pages, plus the tenant look-ups
