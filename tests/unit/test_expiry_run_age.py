"""The expiry run reports its age at every shard (the metric of the "expiry run late" alarm, infra/resources.json)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared import clock
from shared.observability import metrics
from shared.records import DuePage, Member, MemberKey
from shared.services.sweep import EXPIRY_RUN_AGE_METRIC, ShardTask, Sweeper, plan_run

RUN_AT = datetime(2027, 1, 15, 9, 5, tzinfo=UTC)


class EmptyShard:
    """A due index with nothing due, or with ``pages`` pages before the cursor runs out."""

    def __init__(self, pages: int = 1) -> None:
        self.pages = pages

    def due(self, index: str, shard: int, now: datetime, cursor: dict[str, Any] | None, limit: int) -> DuePage:
        self.pages -= 1
        return DuePage([], {"page": self.pages} if self.pages > 0 else None)

    def load_members(self, keys: list[MemberKey], profiles: bool = False) -> dict[MemberKey, Member]:
        return {}


@pytest.fixture
def recorded() -> Iterator[dict[str, Any]]:
    metrics.clear_metrics()
    yield metrics.metric_set
    metrics.clear_metrics()
    clock.set_clock(None)


def _sweep(task: ShardTask, store: EmptyShard, time_left: float = 60.0) -> None:
    Sweeper(store, tenants=None, jobs={}, page_size=10, threads=1).run(task, lambda: time_left)  # type: ignore[arg-type]


def test_a_finished_shard_reports_the_seconds_since_the_run_started(recorded: dict[str, Any]) -> None:
    # Given an expiry run planned at 09:05:30 wall clock, whose shard 3 finishes at 09:47:00
    task = plan_run("expire", RUN_AT, "run-1", started=RUN_AT + timedelta(seconds=30))[3]
    clock.set_clock(lambda: RUN_AT + timedelta(minutes=42))
    # When the worker sweeps the (empty) shard
    _sweep(task, EmptyShard())
    # Then the age is reported in seconds, although the shard had no work to log
    assert recorded[EXPIRY_RUN_AGE_METRIC]["Value"] == [42 * 60 - 30]
    assert recorded[EXPIRY_RUN_AGE_METRIC]["Unit"] == "Seconds"


def test_a_shard_handed_on_reports_too_and_the_next_part_keeps_the_start(recorded: dict[str, Any]) -> None:
    started = RUN_AT + timedelta(seconds=10)
    task = plan_run("expire", RUN_AT, "run-1", started=started)[0]
    clock.set_clock(lambda: RUN_AT + timedelta(minutes=15))
    store = EmptyShard(pages=3)
    # When the worker runs out of time after the first page
    budget = iter([1.0, 0.0])
    report = Sweeper(store, None, {}, 10, 1).run(task, lambda: next(budget))  # type: ignore[arg-type]
    # Then the shard is handed on carrying the run's start, and the age so far is reported
    assert report.handed_on is not None
    assert ShardTask.from_json(report.handed_on.to_json()).started == started
    assert recorded[EXPIRY_RUN_AGE_METRIC]["Value"] == [15 * 60 - 10]


@pytest.mark.parametrize(
    "task",
    [
        ShardTask(
            job="expire", shard=0, now=RUN_AT, run_id="console"
        ),  # a hand-made task (the console's sample event) has no start
        plan_run("remind", RUN_AT, "run-2", started=RUN_AT)[0],  # only the expiry has a deadline alarm
    ],
)
def test_no_age_without_a_start_or_for_other_jobs(recorded: dict[str, Any], task: ShardTask) -> None:
    clock.set_clock(lambda: RUN_AT + timedelta(hours=5))
    _sweep(task, EmptyShard())
    assert EXPIRY_RUN_AGE_METRIC not in recorded


def test_the_start_survives_the_queue_and_old_messages_still_parse() -> None:
    task = plan_run("expire", RUN_AT, "run-1", started=RUN_AT + timedelta(seconds=2))[5]
    assert ShardTask.from_json(task.to_json()) == task
    legacy = '{"cursor": null, "job": "expire", "now": "2027-01-15T09:05:00Z", "part": 0, "run_id": "x", "shard": 0}'
    assert ShardTask.from_json(legacy).started is None
