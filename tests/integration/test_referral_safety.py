"""Referral farming (issue 13 item 1): a referral pays only for a real, kept first order of another person."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import TenantCreds, body, cancel_event, make_tenant, paid_event, post_webhook, refund_event
from tests.integration.conftest import Clock
from tests.integration.support import history, member
from tests.integration.test_referral_api import REFERRAL, paid_details

DAY = timedelta(days=1)


@pytest.fixture
def shop(aws: None) -> TenantCreds:
    return make_tenant("shop", referral={**REFERRAL, "pending_days": 0, "max_per_month": 2}, lifetime_days=200)


def pay(client: Any, creds: TenantCreds, clock_: Clock, order_id: str, customer: dict[str, Any], **data: Any) -> Any:
    event = paid_event(order_id, customer["id"], paid_at=clock_.now, customer=customer, **data)
    return deliver(client, creds, clock_, event)


def deliver(client: Any, creds: TenantCreds, clock_: Clock, event: dict[str, Any]) -> Any:
    response = post_webhook(client, creds, event, ts=clock_.ts)
    assert response.status_code == 200, response.body
    return body(response)


def alice_code(client: Any, shop: TenantCreds, frozen: Clock) -> str:
    pay(client, shop, frozen, "a1", {"id": "alice", "email": "Alice@Example.com", "phone": "+79991234567"})
    return str(member(client, shop, "alice")["referral_code"])


def test_cancelling_the_first_order_takes_both_referral_bonuses_back(
    client: Any, shop: TenantCreds, frozen: Clock
) -> None:
    # Given bob's first order carried alice's code: bob 50 + 30, alice 50 + 100
    code = alice_code(client, shop, frozen)
    pay(client, shop, frozen, "b1", {"id": "bob", "referral_code": code})
    assert (member(client, shop, "bob")["balance"], member(client, shop, "alice")["balance"]) == (80, 150)
    # When bob's order is cancelled
    deliver(client, shop, frozen, cancel_event("b1"))
    # Then bob keeps nothing and alice only her own order's 50; each history shows the referral reversed
    assert (member(client, shop, "bob")["balance"], member(client, shop, "alice")["balance"]) == (0, 50)
    assert ("reverse", -100) in [(e["kind"], e["delta"]) for e in history(client, shop, "alice")]
    assert ("reverse", -30) in [(e["kind"], e["delta"]) for e in history(client, shop, "bob")]
    # And a second cancellation changes nothing
    deliver(client, shop, frozen, cancel_event("b1"))
    assert member(client, shop, "alice")["balance"] == 50


def test_a_spent_referral_bonus_becomes_debt_when_the_order_is_refunded_in_full(
    client: Any, shop: TenantCreds, frozen: Clock
) -> None:
    # Given alice's 150 points (50 + a 100-point referral); she spends 120 on an order of 240.00 that earns 6
    code = alice_code(client, shop, frozen)
    pay(client, shop, frozen, "b1", {"id": "bob", "referral_code": code})
    pay(client, shop, frozen, "a2", {"id": "alice"}, total=24_000, points_redeemed=120)
    assert member(client, shop, "alice")["available"] == 36
    # When bob's order is refunded in full
    deliver(client, shop, frozen, refund_event("b1", "r1", 100_000))
    # Then the 100 referral points are taken back: the 36 she has, and 64 as debt
    view = member(client, shop, "alice")
    assert (view["balance"], view["debt"]) == (-64, 64)


def test_a_partial_refund_keeps_the_referral(client: Any, shop: TenantCreds, frozen: Clock) -> None:
    code = alice_code(client, shop, frozen)
    pay(client, shop, frozen, "b1", {"id": "bob", "referral_code": code})
    deliver(client, shop, frozen, refund_event("b1", "r1", 10_000))
    assert member(client, shop, "alice")["balance"] == 150


def test_a_code_of_someone_with_the_same_email_or_phone_is_self_referral(
    client: Any, shop: TenantCreds, frozen: Clock
) -> None:
    # Given alice's code; when new member ids with her e-mail (other case) or her phone use it
    code = alice_code(client, shop, frozen)
    pay(client, shop, frozen, "x1", {"id": "alt1", "email": "alice@EXAMPLE.com", "referral_code": code})
    pay(client, shop, frozen, "x2", {"id": "alt2", "phone": "+79991234567", "referral_code": code})
    # Then neither earns a referral and alice earns nothing from them
    for alt, order in (("alt1", "x1"), ("alt2", "x2")):
        assert paid_details(client, shop, alt, order)["referral"] == {"code": code, "ignored": "self_referral"}
    assert member(client, shop, "alice")["balance"] == 50


def test_an_order_below_the_minimum_check_earns_no_referral(client: Any, frozen: Clock, aws: None) -> None:
    shop = make_tenant("shop", referral={**REFERRAL, "pending_days": 0}, min_check_minor=50_000)
    code = alice_code(client, shop, frozen)
    pay(client, shop, frozen, "b1", {"id": "bob", "referral_code": code}, total=100)
    assert paid_details(client, shop, "bob", "b1")["referral"] == {"code": code, "ignored": "below_min_check"}
    assert member(client, shop, "alice")["balance"] == 50


def test_a_referrer_earns_at_most_the_monthly_cap(client: Any, shop: TenantCreds, frozen: Clock) -> None:
    # Given a cap of 2 referrals a month: three new customers use alice's code in one month
    code = alice_code(client, shop, frozen)
    for name in ("b", "c", "d"):
        pay(client, shop, frozen, f"{name}1", {"id": name, "referral_code": code})
    # Then alice earns two referral bonuses; the third referee still gets their own
    assert member(client, shop, "alice")["balance"] == 50 + 2 * 100
    assert member(client, shop, "d")["balance"] == 80
    assert paid_details(client, shop, "d", "d1")["referral"]["referrer_points"] == 0
    # And in the next month she earns again
    frozen.advance(31 * DAY)
    pay(client, shop, frozen, "e1", {"id": "e", "referral_code": code})
    assert member(client, shop, "alice")["balance"] == 50 + 3 * 100


def test_referral_points_wait_for_the_return_window_by_default(client: Any, frozen: Clock, aws: None) -> None:
    # Given the default referral hold (14 days)
    shop = make_tenant("shop", referral=REFERRAL)
    code = alice_code(client, shop, frozen)
    pay(client, shop, frozen, "b1", {"id": "bob", "referral_code": code})
    # Then both referral lots are pending for 14 days, the orders' own points are not
    assert (member(client, shop, "alice")["available"], member(client, shop, "alice")["pending"]) == (50, 100)
    assert (member(client, shop, "bob")["available"], member(client, shop, "bob")["pending"]) == (50, 30)
    frozen.advance(14 * DAY)
    assert member(client, shop, "alice")["available"] == 150
