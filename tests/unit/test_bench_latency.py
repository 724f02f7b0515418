"""The latency bench's figures (scripts/bench_latency.py): percentiles, the summary and the side-by-side table."""

from __future__ import annotations

import pytest

from scripts.bench_latency import DEPLOYED, LOCAL, paid_body, percentile, summarize, table_lines


def test_percentile_interpolates_between_the_closest_ranks_like_numpy() -> None:
    values = [40.0, 10.0, 30.0, 20.0]  # unsorted on purpose
    assert percentile(values, 0) == 10.0
    assert percentile(values, 50) == 25.0
    assert percentile(values, 100) == 40.0
    assert percentile(values, 99) == pytest.approx(39.7)  # numpy.percentile(values, 99)
    assert percentile([7.0], 99) == 7.0


@pytest.mark.parametrize("q", [-1, 100.5])
def test_percentile_refuses_a_rank_outside_0_to_100(q: float) -> None:
    with pytest.raises(ValueError):
        percentile([1.0, 2.0], q)


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)


def test_summarize_gives_n_p50_p99_and_max_per_target_and_type() -> None:
    samples = {DEPLOYED: {"quote": [float(v) for v in range(1, 101)], "hold": []}, LOCAL: {"quote": [2.0, 4.0]}}
    summary = summarize(samples)
    assert summary[DEPLOYED]["quote"] == {"n": 100, "p50": 50.5, "p99": 99.0, "max": 100.0}
    assert "hold" not in summary[DEPLOYED]  # no sample, no row
    assert summary[LOCAL]["quote"] == {"n": 2, "p50": 3.0, "p99": 4.0, "max": 4.0}


def test_the_table_puts_both_targets_side_by_side_in_the_load_tests_order() -> None:
    summary = {
        DEPLOYED: {
            "replay": {"n": 3, "p50": 20.0, "p99": 30.0, "max": 30.0},
            "order.paid": {"n": 3, "p50": 50.0, "p99": 80.0, "max": 80.0},
        },
        LOCAL: {"order.paid": {"n": 3, "p50": 20.0, "p99": 25.0, "max": 25.0}},
    }
    lines = table_lines(summary, DEPLOYED, LOCAL)
    rows = lines[3:]
    assert [row.split()[0] for row in rows] == ["order.paid", "replay"]
    assert rows[0].split()[1:] == ["50.0", "80.0", "20.0", "25.0", "+30.0"]
    assert rows[1].split()[1:] == ["20.0", "30.0", "-", "-", "-"]  # measured on one side only
    assert DEPLOYED in lines[0] and LOCAL in lines[0]


def test_a_paid_order_with_a_hold_names_the_hold_and_its_points() -> None:
    import json

    plain = json.loads(paid_body("m-1", "o-1"))
    held = json.loads(paid_body("m-1", "o-2", {"hold_id": "h_1", "points": 10}))
    assert plain["type"] == "order.paid" and "hold_id" not in plain["data"]
    assert held["data"]["hold_id"] == "h_1" and held["data"]["points_redeemed"] == 10
