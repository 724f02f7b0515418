"""The load run's judges (scripts/load/): the ledger invariant checker flags each broken invariant, the report's
percentiles, counts and throughput are right, and the request budget hands out exactly its total."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from scripts.load.invariants import Promised, violations
from scripts.load.record import ERROR, OK, REFUSED, RETRIED, Budget, Recorder, Sample, read_samples
from scripts.load.report import build, percentile, render


def consistent() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Earn 50, earn 117, redeem the first 50; 17 of the 117 left are held (the README walk-through, shortened)."""
    view = {
        "balance": 117,
        "available": 100,
        "pending": 0,
        "held": 17,
        "debt": 0,
        "lots": [
            {"lot_id": "L2", "points": 117, "remaining": 117, "expires_at": "2027-11-30T10:00:00Z"},
        ],
    }
    history = [  # newest first, as the API pages them
        {"seq": 3, "kind": "redeem", "delta": -50, "balance_after": 117},
        {"seq": 0, "kind": "notification", "delta": 0},  # messages move no points and are skipped
        {"seq": 2, "kind": "earn", "delta": 117, "balance_after": 167},
        {"seq": 1, "kind": "earn", "delta": 50, "balance_after": 50},
    ]
    return view, history


def test_a_consistent_member_passes_with_and_without_the_runs_promises() -> None:
    view, history = consistent()
    assert violations("m", view, history) == []
    assert violations("m", view, history, Promised(balance=117, held=17)) == []


def _lot_remainder_lost(view: dict[str, Any], history: list[dict[str, Any]]) -> None:
    view["lots"][0]["remaining"] = 100


def _negative_lot(view: dict[str, Any], history: list[dict[str, Any]]) -> None:
    view["lots"].append({"lot_id": "L3", "points": 10, "remaining": -5, "expires_at": "2027-12-30T10:00:00Z"})
    view["lots"][0]["remaining"] = 122  # the sum still matches: only the lot check can see it


def _entry_lost(view: dict[str, Any], history: list[dict[str, Any]]) -> None:
    del history[2]


def _balance_after_wrong(view: dict[str, Any], history: list[dict[str, Any]]) -> None:
    history[2]["balance_after"] = 160


def _held_over_balance(view: dict[str, Any], history: list[dict[str, Any]]) -> None:
    view.update(held=200, available=-83)


def _lots_out_of_order(view: dict[str, Any], history: list[dict[str, Any]]) -> None:
    view["lots"] = [
        {"lot_id": "L9", "points": 17, "remaining": 17, "expires_at": "2028-01-01T00:00:00Z"},
        {"lot_id": "L2", "points": 100, "remaining": 100, "expires_at": "2027-11-30T10:00:00Z"},
    ]


def _redemption_below_zero(view: dict[str, Any], history: list[dict[str, Any]]) -> None:
    history[:] = [
        {"seq": 2, "kind": "redeem", "delta": -60, "balance_after": -10},
        {"seq": 1, "kind": "earn", "delta": 50, "balance_after": 50},
    ]
    view.update(balance=-10, available=-10, held=0, debt=10, lots=[])


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (_lot_remainder_lost, "sum of lot remainders 100"),
        (_negative_lot, "lot L3 has -5 of 10 points left"),
        (_entry_lost, "sum of the history's deltas 0"),
        (_entry_lost, "seq are not 1..2 without gaps: [1, 3]"),
        (_balance_after_wrong, "entry 2 says balance_after 160, the deltas give 167"),
        (_held_over_balance, "held 200 > balance 117"),
        (_lots_out_of_order, "not soonest-expiring first"),
        (_redemption_below_zero, "redemption 2 left the balance at -10"),
    ],
)
def test_each_broken_invariant_is_flagged(
    breakage: Callable[[dict[str, Any], list[dict[str, Any]]], None], expected: str
) -> None:
    view, history = copy.deepcopy(consistent())
    breakage(view, history)
    found = violations("m-1", view, history)
    assert any(expected in line for line in found), found
    assert all(line.startswith("m-1: ") for line in found)


def test_a_lost_or_doubled_update_and_a_forgotten_hold_are_flagged_against_the_answers() -> None:
    view, history = consistent()
    found = violations("m", view, history, Promised(balance=167, held=0))
    assert found == [
        "m: balance 117 != 167 the applied orders add up to (an update lost or doubled)",
        "m: held 17 != 0 in the holds left open",
    ]


def sample(
    name: str, ms: float, outcome: str = OK, status: int = 200, code: str | None = None, end: float = 10.0
) -> Sample:
    return Sample(name, status, code, ms, outcome, end)


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (50.0, 99.0, 100.0)
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_the_report_counts_outcomes_per_request_type_and_overall() -> None:
    samples = [
        *(sample("quote", float(ms)) for ms in range(1, 11)),
        sample("hold", 5, REFUSED, 422, "insufficient_points"),
        sample("order.paid", 30, RETRIED, 503, "conflict_retry"),
        sample("order.paid", 40),
        sample("order.paid", 50, ERROR, 500, "internal_error"),
        sample("GET member", 20, ERROR, 422, "unexpected_answer", end=14.0),
    ]
    report = build(planned=13, started=4.0, samples=samples)
    rows = {r.name: r for r in report.rows}
    assert [r.name for r in report.rows] == ["GET member", "hold", "order.paid", "quote", "all"]
    assert (rows["quote"].requests, rows["quote"].p50_ms, rows["quote"].p99_ms) == (10, 5.0, 10.0)
    paid = rows["order.paid"]
    assert (paid.requests, paid.ok, paid.retried, paid.errors, paid.max_ms) == (3, 1, 1, 1, 50.0)
    assert (rows["hold"].refused, rows["hold"].errors) == (1, 0)
    assert (report.total.requests, report.total.errors, report.server_errors) == (15, 2, 1)
    assert report.errors == {"order.paid: 500 internal_error": 1, "GET member: 422 unexpected_answer": 1}
    assert (report.seconds, report.rps, report.failed) == (10.0, 1.5, True)
    text = render(report, users=2)
    assert "13 planned requests (15 sent with 1 retries of a 503) by 2 users in 10.0 s: 1.5 req/s" in text
    assert "2 errors (1 of them 5xx)" in text and "error 1x order.paid: 500 internal_error" in text


def test_a_run_without_errors_has_not_failed_and_an_empty_run_is_refused() -> None:
    assert not build(2, 0.0, [sample("quote", 1), sample("hold", 2, REFUSED, 422, "insufficient_points")]).failed
    with pytest.raises(ValueError):
        build(1, 0.0, [])


def test_the_budget_hands_out_exactly_its_total() -> None:
    budget = Budget(5)
    assert budget.take(3) and not budget.take(3) and budget.take(2) and not budget.take(1)
    assert budget.exhausted and not budget.complete
    budget.finish(4)
    assert not budget.complete
    budget.finish()
    assert budget.complete
    with pytest.raises(ValueError):
        Budget(0)


def test_the_recorder_round_trips_samples_and_what_each_member_was_promised() -> None:
    recorder = Recorder(planned=2, started=1.0)
    recorder.add(sample("quote", 3))
    member = recorder.member("m")
    member.earned, member.redeemed = 50, 20
    member.open_holds["h_1"] = 7
    data = recorder.to_json()
    assert read_samples(data) == recorder.samples
    assert data["members"]["m"] == {
        "earned": 50,
        "redeemed": 20,
        "open_holds": {"h_1": 7},
        "certain": True,
        "balance": 30,
        "held": 7,
    }
