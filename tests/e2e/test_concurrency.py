"""Concurrency over real HTTP (docs/spec.md §3): many requests on ONE member at once never overspend or lose an update.

The threads start together (a barrier) and hit `chalice local` in parallel; the app's optimistic writes
(conditional on the member's version, bounded retry, then 503) are what keeps the ledger right.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import paid_event
from tests.e2e.client import Answer, Api
from tests.e2e.parallel import all_at_once, until_settled

pytestmark = pytest.mark.e2e
THREADS = 24


def test_holds_on_one_member_never_exceed_the_balance(api: Api) -> None:
    member = "conc-holds"
    assert api.webhook(paid_event("conc-holds-earn", member, total=2_000_000)).body["points_earned"] == 1000

    def hold(i: int) -> Callable[[], Answer]:
        return lambda: api.post("/holds", {"member_id": member, "order_id": f"conc-h-{i}", "points": 100})

    answers = all_at_once([hold(i) for i in range(THREADS)])
    assert {a.status for a in answers} <= {201, 422, 503}, [a for a in answers if a.status not in (201, 422, 503)]
    assert {a.code for a in answers if a.status == 422} <= {"insufficient_points"}
    granted = [a.body for a in answers if a.status == 201]
    assert 1 <= len(granted) <= 10
    view = api.member(member)
    assert view["held"] == sum(h["points"] for h in granted) <= view["balance"] == 1000
    assert view["available"] == 1000 - view["held"]

    retried = [until_settled(hold(i)) for i, a in enumerate(answers) if a.status == 503]  # nothing was lost
    granted += [a.body for a in retried if a.status == 201]
    assert len(granted) == 10 and len({h["hold_id"] for h in granted}) == 10
    view = api.member(member)
    assert (view["held"], view["available"], view["balance"]) == (1000, 0, 1000)


def test_parallel_paid_orders_on_one_member_all_land(api: Api) -> None:
    member = "conc-orders"

    def pay(i: int) -> Callable[[], Answer]:
        event = paid_event(f"conc-o-{i}", member, total=10_000 * (i + 1))  # earns 5 * (i + 1)
        return lambda: until_settled(lambda: api.webhook(event))

    answers = all_at_once([pay(i) for i in range(THREADS)])
    assert [a.status for a in answers] == [200] * THREADS, [a for a in answers if a.status != 200]
    earned = sum(a.body["points_earned"] for a in answers)
    assert earned == sum(5 * (i + 1) for i in range(THREADS))
    view = api.member(member)
    assert view["balance"] == view["available"] == earned
    (entries,) = api.history(member)
    assert sorted(e["seq"] for e in entries) == list(range(1, THREADS + 1))  # no update lost, no seq reused
    assert entries[0]["balance_after"] == earned
