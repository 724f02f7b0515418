"""Money safety (issue 13): points that must come back, and points that must not be kept, through HTTP."""

from __future__ import annotations

from typing import Any

from tests.conftest import TenantCreds, cancel_event, paid_event
from tests.integration.support import assert_error, history, member
from tests.integration.test_order_flow import api, place_hold, send


def test_points_captured_for_an_order_cancelled_before_payment_come_back(client: Any, tenant: TenantCreds) -> None:
    # Given a member with 100 points who holds them all for o1 and captures 60
    send(client, tenant, paid_event("o0", total=200_000))
    hold = place_hold(client, tenant, "o1", 100)
    api(client, tenant, f"/holds/{hold['hold_id']}/capture", {"points": 60})
    assert member(client, tenant)["available"] == 40
    # When o1 is cancelled before its payment was reported
    result = send(client, tenant, cancel_event("o1"))
    # Then the answer says so and the 60 points are given back in the same write
    assert (result["status"], result.get("reason"), result["points_restored"]) == (
        "applied",
        "cancelled_before_payment",
        60,
    )
    view = member(client, tenant)
    assert (view["available"], view["balance"], view["held"]) == (100, 100, 0)
    assert ("o1", "restore", 60) in {(e["reference"], e["kind"], e["delta"]) for e in history(client, tenant)}
    # And a second cancellation, or the late payment, changes nothing
    again = send(client, tenant, cancel_event("o1"))
    assert (again["status"], again.get("reason")) == ("ignored", "order_cancelled")
    late = send(client, tenant, paid_event("o1", total=100_000, hold_id=hold["hold_id"]))
    assert (late["status"], late.get("reason")) == ("ignored", "order_cancelled")
    assert member(client, tenant)["balance"] == 100


def test_an_order_paid_for_another_member_than_its_redemption_is_refused(client: Any, tenant: TenantCreds) -> None:
    # Given Alice captured 100 points for order X
    send(client, tenant, paid_event("o0", "alice", total=200_000))
    hold = place_hold(client, tenant, "X", 100, member_id="alice")
    api(client, tenant, f"/holds/{hold['hold_id']}/capture")
    # When order.paid X arrives for Bob, without the hold
    response = _post(client, tenant, paid_event("X", "bob", total=100_000))
    # Then it is refused with a stable code and Bob neither exists nor earned
    assert_error(response, 422, "redemption_of_another_member")
    missing = client.http.get(f"/v1/tenants/{tenant.tenant_id}/members/bob", headers=tenant.auth)
    assert missing.status_code == 404
    # And a cancellation of X gives Alice (not Bob) her 100 points back
    send(client, tenant, cancel_event("X"))
    assert member(client, tenant, "alice")["balance"] == 100


def _post(client: Any, creds: TenantCreds, event: dict[str, Any]) -> Any:
    from shared import clock
    from tests.conftest import post_webhook

    return post_webhook(client, creds, event, ts=int(clock.now().timestamp()))


def test_a_hold_cannot_be_captured_after_its_order_was_paid_or_cancelled(client: Any, tenant: TenantCreds) -> None:
    # Given 100 points, holds for o1 and o2, o1 paid without its hold and o2 cancelled before payment
    send(client, tenant, paid_event("o0", total=200_000))
    first, second = place_hold(client, tenant, "o1", 30), place_hold(client, tenant, "o2", 30)
    send(client, tenant, paid_event("o1", total=100_000))
    send(client, tenant, cancel_event("o2"))
    before = member(client, tenant)["balance"]
    # When either hold is captured, then it is a conflict and no point is spent on an order that will never pay
    for hold, code in ((first, "order_already_paid"), (second, "order_cancelled")):
        response = client.http.post(
            f"/v1/tenants/{tenant.tenant_id}/holds/{hold['hold_id']}/capture", body=b"", headers=tenant.auth
        )
        assert_error(response, 409, code)
    assert member(client, tenant)["balance"] == before
