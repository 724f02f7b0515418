"""Holdout and A/B statistics of a campaign (issue 17 item 3). Pure: no storage, no clock, standard library only.

- ``bucket`` and ``assign``: who is in the control group and who gets which variant, deterministically;
- ``GroupStats``: the counters a report keeps per group on write (integers: sums and sums of squares);
- ``compare``: incremental revenue per member against the holdout (Welch's standard error, large-sample z-test) and
  the conversion difference (two-proportion z-test);
- ``sample_ratio_mismatch``: Pearson's χ² of the group sizes against the configured shares;
- ``verdict``: one plain-language line per variant, English or Russian.

Why not scipy: its wheel is 35.9 MB (118.7 MB unpacked, with numpy 177 MB) and ``import scipy.stats`` takes
0.6-0.8 s; the standard library's ``statistics.NormalDist`` and ``math.lgamma`` give every figure below exactly
enough (see the decision "experiment statistics from the standard library" in docs/decisions.md).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from statistics import NormalDist

from shared.errors import Unprocessable
from shared.money import BP, exponent

BUCKETS = BP  # 10,000 buckets, so a share in basis points is a number of buckets
HOLDOUT = "holdout"
MIN_GROUP = 30  # members per group below which no p-value is given (the normal approximation is not trusted)
_STANDARD = NormalDist()


class InvalidSplit(Unprocessable):
    """A holdout share or variant weights that do not describe a split of the 10,000 buckets."""

    code = "invalid_split"


# --- assignment ------------------------------------------------------------------------------------------------


def bucket(tenant: str, campaign_id: str, member_id: str) -> int:
    """The member's bucket 0..9999 in this campaign: BLAKE2b of the three ids joined by the unit separator (which no
    id contains), so it is the same in every process, Python version and machine (``hash()`` is salted per process).
    64 bits modulo 10,000: the bias is below 10⁻¹⁵. Each campaign hashes anew, so one campaign's holdout is not the
    next one's."""
    key = "\x1f".join((tenant, campaign_id, member_id)).encode()
    digest = hashlib.blake2b(key, digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


def validate_split(holdout_bp: int, variants: list[tuple[str, int]]) -> None:
    """``InvalidSplit`` unless the holdout is 0..10000 bp and the variants (if any) have distinct non-empty ids other
    than "holdout" and positive integer weights summing to 10000 bp."""
    if isinstance(holdout_bp, bool) or not isinstance(holdout_bp, int) or not 0 <= holdout_bp <= BP:
        raise InvalidSplit(f"holdout_bp must be an integer from 0 to {BP}")
    if not variants:
        return
    ids = [variant_id for variant_id, _ in variants]
    if len(set(ids)) != len(ids) or any(not v or v == HOLDOUT for v in ids):
        raise InvalidSplit(f'variant ids must be distinct, non-empty and not "{HOLDOUT}"')
    weights = [weight for _, weight in variants]
    if any(isinstance(w, bool) or not isinstance(w, int) or w <= 0 for w in weights):
        raise InvalidSplit("variant weights must be positive integers (basis points)")
    if sum(weights) != BP:
        raise InvalidSplit(f"variant weights must sum to {BP} basis points, not {sum(weights)}")


def assign(bucket: int, holdout_bp: int, variants: list[tuple[str, int]]) -> str | None:
    """ "holdout" for the buckets below ``holdout_bp``; otherwise the variant whose cumulative share of the remaining
    buckets covers this one (weights in basis points of the treated members, summing to 10000). ``None`` for a
    treated member of a campaign without variants (it has one treatment, named by the campaign itself).

    The split is a pure function of the bucket and the configuration: changing ``holdout_bp`` or any weight after a
    campaign has sent moves members between groups (a holdout member would be messaged, a variant's members would
    change arms) and mixes the groups the report compares. A campaign's split must therefore be frozen once it has
    run; a new split is a new campaign (or a new version with its own report)."""
    if isinstance(bucket, bool) or not isinstance(bucket, int) or not 0 <= bucket < BUCKETS:
        raise InvalidSplit(f"a bucket is an integer from 0 to {BUCKETS - 1}")
    validate_split(holdout_bp, variants)
    if bucket < holdout_bp:
        return HOLDOUT
    if not variants:
        return None
    remaining, position, cumulative = BUCKETS - holdout_bp, bucket - holdout_bp, 0
    for variant_id, weight in variants:
        cumulative += weight
        # position / remaining < cumulative / BP, in integers: no float rounding at a share's edge
        if position * BP < cumulative * remaining:
            return variant_id
    raise AssertionError("unreachable: the weights sum to BP")  # pragma: no cover


# --- group counters ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class GroupStats:
    """One group's outcomes as counters a report can keep on write: every field is an integer sum, so two groups (or
    two shards, or two days) merge by adding them. ``revenue_minor_sumsq`` holds the sum of each member's squared
    revenue, from which the variance follows exactly (``variance``)."""

    members: int = 0
    converted: int = 0
    revenue_minor_sum: int = 0
    revenue_minor_sumsq: int = 0
    cost_minor_sum: int = 0

    def add(self, revenue_minor: int = 0, cost_minor: int = 0, *, converted: bool | None = None) -> GroupStats:
        """These counters with one more member. ``converted`` defaults to "the member paid something"."""
        _check_minor(revenue_minor, cost_minor)
        paid = revenue_minor > 0 if converted is None else converted
        return GroupStats(
            members=self.members + 1,
            converted=self.converted + int(paid),
            revenue_minor_sum=self.revenue_minor_sum + revenue_minor,
            revenue_minor_sumsq=self.revenue_minor_sumsq + revenue_minor * revenue_minor,
            cost_minor_sum=self.cost_minor_sum + cost_minor,
        )

    def revise(self, revenue_before: int, revenue_after: int) -> GroupStats:
        """A counted member's revenue changed (a second attributed payment, a refund): the sums move by the
        difference. The conversion stays: the member did respond to the message, a refund takes the money back."""
        _check_minor(revenue_before, revenue_after)
        return GroupStats(
            members=self.members,
            converted=self.converted,
            revenue_minor_sum=self.revenue_minor_sum + revenue_after - revenue_before,
            revenue_minor_sumsq=self.revenue_minor_sumsq + revenue_after**2 - revenue_before**2,
            cost_minor_sum=self.cost_minor_sum,
        )

    def merge(self, other: GroupStats) -> GroupStats:
        return GroupStats(
            members=self.members + other.members,
            converted=self.converted + other.converted,
            revenue_minor_sum=self.revenue_minor_sum + other.revenue_minor_sum,
            revenue_minor_sumsq=self.revenue_minor_sumsq + other.revenue_minor_sumsq,
            cost_minor_sum=self.cost_minor_sum + other.cost_minor_sum,
        )

    def revenue_per_member(self) -> float:
        return self.revenue_minor_sum / self.members if self.members else 0.0

    def cost_per_member(self) -> float:
        return self.cost_minor_sum / self.members if self.members else 0.0

    def conversion(self) -> float:
        return self.converted / self.members if self.members else 0.0

    def variance(self) -> float:
        """The sample variance of revenue per member (n − 1), from the integer counters: the numerator
        n·Σx² − (Σx)² is computed exactly in integers, so no cancellation error however large the sums."""
        n = self.members
        if n < 2:
            return 0.0
        return (n * self.revenue_minor_sumsq - self.revenue_minor_sum**2) / (n * (n - 1))


def _check_minor(*amounts: int) -> None:
    if any(isinstance(a, bool) or not isinstance(a, int) or a < 0 for a in amounts):
        raise ValueError("amounts are non-negative integers in minor units")


# --- comparison --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """A variant against the holdout. Revenue figures are in minor units per member (floats: they are estimates).
    ``enough`` is False below ``MIN_GROUP`` members in either group: then no interval and no p-values."""

    treatment_members: int
    holdout_members: int
    enough: bool
    alpha: float
    revenue_diff: float  # revenue per member, treatment − holdout
    revenue_ci: tuple[float, float] | None  # (1 − alpha) confidence interval of revenue_diff
    revenue_p: float | None  # two-sided
    conversion_diff: float  # conversion rate, treatment − holdout
    conversion_p: float | None  # two-sided, two-proportion z-test
    incremental_per_100_minor: int  # revenue_diff × 100, rounded: "+3,400 ₽ per 100 members"
    incremental_minor: int  # revenue_diff × treatment members, rounded: what the variant brought in total

    @property
    def significant(self) -> bool:
        return self.revenue_p is not None and self.revenue_p < self.alpha


def two_sided_p(z: float) -> float:
    """P(|Z| ≥ |z|) for a standard normal Z, as erfc(|z|/√2): ``NormalDist.cdf`` computes 1 + erf(…) in Python
    3.11 and so rounds a tail below 10⁻¹⁶ to 0, erfc keeps its relative precision (χ² = 80 → 3.7·10⁻¹⁹)."""
    return min(1.0, math.erfc(abs(z) / math.sqrt(2)))


def _z_test(diff: float, standard_error: float) -> float:
    if standard_error > 0:
        return two_sided_p(diff / standard_error)
    return 1.0 if diff == 0 else 0.0  # no spread at all: the groups are equal, or different with certainty


def _conversion_p(treatment: GroupStats, holdout: GroupStats) -> float:
    """Two-proportion z-test with the pooled rate under the null hypothesis of equal rates."""
    n1, n2 = treatment.members, holdout.members
    pooled = (treatment.converted + holdout.converted) / (n1 + n2)
    standard_error = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return _z_test(treatment.conversion() - holdout.conversion(), standard_error)


def compare(treatment: GroupStats, holdout: GroupStats, alpha: float = 0.05) -> Comparison:
    """Incremental revenue per member of ``treatment`` over ``holdout`` with a (1 − alpha) confidence interval and a
    two-sided p-value of Welch's statistic (difference ÷ √(s₁²/n₁ + s₂²/n₂)), read on the normal distribution: with
    at least ``MIN_GROUP`` members in each group the t-distribution is close to normal (at 30 degrees of freedom
    its 97.5 % quantile is 2.04 against 1.96), and the standard library has no t CDF. Below that: no p-value."""
    if not 0 < alpha < 1:
        raise ValueError("alpha is between 0 and 1")
    diff = treatment.revenue_per_member() - holdout.revenue_per_member()
    enough = min(treatment.members, holdout.members) >= MIN_GROUP
    ci = revenue_p = conversion_p = None
    if enough:
        standard_error = math.sqrt(treatment.variance() / treatment.members + holdout.variance() / holdout.members)
        margin = _STANDARD.inv_cdf(1 - alpha / 2) * standard_error
        ci, revenue_p = (diff - margin, diff + margin), _z_test(diff, standard_error)
        conversion_p = _conversion_p(treatment, holdout)
    return Comparison(
        treatment_members=treatment.members,
        holdout_members=holdout.members,
        enough=enough,
        alpha=alpha,
        revenue_diff=diff,
        revenue_ci=ci,
        revenue_p=revenue_p,
        conversion_diff=treatment.conversion() - holdout.conversion(),
        conversion_p=conversion_p,
        incremental_per_100_minor=round(diff * 100),
        incremental_minor=round(diff * treatment.members),
    )


# --- sample ratio mismatch ---------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SrmResult:
    chi2: float
    df: int
    p_value: float
    mismatch: bool  # p below alpha: the assignment or the counting is broken, do not trust the comparison


def chi2_sf(x: float, df: int) -> float:
    """P(χ²_df ≥ x): the regularized upper incomplete gamma function Q(df/2, x/2). df = 1 through the normal
    distribution (χ²₁ = Z²), df = 2 in closed form (e^(−x/2)), otherwise by the series of P (x < a + 1) or
    the continued fraction of Q (Numerical Recipes §6.2), both to double precision."""
    if df < 1:
        raise ValueError("degrees of freedom are at least 1")
    if x <= 0:
        return 1.0
    if df == 1:
        return two_sided_p(math.sqrt(x))
    if df == 2:
        return math.exp(-x / 2)
    a, half = df / 2, x / 2
    if half < a + 1:
        return max(0.0, 1.0 - _lower_gamma_series(a, half))
    return _upper_gamma_fraction(a, half)


def _lower_gamma_series(a: float, x: float) -> float:
    """P(a, x) = e^(−x) x^a / Γ(a + 1) · Σ xⁿ / ((a + 1)…(a + n))."""
    term = total = 1.0 / a
    denominator = a
    for _ in range(1000):
        denominator += 1
        term *= x / denominator
        total += term
        if abs(term) < abs(total) * 1e-16:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _upper_gamma_fraction(a: float, x: float) -> float:
    """Q(a, x) by the continued fraction 1/(x + 1 − a − 1·(1 − a)/(x + 3 − a − …)), modified Lentz's method."""
    tiny = 1e-300
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        h *= d * c
        if abs(d * c - 1) < 1e-16:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def sample_ratio_mismatch(observed: dict[str, int], expected_bp: dict[str, int], alpha: float = 0.001) -> SrmResult:
    """Pearson's χ² of the observed group sizes against the configured shares (basis points summing to 10000), with
    k − 1 degrees of freedom. A mismatch means members were lost or doubled on one side (a send that failed only for
    one variant, a counter written twice): the comparison of such groups is biased, whatever its p-value."""
    if set(observed) != set(expected_bp) or len(expected_bp) < 2:
        raise ValueError("observed and expected name the same groups, at least two")
    if any(share <= 0 for share in expected_bp.values()) or sum(expected_bp.values()) != BP:
        raise ValueError(f"expected shares are positive basis points summing to {BP}")
    if any(count < 0 for count in observed.values()):
        raise ValueError("group sizes are not negative")
    total, df = sum(observed.values()), len(expected_bp) - 1
    if total == 0:
        return SrmResult(chi2=0.0, df=df, p_value=1.0, mismatch=False)
    chi2 = 0.0
    for group, share in expected_bp.items():
        expected = total * share / BP
        chi2 += (observed[group] - expected) ** 2 / expected
    p_value = chi2_sf(chi2, df)
    return SrmResult(chi2=chi2, df=df, p_value=p_value, mismatch=p_value < alpha)


# --- plain language ----------------------------------------------------------------------------------------------

_SYMBOLS = {"RUB": "₽", "USD": "$", "EUR": "€", "GBP": "£", "KZT": "₸", "UAH": "₴", "BYN": "Br", "JPY": "¥"}
_SYMBOL_FIRST_IN_ENGLISH = {"USD", "EUR", "GBP", "JPY"}
_NBSP = "\u00a0"  # groups thousands in Russian and never breaks a number across lines
_TEXT = {
    "en": {
        "lift": "{label}: {amount} per 100 members vs holdout, {p}",
        "same": "{label}: not distinguishable from the holdout, {p}",
        "few": "{label}: not enough members yet (at least {n} in each group)",
    },
    "ru": {
        "lift": "{label}: {amount} на 100 участников против контрольной группы, {p}",
        "same": "{label}: не отличается от контрольной группы, {p}",
        "few": "{label}: пока мало участников (нужно не меньше {n} в каждой группе)",
    },
}


def format_money(minor: int, currency: str, language: str) -> str:
    """A signed amount from minor units: "+3,400 ₽", "+$12.50" in English, "+3 400 ₽", "+12,50 $" in Russian (a no-break space groups thousands).
    Whole units from 100 upwards (an estimate per 100 members has no meaningful kopecks), else the currency's
    decimals."""
    digits = exponent(currency)
    value = Decimal(abs(minor)).scaleb(-digits)
    places = 0 if value >= 100 else digits
    text = f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN):,.{places}f}"
    sign = "-" if minor < 0 else "+"
    symbol = _SYMBOLS.get(currency, currency)
    if language == "ru":
        return f"{sign}{text.replace(',', _NBSP).replace('.', ',')} {symbol}"
    if currency in _SYMBOL_FIRST_IN_ENGLISH:
        return f"{sign}{symbol}{text}"
    return f"{sign}{text} {symbol}"


def format_p(p: float, language: str) -> str:
    """ "p = 0.02", "p = 0.004", "p < 0.001" (a decimal comma in Russian)."""
    if p < 0.001:
        text = "p < 0.001"
    elif p < 0.01:
        text = f"p = {p:.3f}"
    else:
        text = f"p = {p:.2f}"
    return text.replace(".", ",") if language == "ru" else text


def verdict(variant_label: str, comparison: Comparison, currency: str, language: str) -> str:
    """One line for a merchant: the variant's incremental revenue per 100 members when it differs from the holdout
    at the comparison's alpha, "not distinguishable" when it does not, "not enough members" below ``MIN_GROUP``.
    Languages: "en" and "ru" (any other reads English)."""
    text = _TEXT["ru" if language == "ru" else "en"]
    if not comparison.enough or comparison.revenue_p is None:
        return text["few"].format(label=variant_label, n=MIN_GROUP)
    p = format_p(comparison.revenue_p, language)
    if not comparison.significant:
        return text["same"].format(label=variant_label, p=p)
    amount = format_money(comparison.incremental_per_100_minor, currency, language)
    return text["lift"].format(label=variant_label, amount=amount, p=p)
