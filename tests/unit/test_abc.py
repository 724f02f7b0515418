"""The pure ABC classification (issue 5 item 10): boundaries, ties, one member, zero totals, the metrics."""

from __future__ import annotations

from shared.abc import class_for, classify, metric_values
from shared.records import PaidRow


def classes(values: dict[str, int]) -> dict[str, str]:
    return {r.member_id: r.klass for r in classify(values).ranked}


def test_the_member_who_reaches_exactly_80_percent_is_a_and_the_next_is_b() -> None:
    # Given 50 + 30 = exactly 80 of 100, then 10 + 5 = exactly 95
    result = classes({"a": 50, "b": 30, "c": 10, "d": 5, "e": 3, "f": 2})
    # Then b (reaching 80 %) is A, c is B, d (reaching 95 %) is B, e and f are C
    assert result == {"a": "A", "b": "A", "c": "B", "d": "B", "e": "C", "f": "C"}


def test_the_member_who_crosses_80_percent_is_a() -> None:
    # Given 70 before b and 90 after it
    assert classes({"a": 70, "b": 20, "c": 10}) == {"a": "A", "b": "A", "c": "B"}


def test_tied_members_share_the_class_decided_before_the_group() -> None:
    # Given three tied members starting at 40 %: all A although A then holds 100 %
    assert set(classes({"a": 40, "b": 20, "c": 20, "d": 20}).values()) == {"A"}
    # Given a tie starting at exactly 80 %: the whole group is B
    assert classes({"a": 80, "b": 10, "c": 10}) == {"a": "A", "b": "B", "c": "B"}
    # And tied members share a rank, listed by member id
    ranked = classify({"z": 5, "y": 5, "x": 9}).ranked
    assert [(r.member_id, r.rank) for r in ranked] == [("x", 1), ("y", 2), ("z", 2)]


def test_one_member_is_a() -> None:
    assert classes({"only": 1}) == {"only": "A"}


def test_zero_values_are_not_ranked_and_a_zero_total_has_no_a() -> None:
    # Given members with nothing in the period, then nobody is ranked and nobody is A
    result = classify({"a": 0, "b": 0})
    assert (result.total, result.ranked) == (0, ())
    assert class_for(0, 0) == "C"
    # And a zero next to positive values is left out
    assert classes({"a": 10, "b": 0}) == {"a": "A"}


def test_cumulative_values_follow_the_ranking() -> None:
    ranked = classify({"a": 1, "b": 3, "c": 6}).ranked
    assert [(r.member_id, r.cumulative) for r in ranked] == [("c", 6), ("b", 9), ("a", 10)]


ROWS = [
    PaidRow("o1", "m1", 1_000),
    PaidRow("o1", "m1", 300, "r1"),
    PaidRow("o1", "m1", 500, "r2"),  # cumulative: 500 refunded in all
    PaidRow("o2", "m1", 200),
    PaidRow("o3", "m2", 700),
    PaidRow("o3", "m2", 700, "CANCEL"),
    PaidRow("o4", "m2", 0),  # paid with points only
]


def test_revenue_is_cash_minus_the_cumulative_refund_per_order() -> None:
    assert metric_values(ROWS, "revenue") == {"m1": 700, "m2": 0}


def test_orders_count_paid_orders_that_were_not_cancelled() -> None:
    assert metric_values(ROWS, "orders") == {"m1": 2, "m2": 1}
