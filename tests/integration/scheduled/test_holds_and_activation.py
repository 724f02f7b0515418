"""Hold release and activation of pending points through the scheduled runs (issue 3 item 1, docs/spec.md §7): lapsed holds
leave the account and live ones stay; pending points are announced by one ``activate`` entry when they become
available; reruns change nothing. Data is created through the HTTP API at frozen times, the jobs run later."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from shared.dal.ledger_store import DynamoLedgerStore
from shared.keys import member_pk, shard_of
from tests.conftest import TenantCreds, make_tenant, paid_event
from tests.integration.conftest import Clock
from tests.integration.scheduled.conftest import Jobs
from tests.integration.support import history, ledger_items, member
from tests.integration.test_order_flow import api, place_hold, send

MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
FAR = timedelta(days=3650)


def stored_holds(creds: TenantCreds, member_id: str) -> list[tuple[str, int]]:
    """The holds kept in the member's account item, (order id, points)."""
    account = DynamoLedgerStore().load_member(creds.tenant_id, member_id).account.ledger
    return [(h.order_id, h.points) for h in account.holds]


def due_for(index: str, creds: TenantCreds, member_id: str, at: datetime) -> bool:
    """Whether the job's sparse index lists the member as due at ``at``."""
    shard = int(shard_of(member_pk(creds.tenant_id, member_id)))
    keys = DynamoLedgerStore().due(index, shard, at, None, 100).keys
    return any(k.tenant == creds.tenant_id and k.member_id == member_id for k in keys)


def counts(summary: Any) -> tuple[int, int, int, int]:
    t = summary.totals
    return t.get("members", 0), t.get("changed", 0), t.get("lots", 0), t.get("points", 0)


def balances(client: Any, creds: TenantCreds, member_id: str) -> tuple[int, int, int]:
    view = member(client, creds, member_id)
    return view["balance"], view["available"], view["held"]


def test_lapsed_holds_are_released_once_and_live_ones_stay(client: Any, jobs: Jobs, frozen: Clock) -> None:
    # Given two members with 100 points each, and 15-minute holds (the default TTL)
    creds = make_tenant()
    send(client, creds, paid_event("o-c1", "c1", 200_000))
    send(client, creds, paid_event("o-c2", "c2", 200_000))
    t0 = frozen.now
    # And c1 holds 40 points for cart k1 at t0; ten minutes later c1 holds 20 for cart k2 and c2 holds 30 for k3
    place_hold(client, creds, "k1", 40, "c1")
    frozen.advance(10 * MINUTE)
    place_hold(client, creds, "k2", 20, "c1")
    k3 = place_hold(client, creds, "k3", 30, "c2")["hold_id"]
    assert balances(client, creds, "c1") == (100, 40, 60)
    # When the release job runs at t0 + 20 minutes: k1 lapsed 5 minutes ago, k2 and k3 live until t0 + 25 minutes
    at = frozen.advance(10 * MINUTE)
    summary = jobs.run("release-holds", at)
    # Then only c1 was due, and only its lapsed hold left its account
    assert counts(summary) == (1, 1, 1, 40)
    assert stored_holds(creds, "c1") == [("k2", 20)]
    assert stored_holds(creds, "c2") == [("k3", 30)]
    # And c1's 40 points are available again while the live holds still hold theirs
    assert balances(client, creds, "c1") == (100, 80, 20)
    assert balances(client, creds, "c2") == (100, 70, 30)
    # And the index wakes c1 again only when k2 lapses
    assert not due_for("holds", creds, "c1", at)
    assert due_for("holds", creds, "c1", t0 + 25 * MINUTE)
    # And a rerun of the same event finds nobody due and writes nothing
    before = ledger_items()
    assert counts(jobs.run("release-holds", at)) == (0, 0, 0, 0)
    assert ledger_items() == before
    # And a live hold kept by the job can still be captured
    assert api(client, creds, f"/holds/{k3}/capture")["points"] == 30
    # When the job runs after k2 lapsed (k3 was captured, so c2 holds nothing any more)
    later = frozen.advance(10 * MINUTE)
    summary = jobs.run("release-holds", later)
    # Then c1's last hold is released, c2 is not touched, and neither is left in the index
    assert counts(summary) == (1, 1, 1, 20)
    assert (stored_holds(creds, "c1"), stored_holds(creds, "c2")) == ([], [])
    assert balances(client, creds, "c1") == (100, 100, 0)
    assert balances(client, creds, "c2") == (70, 70, 0)
    assert not due_for("holds", creds, "c1", later + FAR) and not due_for("holds", creds, "c2", later + FAR)
    # And releasing holds moved no points: no ledger entry was written for them
    assert [e["kind"] for e in history(client, creds, "c1")] == ["earn"]
    # And a rerun writes nothing
    before = ledger_items()
    assert counts(jobs.run("release-holds", later)) == (0, 0, 0, 0)
    assert ledger_items() == before


def activations(client: Any, creds: TenantCreds, member_id: str = "c1") -> list[dict[str, Any]]:
    return [e for e in history(client, creds, member_id) if e["kind"] == "activate"]


def test_pending_points_are_announced_once_when_they_become_available(client: Any, jobs: Jobs, frozen: Clock) -> None:
    # Given a program with 3 pending days, and a member who earns 100 points at t0 and 50 more a day later
    creds = make_tenant(pending_days=3)
    t0 = frozen.now
    send(client, creds, paid_event("o1", "c1", 200_000))
    frozen.advance(DAY)
    send(client, creds, paid_event("o2", "c1", 100_000))
    first_lot, second_lot = (lot["lot_id"] for lot in member(client, creds)["lots"])
    # And, in a tenant without pending days, a member whose points were available at once
    instant = make_tenant("instant")
    send(client, instant, paid_event("o3", "c9", 200_000))
    # When the activation job runs before any of the pending points is available
    assert counts(jobs.run("activate-pending", t0 + 2 * DAY)) == (0, 0, 0, 0)
    assert activations(client, creds) == []
    # When it runs an hour after the first lot became available
    at = frozen.now = t0 + 3 * DAY + HOUR
    summary = jobs.run("activate-pending", at)
    # Then one activate entry announces the 100 points of the first lot; it moves no points
    assert counts(summary) == (1, 1, 1, 100)
    [entry] = activations(client, creds)
    assert (entry["delta"], entry["balance_after"], entry["reference"], entry["details"]) == (
        0,
        150,
        "activation",
        {"points": 100},
    )
    assert [(lot["lot_id"], lot["change"]) for lot in entry["lots"]] == [(first_lot, 0)]
    view = member(client, creds)
    assert (view["balance"], view["available"], view["pending"]) == (150, 100, 50)
    # And a rerun of the same event finds nobody due and writes nothing
    before = ledger_items()
    assert counts(jobs.run("activate-pending", at)) == (0, 0, 0, 0)
    assert ledger_items() == before
    # When it runs after the second lot became available
    later = frozen.now = t0 + 4 * DAY + HOUR
    summary = jobs.run("activate-pending", later)
    # Then exactly one more entry announces the second lot only, and nothing is pending any more
    assert counts(summary) == (1, 1, 1, 50)
    newest, oldest = activations(client, creds)
    assert oldest == entry
    assert ([(lot["lot_id"], lot["change"]) for lot in newest["lots"]], newest["details"]) == (
        [(second_lot, 0)],
        {"points": 50},
    )
    assert newest["seq"] > entry["seq"]
    assert (member(client, creds)["available"], member(client, creds)["pending"]) == (150, 0)
    # And neither that event again nor a much later run announces anything twice
    before = ledger_items()
    assert counts(jobs.run("activate-pending", later)) == (0, 0, 0, 0)
    assert counts(jobs.run("activate-pending", later + 30 * DAY)) == (0, 0, 0, 0)
    assert ledger_items() == before
    assert len(activations(client, creds)) == 2
    # And the member whose points were never pending was never due and has no activate entry
    assert activations(client, instant, "c9") == []
    assert not due_for("pending", instant, "c9", later + FAR)
