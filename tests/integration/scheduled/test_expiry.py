"""Expiry through the scheduled run (issue 3 item 2): index, fan-out, exactly once, no Scan."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.conftest import make_tenant, paid_event
from tests.integration.conftest import Clock
from tests.integration.scheduled.conftest import Jobs
from tests.integration.support import history, ledger_items, member
from tests.integration.test_order_flow import send

DAY = timedelta(days=1)


def test_due_lots_expire_through_the_scheduled_run_and_a_rerun_changes_nothing(
    client: Any, jobs: Jobs, frozen: Clock
) -> None:
    # Given a member with a lot that will be past its expiry and a younger one that will not
    creds = make_tenant(lifetime_days=30)
    send(client, creds, paid_event("o1", "c1", 100_000))  # 50 points
    frozen.advance(10 * DAY)
    send(client, creds, paid_event("o2", "c1", 40_000))  # 20 points
    at = frozen.advance(21 * DAY)
    # When the expiry job runs at that time
    summary = jobs.run("expire", at)
    # Then the old lot's points leave through one expire entry and the balance drops
    assert (summary.totals["members"], summary.totals["lots"], summary.totals["points"]) == (1, 1, 50)
    view = member(client, creds)
    assert (view["balance"], [lot["remaining"] for lot in view["lots"]]) == (20, [20])
    expired = [e for e in history(client, creds) if e["kind"] == "expire"]
    assert [(e["delta"], e["balance_after"], e["reference"]) for e in expired] == [(-50, 20, "expiry")]
    # And running the same event again finds nobody due and writes nothing
    before = ledger_items()
    again = jobs.run("expire", at)
    assert again.totals.get("members", 0) == 0
    assert ledger_items() == before
