"""The load run's report: throughput, p50/p99 per request type, refusals, retries and errors (pure functions)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from scripts.load.record import ERROR, OK, REFUSED, RETRIED, Sample

ALL = "all"


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (the smallest value with at least p % of the values at or below it)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class Row:
    name: str
    requests: int
    ok: int
    refused: int
    retried: int
    errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float


@dataclass(frozen=True)
class Report:
    planned: int
    seconds: float
    rows: list[Row]  # one per request type, then ALL
    errors: dict[str, int]  # "name: status code" -> count
    server_errors: int  # 5xx answers that did not settle (a retried 503 is not one)

    @property
    def total(self) -> Row:
        return self.rows[-1]

    @property
    def rps(self) -> float:
        return self.total.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def failed(self) -> bool:
        return self.total.errors > 0


def row(name: str, samples: Sequence[Sample]) -> Row:
    outcomes = Counter(s.outcome for s in samples)
    times = [s.ms for s in samples]
    return Row(
        name,
        len(samples),
        outcomes[OK],
        outcomes[REFUSED],
        outcomes[RETRIED],
        outcomes[ERROR],
        percentile(times, 50),
        percentile(times, 99),
        max(times),
    )


def build(planned: int, started: float, samples: Sequence[Sample]) -> Report:
    if not samples:
        raise ValueError("the run recorded no request")
    names = sorted({s.name for s in samples})
    rows = [row(name, [s for s in samples if s.name == name]) for name in names] + [row(ALL, samples)]
    errors = Counter(f"{s.name}: {s.status} {s.code or ''}".strip() for s in samples if s.outcome == ERROR)
    server_errors = sum(1 for s in samples if s.outcome == ERROR and s.status >= 500)
    seconds = max(s.end for s in samples) - started
    return Report(planned, seconds, rows, dict(errors), server_errors)


def render(report: Report, users: int) -> str:
    header = f"{'request':<22} {'requests':>8} {'ok':>6} {'refused':>7} {'503 retried':>11} {'errors':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}"
    lines = [header, "-" * len(header)]
    for r in report.rows:
        if r.name == ALL:
            lines.append("-" * len(header))
        lines.append(
            f"{r.name:<22} {r.requests:>8} {r.ok:>6} {r.refused:>7} {r.retried:>11} {r.errors:>6} "
            f"{r.p50_ms:>7.0f} {r.p99_ms:>7.0f} {r.max_ms:>7.0f}"
        )
    t = report.total
    lines += [
        "",
        f"{report.planned} planned requests ({t.requests} sent with {t.retried} retries of a 503) by {users} users "
        f"in {report.seconds:.1f} s: {report.rps:.1f} req/s, p50 {t.p50_ms:.0f} ms, p99 {t.p99_ms:.0f} ms, "
        f"{t.errors} errors ({report.server_errors} of them 5xx)",
    ]
    lines += [f"  error {count}x {what}" for what, count in sorted(report.errors.items())]
    return "\n".join(lines)
