"""Points transfers through HTTP (issue 5 item 9, docs/spec.md §8): atomic, expiry kept, idempotent, limited per month."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.clock import iso
from tests.conftest import TenantCreds, body, cancel_event, make_tenant, paid_event, post_webhook
from tests.integration.conftest import Clock
from tests.integration.support import assert_error, history, ledger_items, member

RETURN_WINDOW = timedelta(days=14)  # the default transfer.min_lot_age_days


@pytest.fixture
def shop(aws: None) -> TenantCreds:
    # 5% of 100 000 minor at 100 minor a point: each order below earns 50 points
    return make_tenant("shop", transfer={"enabled": True, "max_points_per_month": 0})


def earn(client: Any, creds: TenantCreds, clock: Clock, order_id: str, member_id: str) -> None:
    """A paid order earning 50 points, then the return window passes so the points may be sent."""
    pay(client, creds, clock, order_id, member_id)
    clock.advance(RETURN_WINDOW)


def pay(client: Any, creds: TenantCreds, clock: Clock, order_id: str, member_id: str) -> None:
    response = post_webhook(client, creds, paid_event(order_id, member_id, paid_at=clock.now), ts=clock.ts)
    assert response.status_code == 200, response.body


def enrol(client: Any, creds: TenantCreds, member_id: str) -> None:
    """A member with a profile but no points yet."""
    url = f"/v1/tenants/{creds.tenant_id}/members/{member_id}"
    response = client.http.put(url, body=json.dumps({"name": "Friend"}), headers=creds.auth)
    assert response.status_code == 200, response.body


def transfer(
    client: Any, creds: TenantCreds, points: int, tid: str = "t1", src: str = "alice", dst: str = "bob"
) -> Any:
    payload = {"transfer_id": tid, "from_member_id": src, "to_member_id": dst, "points": points}
    return client.http.post(f"/v1/tenants/{creds.tenant_id}/transfers", body=json.dumps(payload), headers=creds.auth)


def test_points_move_from_the_soonest_expiring_lots_and_keep_their_expiry(
    client: Any, shop: TenantCreds, frozen: Clock
) -> None:
    # Given alice has two lots of 50 points earned ten days apart (so with different expiry dates) and bob has none
    earn(client, shop, frozen, "o1", "alice")
    frozen.advance(timedelta(days=10))
    earn(client, shop, frozen, "o2", "alice")
    lots = member(client, shop, "alice")["lots"]
    enrol(client, shop, "bob")
    # When 70 points are transferred from alice to bob
    response = transfer(client, shop, 70)
    # Then 201: 50 came from the older lot and 20 from the newer, and they arrived with those expiry dates
    assert response.status_code == 201, response.body
    result = body(response)
    assert result["status"] == "applied"
    assert result["lots"] == [
        {"points": 50, "expires_at": lots[0]["expires_at"]},
        {"points": 20, "expires_at": lots[1]["expires_at"]},
    ]
    assert (result["from_balance"], result["to_balance"]) == (30, 70)
    # And both balances and bob's lots (source "transfer") say so
    alice, bob = member(client, shop, "alice"), member(client, shop, "bob")
    assert (alice["available"], bob["available"]) == (30, 70)
    assert [(lot["remaining"], lot["expires_at"]) for lot in alice["lots"]] == [(30, lots[1]["expires_at"])]
    assert [(lot["remaining"], lot["source"], lot["expires_at"]) for lot in bob["lots"]] == [
        (50, "transfer", lots[0]["expires_at"]),
        (20, "transfer", lots[1]["expires_at"]),
    ]
    # And each history shows its side of the one transfer
    sent, received = history(client, shop, "alice")[0], history(client, shop, "bob")[0]
    assert (sent["kind"], sent["delta"], sent["entry"]) == ("transfer_out", -70, "TRANSFER#t1/OUT")
    assert (received["kind"], received["delta"], received["entry"]) == ("transfer_in", 70, "TRANSFER#t1/IN")
    assert sent["details"]["to_member_id"] == "bob" and received["details"]["from_member_id"] == "alice"


def test_a_retry_with_the_same_transfer_id_changes_nothing_and_answers_the_first_result(
    client: Any, shop: TenantCreds, frozen: Clock
) -> None:
    # Given a transfer of 30 points that was applied
    earn(client, shop, frozen, "o1", "alice")
    enrol(client, shop, "bob")
    first = transfer(client, shop, 30)
    assert first.status_code == 201
    before = ledger_items()
    # When the same request is sent again later
    frozen.advance(timedelta(minutes=5))
    again = transfer(client, shop, 30)
    # Then 200 with the first result, marked duplicate, and not one item changed
    assert again.status_code == 200, again.body
    assert body(again) == {**body(first), "status": "duplicate"}
    assert ledger_items() == before
    # And the same id for a different transfer is a conflict
    assert_error(transfer(client, shop, 31), 409, "transfer_id_reused")


def test_the_monthly_limit_refuses_the_transfer_that_crosses_it_and_resets_next_month(
    client: Any, aws: None, frozen: Clock
) -> None:
    # Given a limit of 60 points a month, alice with 100 points (earned 1 and 15 November) and bob enrolled,
    # on 29 November tenant time
    creds = make_tenant("capped", timezone="Europe/Moscow", transfer={"enabled": True, "max_points_per_month": 60})
    frozen.now = datetime(2026, 11, 1, 12, tzinfo=UTC)
    earn(client, creds, frozen, "o1", "alice")
    earn(client, creds, frozen, "o2", "alice")
    assert frozen.now == datetime(2026, 11, 29, 12, tzinfo=UTC)
    enrol(client, creds, "bob")
    # When alice sends 40, then 30 in the same month
    assert transfer(client, creds, 40, "t1").status_code == 201
    refused = transfer(client, creds, 30, "t2")
    # Then the second is refused with the limit's code, and nothing moved
    assert_error(refused, 422, "transfer_limit_exceeded")
    assert member(client, creds, "alice")["available"] == 60
    # And the rest of the allowance (20) still goes through
    assert transfer(client, creds, 20, "t3").status_code == 201
    # When the month turns in tenant time (21:00 UTC on 30 Nov is 00:00 on 1 Dec in Moscow)
    frozen.now = datetime(2026, 11, 30, 21, tzinfo=UTC)
    # Then 30 more may go
    assert transfer(client, creds, 30, "t4").status_code == 201
    assert member(client, creds, "bob")["available"] == 90


def test_transfers_are_refused_when_the_program_does_not_enable_them(
    client: Any, tenant: TenantCreds, frozen: Clock
) -> None:
    # Given a tenant with the default program (transfers off) and two members
    earn(client, tenant, frozen, "o1", "alice")
    enrol(client, tenant, "bob")
    before = ledger_items()
    # When a transfer is asked, then 403 with a stable code and nothing written
    assert_error(transfer(client, tenant, 10), 403, "transfers_disabled")
    assert ledger_items() == before


@pytest.mark.parametrize(
    ("points", "src", "dst", "status", "code"),
    [
        (10, "alice", "alice", 422, "self_transfer"),
        (51, "alice", "bob", 422, "insufficient_points"),
        (10, "nobody", "bob", 404, "member_not_found"),
        (10, "alice", "nobody", 404, "recipient_not_found"),
        (0, "alice", "bob", 422, "validation_error"),
    ],
)
def test_a_refused_transfer_changes_nothing(
    client: Any, shop: TenantCreds, frozen: Clock, points: int, src: str, dst: str, status: int, code: str
) -> None:
    # Given alice with 50 points and bob enrolled
    earn(client, shop, frozen, "o1", "alice")
    enrol(client, shop, "bob")
    before = ledger_items()
    # When the transfer cannot be done, then the right error and not one item changed
    assert_error(transfer(client, shop, points, src=src, dst=dst), status, code)
    assert ledger_items() == before


def test_held_points_cannot_be_transferred(client: Any, shop: TenantCreds, frozen: Clock) -> None:
    # Given alice with 50 points, 40 of them held for a cart
    earn(client, shop, frozen, "o1", "alice")
    enrol(client, shop, "bob")
    hold = {"member_id": "alice", "order_id": "cart1", "points": 40}
    response = client.http.post(f"/v1/tenants/{shop.tenant_id}/holds", body=json.dumps(hold), headers=shop.auth)
    assert response.status_code == 201, response.body
    # When she tries to send 20, then only 10 are available
    assert_error(transfer(client, shop, 20), 422, "insufficient_points")
    assert transfer(client, shop, 10).status_code == 201


def test_points_of_an_order_still_in_its_return_window_cannot_be_sent(
    client: Any, shop: TenantCreds, frozen: Clock
) -> None:
    # Given alice earned 50 points by o1 today (the default return window is 14 days) and bob is enrolled
    pay(client, shop, frozen, "o1", "alice")
    enrol(client, shop, "bob")
    before = ledger_items()
    # When she sends the 50 points at once
    refused = transfer(client, shop, 50)
    # Then 422 with a stable code saying how much may be sent now, and not one item changed
    assert_error(refused, 422, "points_not_yet_transferable")
    assert body(refused)["error"]["details"] == {"transferable": 0, "min_lot_age_days": 14}
    assert ledger_items() == before
    # When o1 is then cancelled, alice owes nothing: the points were still there to take back
    cancelled = post_webhook(client, shop, cancel_event("o1"), ts=frozen.ts)
    assert cancelled.status_code == 200, cancelled.body
    alice = member(client, shop, "alice")
    assert (alice["balance"], alice["debt"]) == (0, 0)


def test_only_points_past_the_return_window_leave_and_the_rest_stay_for_a_cancellation(
    client: Any, shop: TenantCreds, frozen: Clock
) -> None:
    # Given alice with 50 points from o1 (15 days ago, lots live 365 days) and 50 from o2 (today, lots now live
    # 30 days, so o2's lot expires first), and bob enrolled
    pay(client, shop, frozen, "o1", "alice")
    frozen.advance(RETURN_WINDOW + timedelta(days=1))
    url = f"/v1/tenants/{shop.tenant_id}/program"
    assert client.http.put(url, body=json.dumps({"lifetime_days": 30}), headers=shop.auth).status_code == 200
    pay(client, shop, frozen, "o2", "alice")
    o2_expiry = frozen.now + timedelta(days=30)
    enrol(client, shop, "bob")
    # When she sends 60, then only 50 may go
    refused = transfer(client, shop, 60, "t1")
    assert_error(refused, 422, "points_not_yet_transferable")
    assert body(refused)["error"]["details"]["transferable"] == 50
    # And 50 go from o1's lot, though o2's lot expires sooner: o2's lot stays whole
    assert transfer(client, shop, 50, "t2").status_code == 201
    lots = member(client, shop, "alice")["lots"]
    assert [(lot["remaining"], lot["source"], lot["expires_at"]) for lot in lots] == [(50, "order", iso(o2_expiry))]
    # When o2 is cancelled, its own lot pays the reversal: no debt is left behind
    cancelled = post_webhook(client, shop, cancel_event("o2"), ts=frozen.ts)
    assert cancelled.status_code == 200, cancelled.body
    alice = member(client, shop, "alice")
    assert (alice["balance"], alice["debt"]) == (0, 0)
    # And once the window has passed, points of a later order may be sent
    pay(client, shop, frozen, "o3", "alice")
    frozen.advance(RETURN_WINDOW)
    assert transfer(client, shop, 50, "t3").status_code == 201


def test_a_program_may_shorten_the_return_window_of_transfers(client: Any, aws: None, frozen: Clock) -> None:
    # Given a program whose order points may be sent after 2 days, alice earning 50 and bob enrolled
    creds = make_tenant("quick", transfer={"enabled": True, "min_lot_age_days": 2})
    pay(client, creds, frozen, "o1", "alice")
    enrol(client, creds, "bob")
    # When she sends them a day later, then it is refused; two days later it goes through
    frozen.advance(timedelta(days=1))
    assert_error(transfer(client, creds, 50, "t1"), 422, "points_not_yet_transferable")
    frozen.advance(timedelta(days=1))
    assert transfer(client, creds, 50, "t2").status_code == 201
