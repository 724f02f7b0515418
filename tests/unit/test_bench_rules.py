"""The rules CPU bench (scripts/bench_rules.py) measures what it claims: every order rule applied, 100 items."""

from __future__ import annotations

from scripts import bench_rules


def test_the_bench_order_applies_every_order_rule_and_reports_a_median() -> None:
    # Given the bench's program and cart, when a short run is timed
    figures = bench_rules.cpu_per_order(runs=20)
    # Then the order really went through every multiplier, combo and promo, VIP rate included
    assert figures["items"] == 100
    assert set(figures["rules_applied"]) == {"vip", "category", "happy_hour", "boost", "combo", "promotion"}
    assert figures["points"] > 0
    # And the figures are CPU milliseconds with a verdict against the 1 ms target
    assert 0 < figures["median_ms"] <= figures["p99_ms"]
    assert figures["ok"] == (figures["median_ms"] < 1.0)
