"""The statistics of a campaign's holdout and A/B test (issue 17 item 3): deterministic assignment, counters, the
comparison against the holdout, the sample-ratio-mismatch check and the verdict a merchant reads."""

from __future__ import annotations

import math
import random
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.experiments import (
    BUCKETS,
    HOLDOUT,
    MIN_GROUP,
    Comparison,
    GroupStats,
    InvalidSplit,
    assign,
    bucket,
    chi2_sf,
    compare,
    sample_ratio_mismatch,
    verdict,
)

SPLIT = [("a", 5000), ("b", 5000)]


def stats_of(revenues: list[int], cost_minor: int = 0) -> GroupStats:
    group = GroupStats()
    for revenue in revenues:
        group = group.add(revenue, cost_minor)
    return group


def shop_revenue(rng: random.Random, buy_rate: float, median_minor: int = 250_000) -> int:
    """What one member spent in the attribution window, as in a real shop: most buy nothing, the buyers' baskets are
    lognormal (a long tail of large orders)."""
    if rng.random() >= buy_rate:
        return 0
    return round(rng.lognormvariate(math.log(median_minor), 0.9))


def population(seed: int, members: int, holdout_bp: int, rates: dict[str, float]) -> dict[str, GroupStats]:
    """A seeded population assigned by ``bucket``/``assign`` into the holdout and variants of equal weight, each
    group buying at its own rate."""
    rng = random.Random(seed)
    variants = [(v, BUCKETS // (len(rates) - 1)) for v in rates if v != HOLDOUT]
    groups = dict.fromkeys(rates, GroupStats())
    for i in range(members):
        group = assign(bucket("shop", f"campaign-{seed}", f"m{i}"), holdout_bp, variants) or ""
        groups[group] = groups[group].add(shop_revenue(rng, rates[group]), 0)
    return groups


# --- assignment --------------------------------------------------------------------------------------------------


def test_a_bucket_is_the_same_in_every_process_and_differs_per_campaign() -> None:
    # Given fixed ids / When bucketed / Then the value is pinned (BLAKE2b, not the per-process salted hash())
    assert bucket("shop", "birthday-2026", "m1") == bucket("shop", "birthday-2026", "m1")
    assert bucket("shop", "birthday-2026", "m1") == 4038
    assert 0 <= bucket("", "", "") < BUCKETS
    # and another campaign (or tenant) draws anew: one campaign's holdout is not the next one's
    firsts = {bucket("shop", f"c{c}", "m1") for c in range(20)}
    assert len(firsts) > 15
    # the separator keeps ("a", "bc") apart from ("ab", "c")
    assert bucket("t", "a", "bc") != bucket("t", "ab", "c")


def test_buckets_are_uniform_by_chi_square() -> None:
    # Given 100,000 member ids / When bucketed / Then the 10,000 buckets and their deciles are filled evenly
    counts = Counter(bucket("shop", "win-back", f"member-{i}") for i in range(100_000))
    expected = 100_000 / BUCKETS
    chi2 = sum((counts.get(b, 0) - expected) ** 2 / expected for b in range(BUCKETS))
    assert chi2_sf(chi2, BUCKETS - 1) > 0.001
    deciles = Counter(b // 1000 for b in counts.elements())
    assert (
        sample_ratio_mismatch({str(d): deciles[d] for d in range(10)}, {str(d): 1000 for d in range(10)}).p_value
        > 0.001
    )


def test_the_buckets_split_exactly_by_the_configured_shares() -> None:
    # Given a 10 % holdout and three variants / When every bucket is assigned / Then each group has its share of them
    split = [("x", 3333), ("y", 3333), ("z", 3334)]
    groups = Counter(assign(b, 1000, split) for b in range(BUCKETS))
    assert groups[HOLDOUT] == 1000
    for variant, weight in split:
        assert abs(groups[variant] - 9000 * weight / BUCKETS) <= 1
    # the holdout is the lowest buckets, the variants follow in order
    assert [assign(b, 1000, split) for b in (0, 999, 1000, 3999, 4000, 9999)] == [HOLDOUT, HOLDOUT, "x", "x", "y", "z"]


def test_members_land_in_the_groups_by_their_shares() -> None:
    # Given 20,000 members, 20 % holdout, 200 vs 500 points at 50/50 / When assigned / Then shares hold within 1.5 pt
    groups = Counter(
        assign(bucket("shop", "bday", f"m{i}"), 2000, [("200", 5000), ("500", 5000)]) for i in range(20_000)
    )
    assert groups[HOLDOUT] / 20_000 == pytest.approx(0.2, abs=0.015)
    assert groups["200"] / 20_000 == pytest.approx(0.4, abs=0.015)
    assert groups["500"] / 20_000 == pytest.approx(0.4, abs=0.015)


def test_edge_splits_no_holdout_all_holdout_and_no_variants() -> None:
    assert {assign(b, 0, SPLIT) for b in range(BUCKETS)} == {"a", "b"}
    assert {assign(b, BUCKETS, SPLIT) for b in range(BUCKETS)} == {HOLDOUT}
    # a campaign without variants: treated members get the campaign's one treatment, named None
    assert {assign(b, 500, []) for b in range(BUCKETS)} == {HOLDOUT, None}


@pytest.mark.parametrize(
    ("holdout_bp", "variants"),
    [
        (-1, SPLIT),
        (10_001, SPLIT),
        (True, SPLIT),
        (1000, [("a", 5000), ("b", 4999)]),  # sums to 9,999
        (1000, [("a", 10_000), ("b", 0)]),  # a zero weight
        (1000, [("a", 12_000), ("b", -2000)]),
        (1000, [("a", 5000), ("a", 5000)]),  # duplicate id
        (1000, [(HOLDOUT, 5000), ("b", 5000)]),  # would read as the control group
        (1000, [("", 10_000)]),
        (1000, [("a", 5000.0), ("b", 5000)]),  # basis points are integers
    ],
)
def test_an_invalid_split_is_refused(holdout_bp: int, variants: list[tuple[str, int]]) -> None:
    with pytest.raises(InvalidSplit) as error:
        assign(5000, holdout_bp, variants)
    assert error.value.code == "invalid_split"


@pytest.mark.parametrize("value", [-1, BUCKETS, 1.5])
def test_a_bucket_outside_0_to_9999_is_refused(value: int) -> None:
    with pytest.raises(InvalidSplit):
        assign(value, 0, SPLIT)


# --- counters ----------------------------------------------------------------------------------------------------


def test_counters_hold_sums_and_squares_and_merge_by_adding() -> None:
    # Given two members who paid 100 and 300 and one who paid nothing, each costing 10
    group = stats_of([100, 300, 0], cost_minor=10)
    # Then the counters are integer sums
    assert group == GroupStats(
        members=3, converted=2, revenue_minor_sum=400, revenue_minor_sumsq=100_000, cost_minor_sum=30
    )
    assert group.revenue_per_member() == pytest.approx(400 / 3)
    assert group.conversion() == pytest.approx(2 / 3)
    assert group.cost_per_member() == 10
    assert group.variance() == pytest.approx(((100 - 400 / 3) ** 2 + (300 - 400 / 3) ** 2 + (400 / 3) ** 2) / 2)
    assert GroupStats().revenue_per_member() == 0.0 and GroupStats().variance() == 0.0


def test_a_refund_revises_a_members_revenue_but_not_the_conversion() -> None:
    # Given a member counted with 500 / When a refund brings it to 200 / Then the sums are as if 200 had been counted
    revised = stats_of([500, 0]).revise(500, 200)
    assert revised == stats_of([200, 0])
    # and a full refund keeps the conversion (the member did answer the message)
    assert stats_of([500]).revise(500, 0).converted == 1


def test_counters_take_non_negative_integers_only() -> None:
    bad_values: list[Any] = [-1, 1.5, True]  # a float is money rounded somewhere, a bool a bug
    for bad in bad_values:
        with pytest.raises(ValueError):
            GroupStats().add(bad, 0)
        with pytest.raises(ValueError):
            GroupStats().add(0, bad)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 10**9), max_size=40), st.lists(st.integers(0, 10**9), max_size=40))
def test_the_merge_of_two_groups_is_the_group_of_their_union(left: list[int], right: list[int]) -> None:
    assert stats_of(left).merge(stats_of(right)) == stats_of(left + right)


# --- comparison --------------------------------------------------------------------------------------------------


def test_a_known_lift_is_found_with_the_right_sign() -> None:
    # Given a variant that converts 12 % of its members against 7 % in the holdout (same basket size)
    groups = population(seed=7, members=8000, holdout_bp=5000, rates={HOLDOUT: 0.07, "bonus": 0.12})
    # When compared
    result = compare(groups["bonus"], groups[HOLDOUT])
    # Then the lift is positive, significant, and inside its own interval
    assert result.enough and result.revenue_diff > 0
    assert result.revenue_p is not None and result.revenue_p < 0.05 and result.significant
    assert result.revenue_ci is not None and 0 < result.revenue_ci[0] < result.revenue_diff < result.revenue_ci[1]
    assert result.conversion_diff > 0 and result.conversion_p is not None and result.conversion_p < 0.05
    assert result.incremental_per_100_minor == round(result.revenue_diff * 100)
    assert result.incremental_minor == round(result.revenue_diff * groups["bonus"].members)
    # and a variant that hurts is found with the negative sign
    worse = compare(groups[HOLDOUT], groups["bonus"])
    assert worse.revenue_diff < 0 and worse.significant and worse.incremental_per_100_minor < 0


def test_an_a_a_test_finds_no_lift_in_at_least_90_of_100_seeded_runs() -> None:
    # Given 100 seeded shops of 3,000 members each, holdout and variant buying alike (8 %, lognormal baskets)
    false_lifts = 0
    for seed in range(100):
        groups = population(seed=seed, members=3000, holdout_bp=5000, rates={HOLDOUT: 0.08, "same": 0.08})
        # When the variant is compared with the holdout at α = 0.05
        result = compare(groups["same"], groups[HOLDOUT], alpha=0.05)
        assert result.enough
        false_lifts += result.significant
    # Then at most 10 runs report a lift (5 expected; more than 10 would mean the test is anti-conservative)
    assert false_lifts <= 10


def test_below_30_members_in_a_group_there_is_no_p_value() -> None:
    # Given a big variant and a holdout of 29
    result = compare(stats_of([1000] * 500), stats_of([0] * (MIN_GROUP - 1)))
    # Then the difference is reported but neither an interval nor a p-value
    assert not result.enough and result.revenue_diff == 1000
    assert result.revenue_ci is None and result.revenue_p is None and result.conversion_p is None
    assert not result.significant


def test_groups_without_any_spread() -> None:
    # nobody bought anywhere: no difference, p = 1
    nothing = compare(stats_of([0] * 40), stats_of([0] * 40))
    assert nothing.revenue_diff == 0 and nothing.revenue_p == 1.0 and nothing.conversion_p == 1.0
    # everybody bought the same, one group more: certain difference
    certain = compare(stats_of([200] * 40), stats_of([100] * 40))
    assert certain.revenue_p == 0.0 and certain.revenue_ci == (100.0, 100.0)


def test_alpha_must_be_a_probability() -> None:
    with pytest.raises(ValueError):
        compare(GroupStats(), GroupStats(), alpha=0)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.integers(0, 10**7), min_size=MIN_GROUP, max_size=80),
    st.lists(st.integers(0, 10**7), min_size=MIN_GROUP, max_size=80),
    st.sampled_from([0.01, 0.05, 0.1]),
)
def test_the_interval_holds_the_estimate_and_p_values_are_probabilities(
    treatment: list[int], holdout: list[int], alpha: float
) -> None:
    result = compare(stats_of(treatment), stats_of(holdout), alpha=alpha)
    assert result.revenue_ci is not None and result.revenue_p is not None and result.conversion_p is not None
    low, high = result.revenue_ci
    assert low <= result.revenue_diff <= high
    assert 0.0 <= result.revenue_p <= 1.0 and 0.0 <= result.conversion_p <= 1.0
    # the interval excludes 0 exactly when the test rejects (same normal quantile on both sides)
    if not math.isclose(result.revenue_p, alpha, rel_tol=1e-9):
        assert (low > 0 or high < 0) == result.significant


# --- sample ratio mismatch ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chi2", "df", "p"),
    [
        (3.841, 1, 0.050013683763956804),
        (5.991, 2, 0.05001161502657909),
        (7.815, 3, 0.049993902974883875),
        (16.266, 3, 0.001000111604662117),
        # further reference values from scipy.stats.chi2.sf 1.16.3 (not a dependency: computed once, pinned here)
        (0.5, 4, 0.9735009788392561),
        (12.0, 5, 0.03478778050624185),
        (30.0, 10, 0.000856641210775301),
        (2.0, 7, 0.9598403687301016),
        (100.0, 50, 3.454931382984871e-05),
        (80.0, 1, 3.744097384202887e-19),
        (1e-6, 3, 0.9999999997340385),
        (0.0, 3, 1.0),
    ],
)
def test_the_chi_square_survival_function_matches_known_values(chi2: float, df: int, p: float) -> None:
    assert chi2_sf(chi2, df) == pytest.approx(p, rel=1e-9)


def test_the_survival_function_of_9999_degrees_of_freedom_is_centred() -> None:
    # χ² with many degrees of freedom is about normal with mean df and variance 2·df
    df = 9999
    assert chi2_sf(df, df) == pytest.approx(0.5, abs=0.01)
    assert chi2_sf(df + 2 * math.sqrt(2 * df), df) == pytest.approx(0.0228, abs=0.005)


def test_a_52_48_split_of_20000_is_a_mismatch_and_a_fair_one_is_not() -> None:
    expected = {"holdout": 5000, "variant": 5000}
    skewed = sample_ratio_mismatch({"holdout": 9600, "variant": 10_400}, expected)
    assert skewed.chi2 == pytest.approx(32.0) and skewed.df == 1 and skewed.p_value < 0.001 and skewed.mismatch
    fair = sample_ratio_mismatch({"holdout": 10_050, "variant": 9950}, expected)
    assert fair.chi2 == pytest.approx(0.5) and fair.p_value == pytest.approx(0.4795, abs=1e-4) and not fair.mismatch
    # three groups: 10 % holdout and two variants
    three = sample_ratio_mismatch({"h": 1010, "a": 4480, "b": 4510}, {"h": 1000, "a": 4500, "b": 4500})
    assert three.df == 2 and not three.mismatch
    assert sample_ratio_mismatch({"h": 0, "a": 0}, {"h": 5000, "a": 5000}).p_value == 1.0


@pytest.mark.parametrize(
    ("observed", "expected"),
    [
        ({"h": 1, "a": 1}, {"h": 5000, "b": 5000}),  # different groups
        ({"h": 1}, {"h": 10_000}),  # one group: nothing to compare
        ({"h": 1, "a": 1}, {"h": 5000, "a": 4000}),  # shares do not sum to 10000
        ({"h": 1, "a": 1}, {"h": 10_000, "a": 0}),
        ({"h": -1, "a": 1}, {"h": 5000, "a": 5000}),
    ],
)
def test_a_malformed_srm_question_is_refused(observed: dict[str, int], expected: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        sample_ratio_mismatch(observed, expected)


# --- verdict -----------------------------------------------------------------------------------------------------


def comparison(*, per_100: int, p: float | None, enough: bool = True) -> Comparison:
    return Comparison(
        treatment_members=1000,
        holdout_members=1000,
        enough=enough,
        alpha=0.05,
        revenue_diff=per_100 / 100,
        revenue_ci=None,
        revenue_p=p,
        conversion_diff=0.0,
        conversion_p=p,
        incremental_per_100_minor=per_100,
        incremental_minor=per_100 * 10,
    )


def test_the_verdict_in_english() -> None:
    assert verdict("500 points", comparison(per_100=340_000, p=0.0213), "RUB", "en") == (
        "500 points: +3,400 ₽ per 100 members vs holdout, p = 0.02"
    )
    assert verdict("200 points", comparison(per_100=1_234, p=0.41), "RUB", "en") == (
        "200 points: not distinguishable from the holdout, p = 0.41"
    )
    assert verdict("SMS", comparison(per_100=-1_250, p=0.004), "USD", "en") == (
        "SMS: -$12.50 per 100 members vs holdout, p = 0.004"
    )
    assert verdict("SMS", comparison(per_100=99_999_999, p=1e-7), "JPY", "en") == (
        "SMS: +¥99,999,999 per 100 members vs holdout, p < 0.001"
    )
    assert verdict("500 points", comparison(per_100=0, p=None, enough=False), "RUB", "en") == (
        "500 points: not enough members yet (at least 30 in each group)"
    )


def test_the_verdict_in_russian() -> None:
    assert verdict("500 баллов", comparison(per_100=340_000, p=0.0213), "RUB", "ru") == (
        "500 баллов: +3\u00a0400 ₽ на 100 участников против контрольной группы, p = 0,02"
    )
    assert verdict("200 баллов", comparison(per_100=1_234, p=0.41), "RUB", "ru") == (
        "200 баллов: не отличается от контрольной группы, p = 0,41"
    )
    assert verdict("SMS", comparison(per_100=-1_250, p=0.004), "EUR", "ru") == (
        "SMS: -12,50 € на 100 участников против контрольной группы, p = 0,004"
    )
    assert verdict("500 баллов", comparison(per_100=0, p=None, enough=False), "RUB", "ru") == (
        "500 баллов: пока мало участников (нужно не меньше 30 в каждой группе)"
    )


def test_a_verdict_from_a_real_comparison_and_the_currencys_exponent() -> None:
    # Given the known lift above in Kuwaiti dinars (3 decimals) / Then the amount is read with three decimals
    groups = population(seed=7, members=8000, holdout_bp=5000, rates={HOLDOUT: 0.07, "bonus": 0.12})
    result = compare(groups["bonus"], groups[HOLDOUT])
    line = verdict("bonus", result, "KWD", "en")
    assert line.startswith("bonus: +") and " KWD per 100 members vs holdout, p " in line
    small = verdict("x", comparison(per_100=1_234, p=0.01), "KWD", "en")
    assert small == "x: +1.234 KWD per 100 members vs holdout, p = 0.01"
