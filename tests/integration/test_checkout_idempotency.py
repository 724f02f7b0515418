"""Checkout is idempotent by hold (issue 14 item 4): a capture is answered once, and a different one is a conflict."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from tests.conftest import TenantCreds, paid_event
from tests.integration.conftest import Clock
from tests.integration.support import assert_error, ledger_items
from tests.integration.test_order_flow import api, place_hold, send


def test_a_repeated_capture_answers_the_first_and_a_different_one_is_409(client: Any, tenant: TenantCreds) -> None:
    # Given a hold of 40 captured for 30
    send(client, tenant, paid_event("o0", total=200_000))
    hold = place_hold(client, tenant, "o1", 40)
    path = f"/holds/{hold['hold_id']}/capture"
    first = api(client, tenant, path, {"points": 30})
    items = ledger_items()
    # When the same capture comes again, then it answers the first result and writes nothing
    assert api(client, tenant, path, {"points": 30}) == first
    assert ledger_items() == items
    # When a capture of other points comes, then it is a conflict, not a silent success
    response = client.http.post(
        f"/v1/tenants/{tenant.tenant_id}/holds/{hold['hold_id']}/capture", body=b'{"points": 35}', headers=tenant.auth
    )
    assert_error(response, 409, "capture_differs")
    assert ledger_items() == items


def _hold(client: Any, tenant: TenantCreds, member_id: str, order_id: str, points: int) -> Any:
    raw = json.dumps({"member_id": member_id, "order_id": order_id, "points": points}).encode()
    return client.http.post(f"/v1/tenants/{tenant.tenant_id}/holds", body=raw, headers=tenant.auth)


def test_one_open_hold_per_order_across_members(client: Any, tenant: TenantCreds, frozen: Clock) -> None:
    # Given two members with points and an open hold of c1 on order o9
    send(client, tenant, paid_event("o0", "c1", total=200_000))
    send(client, tenant, paid_event("o1", "c2", total=200_000))
    first = place_hold(client, tenant, "o9", 40, "c1")
    items = ledger_items()
    # When another member asks for a hold on the same order, then it is refused and nothing is written
    assert_error(_hold(client, tenant, "c2", "o9", 40), 409, "hold_exists")
    assert ledger_items() == items
    # When the first hold is released, then the order is free for the other member at once
    api(client, tenant, f"/holds/{first['hold_id']}/release")
    second = place_hold(client, tenant, "o9", 30, "c2")
    assert second["member_id"] == "c2"
    # When that hold lapses (its TTL passed), then the first member may hold the order again
    frozen.advance(timedelta(minutes=16))
    assert place_hold(client, tenant, "o9", 20, "c1")["points"] == 20


def test_a_captured_order_takes_no_new_hold(client: Any, tenant: TenantCreds) -> None:
    # Given order o9 paid with c1's points (hold captured)
    send(client, tenant, paid_event("o0", "c1", total=200_000))
    send(client, tenant, paid_event("o1", "c2", total=200_000))
    hold = place_hold(client, tenant, "o9", 40, "c1")
    api(client, tenant, f"/holds/{hold['hold_id']}/capture", {"points": 40})
    items = ledger_items()
    # When either member asks for another hold on o9, then it is refused: the order's points were redeemed
    assert_error(_hold(client, tenant, "c1", "o9", 40), 409, "order_already_redeemed")
    assert_error(_hold(client, tenant, "c2", "o9", 10), 409, "order_already_redeemed")
    assert ledger_items() == items


def test_the_same_hold_request_again_answers_the_same_hold(client: Any, tenant: TenantCreds) -> None:
    # Given a hold of c1 on o9
    send(client, tenant, paid_event("o0", "c1", total=200_000))
    first = place_hold(client, tenant, "o9", 40, "c1")
    # When the checkout retries the same request, then it gets the same hold; other points are a conflict
    assert place_hold(client, tenant, "o9", 40, "c1")["hold_id"] == first["hold_id"]
    assert_error(_hold(client, tenant, "c1", "o9", 41), 409, "hold_exists")


def test_a_paid_order_that_captures_its_hold_ends_the_checkout(client: Any, tenant: TenantCreds) -> None:
    # Given a hold of c1 on o9, captured by the paid order itself
    send(client, tenant, paid_event("o0", "c1", total=200_000))
    send(client, tenant, paid_event("o1", "c2", total=200_000))
    hold = place_hold(client, tenant, "o9", 40, "c1")
    send(client, tenant, paid_event("o9", "c1", total=100_000, hold_id=hold["hold_id"], points_redeemed=40))
    # When another member asks for a hold on o9, then it is refused: its points were redeemed
    assert_error(_hold(client, tenant, "c2", "o9", 10), 409, "order_already_redeemed")
