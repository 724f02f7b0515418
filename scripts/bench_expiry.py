"""Expiry at scale (issue 3, part of `make bench`): 10,000 and 20,000 due lots expire through the real run.

Each size gets its own tenant whose members hold 1 to 5 lots each (a fixed pseudo-random spread), all past their
expiry at the run's time. The run is the production path: the ``expire_points`` scheduled function plans one task
per shard on the SQS sweep queue, and the queue is drained into ``sweep_worker`` exactly as the event source
mapping would (``scripts/scheduler.py``), both against ministack (DynamoDB and SQS). Every DynamoDB request of the
run is counted with its consumed capacity; the seeding is not.

The estimate for 10 million lots on AWS is computed, not measured: the run is bounded either by the latency of
one member's write times the members per worker thread (shards x threads work in parallel), or by the table's
write throughput (on-demand's default ceiling of 40,000 write request units per second per table), whichever is
slower. The assumptions are printed next to the figure.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

SIZES = (10_000, 20_000)
LOTS_PER_MEMBER = (1, 5)
EARNED = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)  # the first lot of each member; later ones a day apart
LIFETIME_DAYS = 30
RUN_AT = EARNED + timedelta(days=LIFETIME_DAYS + 10)  # every lot is due
MAX_RATIO = 2.2
MAX_WRITES_PER_MEMBER = 1.0
# The 10-million estimate's assumptions (AWS, not the emulator)
ESTIMATE_LOTS = 10_000_000
AWS_WRITE_SECONDS = 0.015  # one TransactWriteItems of 2 items, p50 within a region
AWS_READ_SECONDS = 0.010  # one Query page or BatchGetItem of up to 100 keys
TABLE_WRU_PER_SECOND = 40_000  # on-demand default per-table ceiling


@dataclass
class ExpiryRun:
    lots: int
    members: int
    seconds: float
    requests: dict[str, int]
    table_wcu: float
    index_wcu: float
    rcu: float
    tasks: int
    invocations: int
    hand_ons: int

    @property
    def writes(self) -> int:
        return sum(n for api, n in self.requests.items() if api in WRITES)

    @property
    def reads(self) -> int:
        return sum(n for api, n in self.requests.items() if api in READS)


WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})


def lot_counts(total: int, seed: int) -> list[int]:
    """Lots per member, each 1..5, summing to ``total`` exactly."""
    rng, counts, left = random.Random(seed), [], total
    while left:
        n = min(left, rng.randint(*LOTS_PER_MEMBER))
        counts.append(n)
        left -= n
    return counts


def seed_tenant(tenant_id: str, counts: list[int]) -> None:
    """The tenant and its members, written through the store as the order path writes them (not measured)."""
    from shared.account import Account
    from shared.container import container
    from shared.dal.ledger_store import DynamoLedgerStore
    from shared.ledger import Credit, credit
    from shared.program import ProgramSettings
    from shared.records import Commit
    from shared.services.store import bumped

    settings = ProgramSettings(currency="RUB", lifetime_days=LIFETIME_DAYS)
    container().tenants.create(tenant_id, settings, EARNED - timedelta(days=1))
    store = DynamoLedgerStore()

    def member(n: int) -> None:
        ledger = Account.new(f"m{n}").ledger
        for i in range(counts[n]):
            at = EARNED + timedelta(days=i)
            ledger, _ = credit(ledger, "earn", [Credit(10 + i, "order", at, at + timedelta(days=LIFETIME_DAYS))], at)
        account = Account(ledger=ledger)
        store.commit(
            tenant_id,
            Commit(
                member_id=account.member_id, account=bumped(account, settings, EARNED), expected_version=0, entries=()
            ),
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(member, range(len(counts))))


def run_size(lots: int, recorder: Any, sqs: Any, queue_url: str) -> ExpiryRun:
    from app import app
    from scripts.scheduler import FixedBudget, run_job

    counts = lot_counts(lots, seed=lots)
    seed_tenant(f"expiry-{lots}", counts)
    context: Callable[[], Any] = lambda: FixedBudget(900, time.monotonic)  # noqa: E731
    with recorder.recording() as calls:
        started = time.perf_counter()
        summary = run_job("expire", RUN_AT, app.handler_map, sqs, queue_url, context)
        seconds = time.perf_counter() - started
    totals = summary.totals
    if (totals.get("lots"), totals.get("members"), totals.get("errors", 0)) != (lots, len(counts), 0):
        raise RuntimeError(f"expiry of {lots} lots did not complete: {summary.lines()}")
    return ExpiryRun(
        lots,
        len(counts),
        round(seconds, 2),
        dict(Counter(c.api for c in calls)),
        sum(c.table_units for c in calls if c.api in WRITES),
        sum(c.index_units for c in calls if c.api in WRITES),
        sum(c.read_units for c in calls if c.api in READS),
        summary.tasks,
        summary.invocations,
        totals.get("handed_on", 0),
    )


def run_expiry_bench(recorder: Any, sqs: Any, queue_url: str) -> list[ExpiryRun]:
    """Both sizes, the smaller first; the run's environment (tables, queue URL) is already configured."""
    from shared.container import reset

    reset()  # the container picks up the sweep queue's URL
    return [run_size(lots, recorder, sqs, queue_url) for lots in SIZES]


def estimate(run: ExpiryRun, shards: int, threads: int) -> dict[str, float]:
    """Seconds for ESTIMATE_LOTS on AWS with the measured requests and units per member (see the module doc)."""
    members = ESTIMATE_LOTS * run.members / run.lots
    parallel = shards * threads
    reads_per_member = run.reads / run.members
    latency_bound = members * (run.writes / run.members * AWS_WRITE_SECONDS + reads_per_member * AWS_READ_SECONDS)
    latency_bound /= parallel
    units_per_member = (run.table_wcu + run.index_wcu) / run.members
    throughput_bound = members * units_per_member / TABLE_WRU_PER_SECOND
    return {
        "members": round(members),
        "parallel_writers": parallel,
        "latency_bound_seconds": round(latency_bound),
        "throughput_bound_seconds": round(throughput_bound),
        "seconds": round(max(latency_bound, throughput_bound)),
        "write_units_per_member": round(units_per_member, 2),
    }


def report(runs: list[ExpiryRun], shards: int, threads: int) -> dict[str, Any]:
    small, large = runs[0], runs[-1]
    ratio = large.seconds / small.seconds if small.seconds else 0.0
    print(f"\nExpiry at scale (ministack DynamoDB + SQS; scheduled function -> {shards} shard tasks -> sweep_worker):")
    head = f"{'lots':>6} {'members':>7} {'seconds':>7} {'req/lot':>7} {'writes/member':>13} {'Scan':>4}"
    print(f"  {head} {'Query':>5} {'BatchGet':>8} {'tblWCU':>7} {'idxWCU':>7} {'RCU':>6} {'invocations':>11}")
    for r in runs:
        per_lot = sum(r.requests.values()) / r.lots
        print(
            f"  {r.lots:>6} {r.members:>7} {r.seconds:>7.2f} {per_lot:>7.3f} {r.writes / r.members:>13.3f} "
            f"{r.requests.get('Scan', 0):>4} {r.requests.get('Query', 0):>5} {r.requests.get('BatchGetItem', 0):>8} "
            f"{r.table_wcu:>7g} {r.index_wcu:>7g} {r.rcu:>6g} {r.invocations:>11}"
        )
    writes_ok = all(r.writes / r.members <= MAX_WRITES_PER_MEMBER for r in runs)
    scans = sum(r.requests.get("Scan", 0) for r in runs)
    print(f"  writes per member touched <= {MAX_WRITES_PER_MEMBER:g}: {'ok' if writes_ok else 'MISSED'}")
    print(f"  Scan calls: {scans} ({'ok' if scans == 0 else 'MISSED'})")
    verdict = "ok" if ratio <= MAX_RATIO else "MISSED"
    print(f"  wall time {large.lots} / {small.lots} lots = {ratio:.2f}x  target <= {MAX_RATIO:g}x -> {verdict}")
    guess = estimate(large, shards, threads)
    print(
        f"  estimate for {ESTIMATE_LOTS:,} due lots on AWS ({guess['members']:,} members at this spread): "
        f"{guess['seconds'] / 60:.1f} min = max(latency-bound {guess['latency_bound_seconds']} s with "
        f"{shards} shards x {threads} threads, each write {AWS_WRITE_SECONDS * 1000:g} ms and each read page "
        f"{AWS_READ_SECONDS * 1000:g} ms; throughput-bound {guess['throughput_bound_seconds']} s at "
        f"{guess['write_units_per_member']:g} write units per member and {TABLE_WRU_PER_SECOND:,} WRU/s per table)"
    )
    return {
        "runs": [asdict(r) for r in runs],
        "ratio": round(ratio, 3),
        "ratio_ok": ratio <= MAX_RATIO,
        "writes_per_member_ok": writes_ok,
        "scans": scans,
        "estimate_10m": guess,
    }
