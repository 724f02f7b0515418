"""Program rules in `make bench` (issue 5): the CPU of one order's points with every rule on, and the program used.

``ALL_RULES`` turns on every rule that acts on a paid order (a tier, the minimum check, three promos, two happy
hours, category multipliers, combos, a running boost, VIP class A). ``cpu_per_order`` times ``shared.rules.earn``
on a 100-item cart with ``time.thread_time_ns`` (CPU, not wall time) and reports the median of many runs; the
target is under 1 ms. The HTTP bench (scripts/bench.py) uses the same program for its "every rule on" paid order,
whose DynamoDB requests are counted like every other operation.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from typing import Any

ITEMS = 100
RUNS = 2_000
MAX_CPU_MS = 1.0
PAID_AT = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)  # a Friday evening: inside the happy hours below
WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _promo(n: int, categories: list[str] | None) -> dict[str, Any]:
    return {
        "id": f"promo-{n}",
        "name": f"Promo {n}",
        "starts_at": "2026-01-01T00:00:00Z",
        "ends_at": "2030-01-01T00:00:00Z",
        "earn_rate_bp": 100 * n,
        "lifetime_days": 30 * n,
        "categories": categories,
    }


ALL_RULES: dict[str, Any] = {
    "tiers": [
        {"name": "Silver", "min_spend_minor": 0, "earn_rate_bp": 500},
        {"name": "Gold", "min_spend_minor": 100_000, "earn_rate_bp": 800, "discount_bp": 300},
    ],
    "min_check_minor": 1_000,
    "promotions": [_promo(1, None), _promo(2, ["cat-1", "cat-2"]), _promo(3, ["cat-3"])],
    "happy_hours": [
        {"days": WEEK, "from": "00:00", "to": "24:00", "multiplier_bp": 12_000},
        {"days": ["fri"], "from": "17:00", "to": "21:00", "multiplier_bp": 15_000},
    ],
    "category_multipliers": {f"cat-{n}": 10_000 + 2_500 * n for n in range(10)},
    "combos": [{"skus": [f"SKU-{n:04d}", f"SKU-{n + 1:04d}"], "bonus_points": 10} for n in (0, 10, 20)],
    "post_purchase_boost": {"days": 30, "multiplier_bp": 20_000, "discount_bp": 500, "reminder_days_before_end": 10},
    "vip": {"earn_rate_bp": 1_000, "discount_bp": 700},
}


def items(count: int = ITEMS, total: int = 1_000_000) -> list[dict[str, Any]]:
    """Order lines spread over ten categories; their amounts add up to ``total``."""
    each = total // count
    return [
        {"sku": f"SKU-{n:04d}", "category": f"cat-{n % 10}", "quantity": 1 + n % 3, "amount_minor": each}
        for n in range(count)
    ]


def cpu_per_order(runs: int = RUNS) -> dict[str, Any]:
    """Median and p99 CPU milliseconds of one 100-item order's points with every rule on."""
    from shared.program import ProgramSettings
    from shared.rules import Cart, Line, Standing, earn

    program = ProgramSettings.model_validate({"currency": "RUB", **ALL_RULES})
    lines = tuple(Line(i["sku"], i["category"], i["quantity"], i["amount_minor"]) for i in items())
    cart = Cart(sum(line.amount_minor for line in lines) + 5_000, shipping_minor=5_000, lines=lines)
    standing = Standing(spend_minor=500_000, vip=True, boost_active=True, boost_discount_open=True)
    earning = earn(cart, 0, program, standing, PAID_AT)
    samples = []
    for _ in range(runs):
        start = time.thread_time_ns()
        earn(cart, 0, program, standing, PAID_AT)
        samples.append((time.thread_time_ns() - start) / 1e6)
    samples.sort()
    median = statistics.median(samples)
    return {
        "items": len(lines),
        "runs": runs,
        "median_ms": round(median, 4),
        "p99_ms": round(samples[int(len(samples) * 0.99) - 1], 4),
        "points": earning.total_points,
        "rules_applied": sorted({line["rule"] for line in earning.breakdown}),
        "target_ms": MAX_CPU_MS,
        "ok": median < MAX_CPU_MS,
    }


def print_cpu(figures: dict[str, Any]) -> None:
    verdict = "ok" if figures["ok"] else "OVER"
    print(
        f"\nProgram rules: points of one order with {figures['items']} items and every rule on "
        f"({', '.join(figures['rules_applied'])}):\n"
        f"  CPU median {figures['median_ms']:.3f} ms, p99 {figures['p99_ms']:.3f} ms over {figures['runs']} runs "
        f"(target < {figures['target_ms']:g} ms: {verdict})"
    )
