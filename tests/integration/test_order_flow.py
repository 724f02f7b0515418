"""Order events and checkout through HTTP (docs/spec.md §2-§5): earning, replays, holds, refunds, cancellations, time."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from shared import clock
from tests.conftest import (
    TenantCreds,
    body,
    cancel_event,
    make_tenant,
    paid_event,
    post_webhook,
    refund_event,
)
from tests.integration.conftest import Clock
from tests.integration.support import assert_error, history, ledger_items, member

DAY = timedelta(days=1)


def send(client: Any, creds: TenantCreds, event: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """Deliver a signed event (fresh for the injected clock) and expect a 200."""
    response = post_webhook(client, creds, event, ts=int(clock.now().timestamp()), **kw)
    assert response.status_code == 200, response.body
    return dict(body(response))


def api(client: Any, creds: TenantCreds, path: str, payload: Any = None, status: int = 200) -> dict[str, Any]:
    raw = b"" if payload is None else json.dumps(payload).encode()
    response = client.http.post(f"/v1/tenants/{creds.tenant_id}{path}", body=raw, headers=creds.auth)
    assert response.status_code == status, response.body
    return dict(body(response))


def place_hold(client: Any, creds: TenantCreds, order_id: str, points: int, member_id: str = "c1") -> dict[str, Any]:
    return api(client, creds, "/holds", {"member_id": member_id, "order_id": order_id, "points": points}, 201)


# -- order.paid ------------------------------------------------------------------------------------


def test_worked_example_earns_117_and_redelivery_earns_nothing(client: Any, tenant: TenantCreds) -> None:
    # Given a member with 50 points (5 % of 100000, 100 minor per point)
    assert send(client, tenant, paid_event("o0", total=100_000))["points_earned"] == 50
    # When the docs/spec.md §2 order arrives: 250000 total, 10000 shipping, 50 points redeemed
    event = paid_event("o1", total=250_000, shipping_minor=10_000, points_redeemed=50)
    first = send(client, tenant, event, msg_id="msg_o1")
    # Then it earns 117 points and the balance is 50 - 50 + 117
    assert (first["status"], first["points_earned"], first["points_redeemed"], first["balance"]) == (
        "applied",
        117,
        50,
        117,
    )
    view, entries, items = member(client, tenant), history(client, tenant), ledger_items()
    assert (view["available"], view["lifetime_spend_minor"]) == (117, 100_000 + 245_000)
    # When the same delivery is retried, and the same order arrives under another event id
    again = send(client, tenant, event, msg_id="msg_o1")
    other_id = send(client, tenant, event, msg_id="msg_other")
    # Then both answer the first result as a duplicate and nothing changes
    for replay in (again, other_id):
        assert (replay["status"], replay["points_earned"], replay["points_redeemed"]) == ("duplicate", 117, 50)
    assert (member(client, tenant), history(client, tenant), ledger_items()) == (view, entries, items)
    # And the history holds one earn for o0, and one redeem plus one earn for o1
    assert sorted((e["reference"], e["kind"], e["delta"]) for e in entries) == [
        ("o0", "earn", 50),
        ("o1", "earn", 117),
        ("o1", "redeem", -50),
    ]


def test_order_below_one_point_is_recorded_with_zero_points(client: Any, tenant: TenantCreds) -> None:
    # Given an order of 1999 minor (0.9995 points), when paid
    result = send(client, tenant, paid_event("o1", total=1_999))
    # Then it earns 0 (rounded down) but is on record, so a replay is a duplicate
    assert (result["status"], result["points_earned"]) == ("applied", 0)
    assert send(client, tenant, paid_event("o1", total=1_999))["status"] == "duplicate"
    assert member(client, tenant)["lifetime_spend_minor"] == 1_999


def test_quote_then_order_paid_with_hold_id_captures_the_hold(client: Any, tenant: TenantCreds) -> None:
    # Given a member with 200 points
    send(client, tenant, paid_event("o0", total=400_000))
    # When a cart of 100000 is quoted
    quote = api(client, tenant, "/checkout/quote", {"member_id": "c1", "currency": "RUB", "total_minor": 100_000})
    # Then 200 are available, 200 usable (the 50 % cap is 500), worth 20000, and the cart earns 50
    assert {k: quote[k] for k in ("available", "max_redeemable_points", "max_discount_minor", "points_to_earn")} == {
        "available": 200,
        "max_redeemable_points": 200,
        "max_discount_minor": 20_000,
        "points_to_earn": 50,
    }
    # When 80 points are held for order o1
    hold = place_hold(client, tenant, "o1", 80)
    assert (hold["points"], hold["discount_minor"]) == (80, 8_000)
    assert hold["expires_at"] == clock.iso(clock.now() + timedelta(minutes=15))
    view = member(client, tenant)
    assert (view["available"], view["held"], view["balance"]) == (120, 80, 200)
    # When o1 is paid naming the hold
    paid = send(client, tenant, paid_event("o1", total=100_000, hold_id=hold["hold_id"]))
    # Then the hold's 80 points pay 8000 and the remaining 92000 earn 46
    assert (paid["points_redeemed"], paid["points_earned"]) == (80, 46)
    view = member(client, tenant)
    assert (view["available"], view["held"], view["balance"]) == (166, 0, 166)
    # And a later explicit capture of the same hold answers "captured" without spending again
    items = ledger_items()
    again = api(client, tenant, f"/holds/{hold['hold_id']}/capture")
    assert (again["status"], again["points"]) == ("captured", 80)
    assert ledger_items() == items


def test_capture_fewer_points_than_held_releases_the_rest(client: Any, tenant: TenantCreds) -> None:
    # Given 200 points with 80 held for o1
    send(client, tenant, paid_event("o0", total=400_000))
    hold = place_hold(client, tenant, "o1", 80)
    # When only 30 are captured
    captured = api(client, tenant, f"/holds/{hold['hold_id']}/capture", {"points": 30})
    # Then 30 are spent and nothing stays held
    assert (captured["status"], captured["points"], captured["discount_minor"]) == ("captured", 30, 3_000)
    view = member(client, tenant)
    assert (view["available"], view["held"], view["balance"]) == (170, 0, 170)
    # And the order paid later naming the hold carries the captured 30, not the 80 held
    paid = send(client, tenant, paid_event("o1", total=100_000, hold_id=hold["hold_id"]))
    assert (paid["points_redeemed"], paid["points_earned"]) == (30, 48)
    assert member(client, tenant)["balance"] == 170 + 48


def test_order_paid_with_fewer_points_than_its_hold_releases_the_rest(client: Any, tenant: TenantCreds) -> None:
    # Given 200 points with 80 held for o1
    send(client, tenant, paid_event("o0", total=400_000))
    hold = place_hold(client, tenant, "o1", 80)
    # When o1 is paid naming the hold but redeeming 30
    paid = send(client, tenant, paid_event("o1", total=100_000, hold_id=hold["hold_id"], points_redeemed=30))
    # Then 30 are redeemed and the other 50 are free again
    assert paid["points_redeemed"] == 30
    view = member(client, tenant)
    assert (view["held"], view["available"]) == (0, 200 - 30 + paid["points_earned"])


def test_hold_id_of_another_order_is_rejected(client: Any, tenant: TenantCreds) -> None:
    # Given a hold for o1
    send(client, tenant, paid_event("o0", total=400_000))
    hold = place_hold(client, tenant, "o1", 80)
    items = ledger_items()
    # When order o2 names it, then it is refused and nothing changes
    response = post_webhook(client, tenant, paid_event("o2", hold_id=hold["hold_id"]))
    assert_error(response, 422, "hold_mismatch")
    assert ledger_items() == items


def test_expired_hold_frees_its_points(client: Any, tenant: TenantCreds, frozen: Clock) -> None:
    # Given 100 points and a hold of 100
    send(client, tenant, paid_event("o0", total=200_000))
    place_hold(client, tenant, "o1", 100)
    assert member(client, tenant)["available"] == 0
    # When the hold's 15 minutes pass
    frozen.advance(timedelta(minutes=15, seconds=1))
    # Then the points are available again and can be held for another order
    assert (member(client, tenant)["available"], member(client, tenant)["held"]) == (100, 0)
    assert place_hold(client, tenant, "o2", 100)["points"] == 100


# -- refunds and cancellations ---------------------------------------------------------------------


def redeemed_order(client: Any, creds: TenantCreds, frozen: Clock) -> tuple[dict[str, Any], str]:
    """Day 0: o0 earns 100 points (lot expiring day 365). Day 10: o1 (100000) uses 50 of them through a hold
    and earns floor(95000 * 5 % / 100) = 47. Returns o1's result and the expiry of o0's lot."""
    send(client, creds, paid_event("o0", total=200_000))
    o0_expiry = member(client, creds)["lots"][0]["expires_at"]
    frozen.advance(10 * DAY)
    hold = place_hold(client, creds, "o1", 50)
    paid = send(client, creds, paid_event("o1", total=100_000, hold_id=hold["hold_id"]))
    assert (paid["points_redeemed"], paid["points_earned"], paid["balance"]) == (50, 47, 97)
    return paid, o0_expiry


def test_two_partial_refunds_reverse_everything_and_restore_with_original_expiry(
    client: Any, tenant: TenantCreds, frozen: Clock
) -> None:
    # Given o1: 95000 cash, 50 points redeemed from a lot expiring on day 365, 47 earned
    _, o0_expiry = redeemed_order(client, tenant, frozen)
    frozen.advance(10 * DAY)
    # When 40000 is refunded
    first = send(client, tenant, refund_event("o1", "r1", 40_000))
    # Then floor(47 * 40000/95000) = 19 are reversed and floor(50 * 40000/95000) = 21 restored
    assert (first["status"], first["points_reversed"], first["points_restored"]) == ("applied", 19, 21)
    # When the remaining 55000 is refunded
    second = send(client, tenant, refund_event("o1", "r2", 55_000))
    # Then all the rest comes back: 47 reversed and 50 restored in total
    assert (second["points_reversed"], second["points_restored"]) == (47 - 19, 50 - 21)
    view = member(client, tenant)
    assert (view["balance"], view["available"], view["debt"]) == (100, 100, 0)
    assert view["lifetime_spend_minor"] == 200_000
    # And the restored points keep the original expiry of the lot they were spent from
    restored = [lot for lot in view["lots"] if lot["source"] == "refund"]
    assert sum(lot["remaining"] for lot in restored) == 50
    assert {lot["expires_at"] for lot in restored} == {o0_expiry}
    # And a third refund exceeds the cash paid, while replaying r1 changes nothing
    items = ledger_items()
    assert_error(post_webhook(client, tenant, refund_event("o1", "r3", 1), ts=frozen.ts), 422, "refund_exceeds_paid")
    assert send(client, tenant, refund_event("o1", "r1", 40_000))["status"] == "duplicate"
    assert ledger_items() == items


def test_cancellation_after_a_partial_refund_takes_back_the_rest(
    client: Any, tenant: TenantCreds, frozen: Clock
) -> None:
    # Given o1 partly refunded (19 reversed, 21 restored)
    redeemed_order(client, tenant, frozen)
    send(client, tenant, refund_event("o1", "r1", 40_000))
    # When o1 is cancelled
    cancelled = send(client, tenant, cancel_event("o1"))
    # Then the rest is reversed and restored: the member is back to o0's 100 points
    assert (cancelled["points_reversed"], cancelled["points_restored"]) == (47 - 19, 50 - 21)
    view = member(client, tenant)
    assert (view["balance"], view["available"], view["lifetime_spend_minor"]) == (100, 100, 200_000)
    # And a later refund is acknowledged without effect, a repeated cancellation is a duplicate
    items = ledger_items()
    assert send(client, tenant, refund_event("o1", "r2", 1_000))["status"] == "ignored"
    assert send(client, tenant, cancel_event("o1"))["status"] == "duplicate"
    assert ledger_items() == items


def test_restored_points_get_grace_days_when_their_lot_has_expired(client: Any, aws: None, frozen: Clock) -> None:
    # Given lots living 30 days and restoration grace of 7 days; o0 earns 100 on day 0, o1 (day 5) uses 50
    creds = make_tenant("grace", lifetime_days=30, restore_grace_days=7)
    send(client, creds, paid_event("o0", total=200_000))
    frozen.advance(5 * DAY)
    paid = send(client, creds, paid_event("o1", total=100_000, points_redeemed=50))
    assert paid["points_earned"] == 47
    # When o1 is cancelled on day 32, after o0's lot expired (day 30) but before o1's own lot (day 35)
    frozen.advance(27 * DAY)
    cancelled = send(client, creds, cancel_event("o1"))
    assert (cancelled["points_reversed"], cancelled["points_restored"]) == (47, 50)
    # Then the 50 points come back expiring 7 days from now, and o1's 47 points are gone
    view = member(client, creds)
    restored = [lot for lot in view["lots"] if lot["source"] == "refund"]
    assert [(lot["remaining"], lot["expires_at"]) for lot in restored] == [(50, clock.iso(frozen.now + 7 * DAY))]
    assert (view["available"], view["debt"]) == (50, 0)


def test_reversal_of_an_order_whose_own_lot_expired_does_not_charge_twice(
    client: Any, aws: None, frozen: Clock
) -> None:
    # Given lots living 30 days, grace 7 days; o0 earns 100 on day 0; o1 (day 5) uses 50 and earns 47
    creds = make_tenant("expired", lifetime_days=30, restore_grace_days=7)
    send(client, creds, paid_event("o0", total=200_000))
    frozen.advance(5 * DAY)
    send(client, creds, paid_event("o1", total=100_000, points_redeemed=50))
    # When o1 is cancelled on day 40: o0's lot (day 30) and o1's own lot (day 35) have both expired
    frozen.advance(35 * DAY)
    assert member(client, creds)["available"] == 0
    send(client, creds, cancel_event("o1"))
    # Then the member gets the 50 spent points back (for 7 days); the 47 earned had expired with their lot,
    # so taking them back must not create a debt that eats the restored points
    view = member(client, creds)
    assert (view["available"], view["debt"]) == (50, 0)


def test_refund_of_spent_points_creates_debt_that_later_orders_pay(client: Any, tenant: TenantCreds) -> None:
    # Given 100 points earned by o0, all spent on o1 (which earns 45 more)
    send(client, tenant, paid_event("o0", total=200_000))
    paid = send(client, tenant, paid_event("o1", total=100_000, points_redeemed=100))
    assert (paid["points_earned"], paid["balance"]) == (45, 45)
    # When o0 is fully refunded, its 100 points are reversed: 45 from the lots, 55 as debt
    refunded = send(client, tenant, refund_event("o0", "r1", 200_000))
    assert (refunded["points_reversed"], refunded["balance"]) == (100, -55)
    view = member(client, tenant)
    assert (view["balance"], view["available"], view["debt"], view["lots"]) == (-55, -55, 55, [])
    # And nothing can be held while in debt
    assert_error(
        client.http.post(
            f"/v1/tenants/{tenant.tenant_id}/holds",
            body=json.dumps({"member_id": "c1", "order_id": "o3", "points": 1}),
            headers=tenant.auth,
        ),
        422,
        "insufficient_points",
    )
    # When o2 earns 100 points, 55 pay the debt first and 45 are left
    send(client, tenant, paid_event("o2", total=200_000))
    view = member(client, tenant)
    assert (view["balance"], view["available"], view["debt"]) == (45, 45, 0)
    assert [lot["remaining"] for lot in view["lots"]] == [45]
    # And the history records the debt taken and paid
    debt_changes = {(e["reference"], e["kind"]): e["debt_change"] for e in history(client, tenant)}
    assert (debt_changes[("o0", "reverse")], debt_changes[("o2", "earn")]) == (55, -55)


def test_cancellation_before_payment_blocks_the_late_order_paid(client: Any, tenant: TenantCreds) -> None:
    # Given an order cancelled before its payment was reported
    result = send(client, tenant, cancel_event("o5"))
    assert (result["status"], result.get("reason")) == ("applied", "cancelled_before_payment")
    # When the late order.paid arrives
    late = send(client, tenant, paid_event("o5", total=500_000))
    # Then it is ignored: the member earned nothing and does not even exist
    assert (late["status"], late.get("reason")) == ("ignored", "order_cancelled")
    response = client.http.get(f"/v1/tenants/{tenant.tenant_id}/members/c1", headers=tenant.auth)
    assert_error(response, 404, "member_not_found")
    assert history(client, tenant) == []


# -- pending points and expiry ----------------------------------------------------------------------


def test_pending_points_become_available_after_pending_days(client: Any, aws: None, frozen: Clock) -> None:
    # Given a program with 3 pending days
    creds = make_tenant("pending", pending_days=3)
    paid_at = frozen.now
    # When an order earns 100 points
    send(client, creds, paid_event("o1", total=200_000))
    # Then they are pending, not available, and cannot be held
    view = member(client, creds)
    assert (view["pending"], view["available"], view["balance"]) == (100, 0, 100)
    assert view["lots"][0]["available_at"] == clock.iso(paid_at + 3 * DAY)
    quote = api(client, creds, "/checkout/quote", {"member_id": "c1", "currency": "RUB", "total_minor": 100_000})
    assert (quote["available"], quote["max_redeemable_points"]) == (0, 0)
    # When one second before the end of the pending period, they are still pending
    frozen.advance(3 * DAY - timedelta(seconds=1))
    assert member(client, creds)["pending"] == 100
    # When the pending period ends, they are available
    frozen.advance(timedelta(seconds=1))
    view = member(client, creds)
    assert (view["pending"], view["available"]) == (0, 100)
    assert place_hold(client, creds, "o2", 100)["points"] == 100


def test_expired_lots_leave_the_available_balance_and_the_view(client: Any, aws: None, frozen: Clock) -> None:
    # Given a lot living 30 days and one living 60 (the program changed in between)
    creds = make_tenant("expiry", lifetime_days=30)
    send(client, creds, paid_event("o1", total=200_000))
    put = client.http.put(
        f"/v1/tenants/{creds.tenant_id}/program", body=json.dumps({"lifetime_days": 60}), headers=creds.auth
    )
    assert put.status_code == 200
    send(client, creds, paid_event("o2", total=100_000))
    assert member(client, creds)["available"] == 150
    # When day 30 comes
    frozen.advance(30 * DAY)
    # Then the first lot no longer counts nor shows, and the view's numbers agree with its lots
    view = member(client, creds)
    assert view["available"] == 50
    assert [lot["remaining"] for lot in view["lots"]] == [50]
    assert view["balance"] == sum(lot["remaining"] for lot in view["lots"]) - view["debt"]


# -- the answer's balance is the member view's (issue 12 item 8) -------------------------------------


def test_order_paid_longer_ago_than_the_lifetime_answers_the_balance_the_view_shows(
    client: Any, tenant: TenantCreds, frozen: Clock
) -> None:
    # Given a new member, and an order of 122000 (61 points at 5 %) reported 400 days after its payment: its
    # lot (365 days) is born expired
    event = paid_event("o1", total=122_000, paid_at=frozen.now - 400 * DAY)
    # When it arrives
    paid = send(client, tenant, event)
    # Then it earned 61 points, and the answer's balance is the view's: 0, the lot is past its expiry
    view = member(client, tenant)
    assert (paid["status"], paid["points_earned"], paid["balance"]) == ("applied", 61, 0)
    assert (view["balance"], view["available"], view["debt"], view["lots"]) == (0, 0, 0, [])
    assert view["lifetime_spend_minor"] == 122_000
    # And the history explains it: the earn, then its expiry in the same write, each balance_after following
    entries = history(client, tenant)
    assert [(e["kind"], e["delta"], e["balance_after"]) for e in entries] == [("expire", -61, 0), ("earn", 61, 61)]
    assert entries[0]["lots"] == [{**entries[1]["lots"][0], "change": -61}]
    # And the PAID entry records the balance answered (it differs from its own balance_after)
    assert (entries[1]["entry"], entries[1]["details"]["answered_balance"]) == ("ORDER#o1/PAID", 0)
    # When the order is delivered again, then the duplicate answers the first result and nothing changes
    items = ledger_items()
    again = send(client, tenant, event)
    assert (again["status"], again["points_earned"], again["balance"]) == ("duplicate", 61, 0)
    assert ledger_items() == items
    # And a cancellation takes nothing back: the member lost those points at once (no debt)
    cancelled = send(client, tenant, cancel_event("o1"))
    assert (cancelled["points_reversed"], cancelled["balance"]) == (0, 0)
    assert (member(client, tenant)["balance"], member(client, tenant)["debt"]) == (0, 0)


def test_born_expired_points_do_not_pay_a_debt(client: Any, tenant: TenantCreds, frozen: Clock) -> None:
    # Given a member in debt: o0's 100 points spent on o1 (which earns 45), then o0 refunded (45 taken, 55 owed)
    send(client, tenant, paid_event("o0", total=200_000))
    send(client, tenant, paid_event("o1", total=100_000, points_redeemed=100))
    assert send(client, tenant, refund_event("o0", "r1", 200_000))["balance"] == -55
    # When an order paid 400 days ago earns 61 points, whose lot is born expired
    paid = send(client, tenant, paid_event("o2", total=122_000, paid_at=frozen.now - 400 * DAY))
    # Then they pay nothing of the debt (they were worth nothing at arrival) and the answer is the view's
    view = member(client, tenant)
    assert (paid["points_earned"], paid["balance"]) == (61, -55)
    assert (view["balance"], view["debt"]) == (-55, 55)
    assert [(e["kind"], e["delta"], e["debt_change"]) for e in history(client, tenant)[:2]] == [
        ("expire", -61, 0),
        ("earn", 61, 0),
    ]


def test_late_order_capturing_a_hold_answers_the_balance_the_view_shows(
    client: Any, tenant: TenantCreds, frozen: Clock
) -> None:
    # Given 200 points with 80 held for o1
    send(client, tenant, paid_event("o0", total=400_000))
    hold = place_hold(client, tenant, "o1", 80)
    # When o1 is paid naming the hold, reported 400 days after its payment (its earned lot is born expired)
    event = paid_event("o1", total=100_000, hold_id=hold["hold_id"], paid_at=frozen.now - 400 * DAY)
    paid = send(client, tenant, event)
    # Then the hold's 80 are spent, the 46 earned are gone at once, and the answer is the view's 120
    view = member(client, tenant)
    assert (paid["points_redeemed"], paid["points_earned"], paid["balance"]) == (80, 46, 120)
    assert (view["balance"], view["available"], view["held"]) == (120, 120, 0)
    assert [(e["kind"], e["delta"]) for e in history(client, tenant)[:3]] == [
        ("expire", -46),
        ("earn", 46),
        ("redeem", -80),
    ]


def test_refund_restoring_points_with_no_grace_answers_the_balance_the_view_shows(
    client: Any, aws: None, frozen: Clock
) -> None:
    # Given lots living 30 days and no restoration grace; o0 earns 100 on day 0, o1 (day 5) uses 50, earns 47
    creds = make_tenant("nograce", lifetime_days=30, restore_grace_days=0)
    send(client, creds, paid_event("o0", total=200_000))
    frozen.advance(5 * DAY)
    send(client, creds, paid_event("o1", total=100_000, points_redeemed=50))
    # When o1 is cancelled on day 32: o0's lot has expired, so the 50 restored points expire at once
    frozen.advance(27 * DAY)
    cancelled = send(client, creds, cancel_event("o1"))
    # Then the answer's balance is the view's: o1's own 47 are reversed, the restored 50 are gone
    view = member(client, creds)
    assert (cancelled["points_reversed"], cancelled["points_restored"]) == (47, 50)
    assert (cancelled["balance"], view["balance"], view["debt"], view["lots"]) == (0, 0, 0, [])
    assert [(e["kind"], e["delta"]) for e in history(client, creds)[:3]] == [
        ("expire", -50),
        ("restore", 50),
        ("reverse", -47),
    ]
