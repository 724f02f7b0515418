"""Expiry exactly once (issue 3 items 2 and 6, docs/spec.md §7): overlapping runs, a run cut off halfway and run again,
a worker short of time handing the rest of its shard on, failed records and the dead-letter queue.

Every test seeds the same members (``seed`` of the scale test: 4 lots each, earned a day apart, 30-day lifetime)
and runs the expiry at ``AT``, when the first two lots of each member are past their expiry. Its end state is
compared with a reference tenant seeded the same way and expired by one clean run: its ledger items (accounts with
their version, every entry) must be equal, item for item.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scripts.emulator_atomicity import cheap_transaction_backups
from scripts.infra_messaging import create_messaging
from scripts.scheduler import FixedBudget, RunSummary, scheduled_event, sqs_event
from shared.container import container, reset
from shared.dal.ledger_store import DynamoLedgerStore
from shared.keys import member_pk, shard_of
from shared.ports import Duplicate, VersionConflict
from shared.records import Commit, DuePage, MemberKey
from shared.services.sweep import ShardTask
from tests.aws import create_tables_from_infra
from tests.conftest import make_tenant
from tests.integration.scheduled.conftest import SENDER, Jobs, aws_client
from tests.integration.scheduled.test_expiry_at_scale import EARNED, seed
from tests.integration.support import ledger_items

TENANT, REFERENCE = "shop", "ref"
MEMBERS, LOTS = 24, 4
AT = EARNED + timedelta(days=31, hours=12)  # lots earned on days 0 and 1 are past their 30 days, days 2 and 3 not
DUE_LOTS, DUE_POINTS, LEFT = 2 * MEMBERS, (10 + 11) * MEMBERS, 12 + 13
SHARDS = 64


class Crash(Exception):
    """The worker fails at this point: the exception escapes the step it happened in."""


class Killed(BaseException):
    """The Lambda is killed mid-invocation (timeout, out of memory): no handler catches it, no batch response."""


def snapshot(tenant: str) -> list[str]:
    """Every ledger item of the tenant, canonical, without what differs between two tenants seeded alike: the
    tenant's name in the keys, the hash shard it puts each member in, the referral code (a hash of tenant and
    member) and the wall-clock time of each write."""
    prefix = f"T#{tenant}#"
    items = []
    for raw in ledger_items():
        item = json.loads(raw)
        if item["pk"]["S"].startswith(prefix):
            item.pop("updated_at", None)
            item.pop("shard", None)
            item.pop("tenant_shard", None)  # T#<tenant>#<shard>: the shard again
            item.pop("referral_key", None)
            items.append(json.dumps(item, sort_keys=True).replace(prefix, "T#"))
    return sorted(items)


def balances(tenant: str = TENANT) -> dict[str, int]:
    members = DynamoLedgerStore().load_members([MemberKey(tenant, f"m{n}") for n in range(MEMBERS)])
    return {key.member_id: member.account.ledger.balance for key, member in members.items()}


def assert_expired_once(state: list[str]) -> None:
    """Each member lost exactly its two due lots (10 and 11 points) through exactly one expire entry."""
    expired = [item for item in map(json.loads, state) if item["sk"]["S"].startswith("EXPIRE#")]
    assert sorted(e["pk"]["S"] for e in expired) == sorted(f"T#M#m{n}" for n in range(MEMBERS))
    assert {(e["delta"]["N"], e["balance_after"]["N"]) for e in expired} == {("-21", str(LEFT))}


@pytest.fixture(scope="module")
def reference() -> list[str]:
    """The state one clean run leaves: tenant ``ref`` seeded like ``shop`` and expired at AT without any fault,
    in an emulator of its own (computed once for the module)."""
    cheap_transaction_backups()
    with mock_aws():
        create_tables_from_infra(aws_client("dynamodb"))
        queues = create_messaging(aws_client, SENDER)["queues"]
        reset()
        try:
            make_tenant(REFERENCE, lifetime_days=30)
            seed(REFERENCE, MEMBERS, LOTS)
            summary = Jobs(queues["loyalty-sweep"]).run("expire", AT)
            assert (summary.totals["changed"], summary.totals["lots"], summary.totals["errors"]) == (
                MEMBERS,
                DUE_LOTS,
                0,
            )
            assert set(balances(REFERENCE).values()) == {LEFT}
            state = snapshot(REFERENCE)
            assert_expired_once(state)
            return state
        finally:
            reset()


def given_members() -> None:
    """Tenant ``shop``: 24 members with 2 due lots (10 and 11 points) and 2 younger ones (12 and 13) each."""
    make_tenant(TENANT, lifetime_days=30)
    seed(TENANT, MEMBERS, LOTS)


def assert_as_one_clean_run(reference: list[str]) -> None:
    """Every member lost its due lots once, and the ledger is item for item the one of the clean run."""
    assert set(balances().values()) == {LEFT}
    state = snapshot(TENANT)
    assert_expired_once(state)
    assert state == reference


def shared_store() -> DynamoLedgerStore:
    """The one store the sweep and the expiry job share in the container: where faults are injected."""
    store = container().sweeper.store
    assert isinstance(store, DynamoLedgerStore)
    return store


def totals(summaries: list[RunSummary], key: str) -> int:
    return sum(s.totals.get(key, 0) for s in summaries)


def shard(member: int) -> int:
    return int(shard_of(member_pk(TENANT, f"m{member}")))


def budget() -> FixedBudget:
    return FixedBudget(900, time.monotonic)


def sqs() -> Any:
    return boto3.client("sqs", region_name="us-east-1")


def receive_all(queue_url: str) -> list[dict[str, Any]]:
    """Every message now visible in the queue (received once, so invisible afterwards)."""
    messages: list[dict[str, Any]] = []
    while got := sqs().receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        messages.extend(got)
    return messages


def queue_arn(queue_url: str) -> str:
    return str(sqs().get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


# -- two runs at once -----------------------------------------------------------------------------------------------


def test_two_overlapping_runs_of_the_same_event_expire_each_lot_once(jobs: Jobs, reference: list[str]) -> None:
    # Given 24 members with 2 due lots each
    given_members()
    # When the same scheduled event is run twice at the same moment, in two threads sharing the sweep queue
    start = threading.Barrier(2)

    def run() -> RunSummary:
        start.wait(timeout=10)
        return jobs.run("expire", AT)

    with ThreadPoolExecutor(2) as pool:
        summaries = [f.result() for f in [pool.submit(run) for _ in range(2)]]
    # Then both runs swept all 64 shards, and between them changed each member once and expired each due lot once
    assert [s.tasks for s in summaries] == [SHARDS, SHARDS]
    assert (totals(summaries, "changed"), totals(summaries, "errors")) == (MEMBERS, 0)
    assert (totals(summaries, "lots"), totals(summaries, "points")) == (DUE_LOTS, DUE_POINTS)
    # And the state is the one a single clean run leaves
    assert_as_one_clean_run(reference)


def test_two_workers_sweeping_the_same_shards_at_the_same_moment_expire_each_lot_once(
    jobs: Jobs, reference: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 24 members with 2 due lots each, and the 64 shard tasks of one run delivered twice (SQS delivers at
    # least once; two overlapping runs do the same)
    from app import app

    given_members()
    app.handler_map["expire_points"](scheduled_event("expire", AT), budget())
    messages = receive_all(jobs.queue_url)
    assert sorted(ShardTask.from_json(m["Body"]).shard for m in messages) == list(range(SHARDS))
    batches = [sqs_event(messages[i : i + 5], queue_arn(jobs.queue_url)) for i in range(0, SHARDS, 5)]
    # And two workers that each load every page before either commits anything of it (the race window made sure)
    store = shared_store()
    load, commit = store.load_members, store.commit
    together = threading.Barrier(2)
    lost: Counter[str] = Counter()

    def load_together(keys: list[MemberKey], profiles: bool = False) -> Any:
        members = load(keys, profiles)
        together.wait(timeout=10)
        return members

    def counted_commit(tenant: str, change: Commit) -> None:
        try:
            commit(tenant, change)
        except (VersionConflict, Duplicate):
            lost[change.member_id] += 1
            raise

    monkeypatch.setattr(store, "load_members", load_together)
    monkeypatch.setattr(store, "commit", counted_commit)

    # When both workers sweep the same tasks, batch by batch, at the same time
    def worker() -> list[dict[str, Any]]:
        return [app.handler_map["sweep_worker"](batch, budget()) for batch in batches]

    with ThreadPoolExecutor(2) as pool:
        responses = [r for f in [pool.submit(worker) for _ in range(2)] for r in f.result()]
    # Then for every member one commit won and the other lost to it once, reloaded and found nothing left to do
    assert lost == {f"m{n}": 1 for n in range(MEMBERS)}
    assert all(r["batchItemFailures"] == [] for r in responses)
    summary = RunSummary("expire", "")
    for response in responses:
        summary.add(response["summary"])
    assert (summary.totals["tasks"], summary.totals["members"], summary.totals["changed"]) == (
        2 * SHARDS,
        2 * MEMBERS,
        MEMBERS,
    )
    assert (summary.totals["lots"], summary.totals["points"], summary.totals["errors"]) == (DUE_LOTS, DUE_POINTS, 0)
    # And the state is the one a single clean run leaves
    assert_as_one_clean_run(reference)


# -- a run cut off halfway, then run again --------------------------------------------------------------------------


class Fault:
    """A fault injected into the sweep's store seams; ``on`` is cleared to take it away."""

    def __init__(self) -> None:
        self.on = True
        self.commits = 0
        self.lock = threading.Lock()

    def count(self) -> int:
        with self.lock:
            self.commits += 1
            return self.commits


KILLED_AT = 10  # the Lambda is killed when it is about to write the 11th member


def inject(kind: str, fault: Fault, monkeypatch: pytest.MonkeyPatch) -> None:
    store = shared_store()
    commit, due = store.commit, store.due

    def member_step_dies(tenant: str, change: Commit) -> None:
        number = int(change.member_id[1:])
        if fault.on and number % 4 == 3:
            raise Crash("before the commit")
        commit(tenant, change)
        if fault.on and number % 4 == 1:
            raise Crash("after the commit, before the outcome is reported")

    def dies_between_pages(index: str, shard: int, now: datetime, cursor: dict[str, Any] | None, limit: int) -> DuePage:
        if fault.on and cursor is not None:
            raise Crash("on reaching the shard's next page")
        return due(index, shard, now, cursor, limit)

    def killed_mid_invocation(tenant: str, change: Commit) -> None:
        if fault.on and (fault.commits >= KILLED_AT or fault.count() > KILLED_AT):
            raise Killed()
        commit(tenant, change)

    seams: dict[str, tuple[str, Callable[..., Any]]] = {
        "member_step_dies": ("commit", member_step_dies),
        "worker_dies_between_pages": ("due", dies_between_pages),
        "lambda_killed": ("commit", killed_mid_invocation),
    }
    name, replacement = seams[kind]
    monkeypatch.setattr(store, name, replacement)


@pytest.mark.parametrize("kind", ["member_step_dies", "worker_dies_between_pages", "lambda_killed"])
def test_a_run_cut_off_halfway_and_run_again_ends_as_one_clean_run(
    jobs: Jobs, reference: list[str], monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    # Given 24 members with 2 due lots each (with index pages of one member when the fault is between pages)
    if kind == "worker_dies_between_pages":
        monkeypatch.setenv("SWEEP_PAGE_SIZE", "1")
        reset()
    given_members()
    # And a fault in the worker: members m1, m5, m9... die right after their commit and m3, m7, m11... right
    # before it; or the worker dies whenever it reaches a shard's next page; or the Lambda is killed outright
    # when it is about to write the 11th member
    fault = Fault()
    inject(kind, fault, monkeypatch)
    # When the expiry job runs with the fault
    if kind == "lambda_killed":
        with pytest.raises(Killed):
            jobs.run("expire", AT)
        first = None
    else:
        first = jobs.run("expire", AT)
    # Then the run reports what failed, and what was committed stays committed
    done = {m for m, balance in balances().items() if balance == LEFT}
    if kind == "member_step_dies":
        # one error per member whose step died; the record itself succeeds, the members stay due
        assert first is not None and (first.totals["errors"], first.totals["changed"], first.failed_records) == (
            MEMBERS // 2,
            MEMBERS // 2,
            0,
        )
        assert done == {f"m{n}" for n in range(MEMBERS) if n % 4 != 3}
    elif kind == "worker_dies_between_pages":
        # tasks died after committing a page and were redelivered; each redelivery resumed from the index past what
        # was done, so the shards finished within five receives (what a failed record did is not in the summary)
        assert first is not None and first.failed_records > 0 and first.totals["changed"] < MEMBERS
        assert (first.totals["tasks"], first.totals["errors"], jobs.dead_letters()) == (SHARDS, 0, 0)
        assert len(done) == MEMBERS
    else:
        # the invocation's batch stays in flight until its visibility timeout: the rerun's own tasks do the rest
        assert len(done) == KILLED_AT
    # When the same event is run again without the fault
    fault.on = False
    again = jobs.run("expire", AT)
    # Then it does only what was left, and nothing twice
    assert (again.totals.get("errors", 0), again.failed_records) == (0, 0)
    assert again.totals.get("changed", 0) == MEMBERS - len(done)
    assert again.totals.get("lots", 0) == 2 * (MEMBERS - len(done))
    # And the state is the one a single clean run leaves
    assert_as_one_clean_run(reference)


# -- the time budget ------------------------------------------------------------------------------------------------


class Ticking:
    """A clock that moves one second each time it is read: the worker's every look at its budget costs a second."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        self.t += 1
        return self.t


@pytest.fixture
def short_of_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Callable[[], FixedBudget], list[Any]]]:
    """Index pages of 1 member, a 30 s margin, and invocations with 32.5 s: room for two pages each.

    Yields the context factory and a log of what the worker saw: ("time", ms left) and ("page", shard, cursor)."""
    monkeypatch.setenv("SWEEP_PAGE_SIZE", "1")
    monkeypatch.setenv("SWEEP_MARGIN_SECONDS", "30")
    reset()
    clock, log = Ticking(), []

    class Budget(FixedBudget):
        def get_remaining_time_in_millis(self) -> int:
            left = super().get_remaining_time_in_millis()
            log.append(("time", left))
            return left

    yield (lambda: Budget(32.5, clock)), log


def watch(log: list[Any], monkeypatch: pytest.MonkeyPatch) -> list[ShardTask]:
    """Log each index page the worker starts; return the tasks it hands on (filled as they are sent)."""
    store, queue = shared_store(), container().tasks
    due, send = store.due, queue.send
    handed: list[ShardTask] = []

    def logged_due(index: str, shard: int, now: datetime, cursor: dict[str, Any] | None, limit: int) -> DuePage:
        log.append(("page", shard, cursor))
        return due(index, shard, now, cursor, limit)

    def logged_send(tasks: list[ShardTask], delay_seconds: int = 0) -> None:
        handed.extend(t for t in tasks if t.part > 0)
        send(tasks, delay_seconds)

    monkeypatch.setattr(store, "due", logged_due)
    monkeypatch.setattr(queue, "send", logged_send)
    return handed


def test_a_worker_short_of_time_hands_the_rest_of_its_shard_on_and_the_queue_drains_to_one_clean_run(
    jobs: Jobs,
    reference: list[str],
    short_of_time: tuple[Callable[[], FixedBudget], list[Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given 24 members with 2 due lots each, index pages of 1 member, and worker invocations with time for two pages
    context, log = short_of_time
    given_members()
    handed = watch(log, monkeypatch)
    # When the expiry job runs and its queue is drained
    summary = jobs.run("expire", AT, context)
    # Then the workers stopped before their margin and handed their shards on, some in the middle (with a cursor)
    assert summary.totals["handed_on"] == len(handed) > SHARDS
    assert any(task.cursor is not None for task in handed)
    assert summary.totals["tasks"] == SHARDS + len(handed)  # every task and every hand-on was swept
    assert summary.invocations > SHARDS // 5
    # And no page was started with less than the 30 s margin left
    pages = [i for i, event in enumerate(log) if event[0] == "page"]
    assert pages and all(log[i - 1][0] == "time" and log[i - 1][1] > 30_000 for i in pages)
    # And each shard's pages were swept once in all: a hand-on resumes where its predecessor stopped
    swept = Counter((shard, json.dumps(cursor, sort_keys=True)) for _, shard, cursor in (log[i] for i in pages))
    assert max(swept.values()) == 1
    # And every member lost its due lots once: the state is the one a single clean run leaves
    assert (summary.totals["changed"], summary.totals["lots"], summary.totals["errors"]) == (MEMBERS, DUE_LOTS, 0)
    assert_as_one_clean_run(reference)


def test_a_worker_that_dies_after_handing_on_is_redelivered_and_still_expires_each_lot_once(
    jobs: Jobs,
    reference: list[str],
    short_of_time: tuple[Callable[[], FixedBudget], list[Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given 24 members with 2 due lots each and worker invocations with time for two pages
    context, log = short_of_time
    given_members()
    watch(log, monkeypatch)
    # And a worker that dies right after sending each of its first 10 hand-ons, before its record is deleted
    queue = container().tasks
    send = queue.send
    deaths = Counter[str]()

    def send_then_die(tasks: list[ShardTask], delay_seconds: int = 0) -> None:
        send(tasks, delay_seconds)
        if any(t.part > 0 for t in tasks) and deaths["hand-on"] < 10:
            deaths["hand-on"] += 1
            raise Crash("after handing on")

    monkeypatch.setattr(queue, "send", send_then_die)
    # When the expiry job runs and its queue is drained
    summary = jobs.run("expire", AT, context)
    # Then those 10 records failed and came back, so those shards were swept both by the hand-on and the original
    # (what the failed records did is not in the summary: a failed record reports nothing)
    assert (summary.failed_records, summary.totals["errors"]) == (10, 0)
    assert summary.totals["changed"] <= MEMBERS
    swept = Counter((event[1], json.dumps(event[2], sort_keys=True)) for event in log if event[0] == "page")
    assert max(swept.values()) > 1
    # And still every member lost its due lots once
    assert_as_one_clean_run(reference)


# -- failed records and the dead-letter queue -----------------------------------------------------------------------


def record(message_id: str, body: str) -> dict[str, Any]:
    """A record of the sample SQS event (events/sqs_sweep_task.json) with this id and body."""
    from events import load_event

    return {**load_event("sqs_sweep_task")["Records"][0], "messageId": message_id, "body": body}


def task_body(shard_no: int) -> str:
    return ShardTask(job="expire", shard=shard_no, now=AT, run_id="console").to_json()


def fail_shard(monkeypatch: pytest.MonkeyPatch, bad: int, fault: Fault) -> None:
    """Every sweep of shard ``bad`` fails while ``fault.on`` (its index page cannot be read)."""
    store = shared_store()
    due = store.due

    def failing(index: str, shard_no: int, now: datetime, cursor: dict[str, Any] | None, limit: int) -> DuePage:
        if fault.on and shard_no == bad:
            raise Crash(f"shard {bad} cannot be swept")
        return due(index, shard_no, now, cursor, limit)

    monkeypatch.setattr(store, "due", failing)


def test_a_failed_record_is_reported_alone_and_the_others_of_its_batch_are_applied(
    jobs: Jobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 24 members with 2 due lots each, in three different shards X, Y and Z among others
    from app import app

    given_members()
    x, y, z = sorted({shard(n) for n in range(MEMBERS)})[:3]
    in_shard = {s: [f"m{n}" for n in range(MEMBERS) if shard(n) == s] for s in (x, y, z)}
    # And shard Y's sweep failing
    fail_shard(monkeypatch, y, Fault())
    # When one worker invocation gets X's task, a message that is no sweep task, Y's task, a task of an unknown
    # shard and Z's task
    records = [
        record("id-x", task_body(x)),
        record("id-poison", "not a sweep task"),
        record("id-y", task_body(y)),
        record("id-unknown", json.dumps({"job": "expire", "shard": 99, "now": "2026-02-11T00:00:00Z", "run_id": "r"})),
        record("id-z", task_body(z)),
    ]
    response = app.handler_map["sweep_worker"]({"Records": records}, budget())
    # Then exactly the three failed records are reported, each by its own id
    assert response["batchItemFailures"] == [
        {"itemIdentifier": "id-poison"},
        {"itemIdentifier": "id-y"},
        {"itemIdentifier": "id-unknown"},
    ]
    # And the two good tasks of the same batch were applied: X's and Z's members expired, Y's not
    assert response["summary"]["tasks"] == 2
    assert response["summary"]["changed"] == len(in_shard[x]) + len(in_shard[z])
    after = balances()
    assert {after[m] for m in in_shard[x] + in_shard[z]} == {LEFT}
    assert {after[m] for m in in_shard[y]} == {LEFT + 21}


def test_a_task_that_always_fails_is_dead_lettered_after_five_receives_and_the_rest_of_the_run_is_done(
    jobs: Jobs, reference: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 24 members with 2 due lots each, a shard Y whose sweep always fails, and a poison message in the queue
    given_members()
    y = shard(0)
    fault = Fault()
    fail_shard(monkeypatch, y, fault)
    sqs().send_message(QueueUrl=jobs.queue_url, MessageBody="not a sweep task")
    # When the expiry job runs and its queue is drained as the event source mapping would
    summary = jobs.run("expire", AT)
    # Then each of the two bad messages was received five times, reported failed each time, then dead-lettered
    assert summary.failed_records == 10
    assert jobs.dead_letters() == 2
    dlq = sqs().get_queue_url(QueueName="loyalty-sweep-dlq")["QueueUrl"]
    [poison, task] = sorted((m["Body"] for m in receive_all(dlq)), key=lambda b: b.startswith("{"))
    assert poison == "not a sweep task"
    assert (ShardTask.from_json(task).job, ShardTask.from_json(task).shard, ShardTask.from_json(task).now) == (
        "expire",
        y,
        AT,
    )
    # And every other shard was swept: only Y's members still have their due lots
    stuck = {f"m{n}" for n in range(MEMBERS) if shard(n) == y}
    assert summary.totals["tasks"] == SHARDS - 1
    assert summary.totals["changed"] == MEMBERS - len(stuck)
    assert {m for m, balance in balances().items() if balance != LEFT} == stuck
    # When the fault is gone and the same event runs again
    fault.on = False
    again = jobs.run("expire", AT)
    # Then only Y's members change, and the state is the one a single clean run leaves
    assert (again.totals["changed"], again.failed_records) == (len(stuck), 0)
    assert_as_one_clean_run(reference)
