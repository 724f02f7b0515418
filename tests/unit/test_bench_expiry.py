"""The expiry bench's own arithmetic (scripts/bench_expiry.py): the spread of lots and the 10-million estimate."""

from __future__ import annotations

from scripts.bench_expiry import ESTIMATE_LOTS, TABLE_WRU_PER_SECOND, ExpiryRun, estimate, lot_counts


def test_lots_are_spread_1_to_5_per_member_and_add_up_exactly() -> None:
    counts = lot_counts(10_001, seed=3)
    assert sum(counts) == 10_001
    assert set(counts) <= {1, 2, 3, 4, 5} and len(set(counts)) == 5
    assert lot_counts(10_001, seed=3) == counts  # the same members on every bench


def test_the_estimate_is_the_slower_of_latency_and_table_throughput() -> None:
    # Given a measured run: 3 lots per member, one write and 0.02 read pages per member, 7 write units per member
    run = ExpiryRun(
        3_000, 1_000, 1.0, {"TransactWriteItems": 1_000, "Query": 10, "BatchGetItem": 10}, 4_000, 3_000, 0, 64, 13, 0
    )
    guess = estimate(run, shards=64, threads=8)
    members = ESTIMATE_LOTS // 3
    assert guess["members"] == members
    assert guess["throughput_bound_seconds"] == round(members * 7 / TABLE_WRU_PER_SECOND)
    assert guess["seconds"] == max(guess["latency_bound_seconds"], guess["throughput_bound_seconds"])
    # With 8 times the parallelism, latency shrinks 8 times and throughput does not move
    wider = estimate(run, shards=512, threads=8)
    assert wider["throughput_bound_seconds"] == guess["throughput_bound_seconds"]
    assert abs(wider["latency_bound_seconds"] * 8 - guess["latency_bound_seconds"]) <= 8
