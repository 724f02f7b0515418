"""ABC analysis of a tenant's members (docs/spec.md §8, VIP): pure, integers only, no I/O.

Members are ranked by their metric (revenue or orders in the period), highest first. A member's class is decided
by the share of the total held by everyone ranked *before* them: under 80 % → A, under 95 % → B, else C. So the
member whose own value carries the running share across (or exactly onto) 80 % is still A, and the next one is
B; the same at 95 % for B. Members with equal values form one group that shares one class, decided by the share
before the group, so two members who bought exactly as much never land in different classes (at a boundary a tie
can make a class slightly larger than the 80/15 rule alone). Members whose value is 0 are not ranked: they
contributed nothing, and every member not in A or B is C. With a total of 0 nobody is A.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import groupby

from shared.records import PaidRow

A_SHARE_PCT = 80
B_SHARE_PCT = 95  # A and B together: 80 % + the next 15 %
CLASSES = ("A", "B", "C")
METRICS = ("revenue", "orders")


@dataclass(frozen=True)
class Ranked:
    member_id: str
    value: int
    klass: str
    rank: int  # 1 = highest value; tied members share the rank of the first of them
    cumulative: int  # the running total including this member (ties: in member id order)


@dataclass(frozen=True)
class Classification:
    total: int
    ranked: tuple[Ranked, ...]  # highest value first, ties by member id

    def of(self, klass: str) -> list[Ranked]:
        return [r for r in self.ranked if r.klass == klass]

    def find(self, member_id: str) -> Ranked | None:
        return next((r for r in self.ranked if r.member_id == member_id), None)


def class_for(before: int, total: int) -> str:
    """The class of a member (or tie group) with ``before`` of ``total`` held by those ranked above."""
    if before * 100 < A_SHARE_PCT * total:
        return "A"
    if before * 100 < B_SHARE_PCT * total:
        return "B"
    return "C"


def classify(values: Mapping[str, int]) -> Classification:
    positive = sorted(((m, v) for m, v in values.items() if v > 0), key=lambda mv: (-mv[1], mv[0]))
    total = sum(v for _, v in positive)
    ranked: list[Ranked] = []
    running = 0
    for value, group in groupby(positive, key=lambda mv: mv[1]):
        members = [m for m, _ in group]
        klass, rank = class_for(running, total), len(ranked) + 1
        for member_id in members:
            running += value
            ranked.append(Ranked(member_id, value, klass, rank, running))
    return Classification(total, tuple(ranked))


def metric_values(rows: Iterable[PaidRow], metric: str) -> dict[str, int]:
    """Each member's value over the period's paid orders (rows of the orders paid in it and of their refunds).

    revenue: cash paid minus the cash refunded so far (refund records carry the cumulative amount, so the largest
    one per order counts; a cancellation refunds it all). orders: paid orders not cancelled (a refunded one still
    counts: it was bought, its money is out of revenue)."""
    paid: dict[str, tuple[str, int]] = {}
    refunded: dict[str, int] = {}
    cancelled: set[str] = set()
    for row in rows:
        if row.refund_id is None:
            paid[row.order_id] = (row.member_id, row.minor)
        else:
            refunded[row.order_id] = max(refunded.get(row.order_id, 0), row.minor)
            if row.refund_id == "CANCEL":
                cancelled.add(row.order_id)
    values: dict[str, int] = {}
    for order_id, (member_id, cash) in paid.items():
        revenue = max(0, cash - refunded.get(order_id, 0))
        value = revenue if metric == "revenue" else int(order_id not in cancelled)
        values[member_id] = values.get(member_id, 0) + value
    return values
