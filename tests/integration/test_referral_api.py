"""Referral through HTTP (issue 5 item 8, docs/spec.md §8): a new customer's first paid order with a code earns both, once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared import clock
from tests.conftest import TenantCreds, body, make_tenant, paid_event, post_webhook
from tests.integration.conftest import Clock
from tests.integration.support import history, ledger_items, member
from tests.integration.test_transfers_api import enrol

# 5% of 100 000 minor at 100 minor a point: each order below earns 50 points before any referral bonus
REFERRAL = {"referrer_points": 100, "referee_points": 30}


@pytest.fixture
def shop(aws: None) -> TenantCreds:
    return make_tenant("shop", referral={**REFERRAL, "pending_days": 0}, lifetime_days=200)


def pay(client: Any, creds: TenantCreds, clock_: Clock, order_id: str, member_id: str, code: str | None = None) -> Any:
    customer: dict[str, Any] = {"id": member_id} | ({"referral_code": code} if code is not None else {})
    event = paid_event(order_id, member_id, paid_at=clock_.now, customer=customer)
    response = post_webhook(client, creds, event, ts=clock_.ts)
    assert response.status_code == 200, response.body
    return body(response)


def paid_details(client: Any, creds: TenantCreds, member_id: str, order_id: str) -> dict[str, Any]:
    return next(e["details"] for e in history(client, creds, member_id) if e["entry"] == f"ORDER#{order_id}/PAID")


def test_the_first_paid_order_with_a_code_rewards_referee_and_referrer_once(
    client: Any, shop: TenantCreds, frozen: Clock
) -> None:
    # Given alice, a customer with 50 points, whose member view shows her referral code
    pay(client, shop, frozen, "a1", "alice")
    code = member(client, shop, "alice")["referral_code"]
    assert isinstance(code, str) and len(code) == 10
    # When bob's first order carries her code (typed in lower case)
    frozen.advance(timedelta(days=1))
    pay(client, shop, frozen, "b1", "bob", code.lower())
    # Then bob has his order's 50 and a 30-point referral lot; alice her 50 and a 100-point referral lot
    expires = clock.iso(frozen.now + timedelta(days=200))
    bob, alice = member(client, shop, "bob"), member(client, shop, "alice")
    assert (bob["available"], alice["available"]) == (80, 150)
    assert (30, "referral", expires) in [(lot["points"], lot["source"], lot["expires_at"]) for lot in bob["lots"]]
    assert (100, "referral", expires) in [(lot["points"], lot["source"], lot["expires_at"]) for lot in alice["lots"]]
    # And each history shows the referral; the order's PAID entry records it
    assert [(e["kind"], e["delta"], e["entry"]) for e in history(client, shop, "bob")[:2]] == [
        ("referral", 30, "ORDER#b1/REFERRAL#REFEREE"),
        ("earn", 50, "ORDER#b1/PAID"),
    ]
    latest = history(client, shop, "alice")[0]
    assert (latest["kind"], latest["delta"], latest["details"]["referee_id"]) == ("referral", 100, "bob")
    assert paid_details(client, shop, "bob", "b1")["referral"] == {
        "code": code.lower(),
        "referrer_id": "alice",
        **REFERRAL,
    }
    # When the first order is delivered again, then it is a duplicate and not one item changes
    before = ledger_items()
    frozen.advance(timedelta(minutes=1))
    assert pay(client, shop, frozen, "b1", "bob", code)["status"] == "duplicate"
    assert ledger_items() == before
    # When bob's second order carries the code again, then it earns its 50 and nobody gets a referral
    pay(client, shop, frozen, "b2", "bob", code)
    assert (member(client, shop, "bob")["available"], member(client, shop, "alice")["available"]) == (130, 150)
    assert paid_details(client, shop, "bob", "b2")["referral"] == {"code": code, "ignored": "not_first_order"}


def test_a_member_cannot_refer_themselves(client: Any, shop: TenantCreds, frozen: Clock) -> None:
    # Given carol, enrolled with a profile only (no order yet), and her own code
    enrol(client, shop, "carol")
    code = member(client, shop, "carol")["referral_code"]
    # When her first order carries her own code
    result = pay(client, shop, frozen, "c1", "carol", code)
    # Then the order earns normally and the code is recorded as ignored
    assert (result["status"], result["points_earned"]) == ("applied", 50)
    assert member(client, shop, "carol")["available"] == 50
    assert paid_details(client, shop, "carol", "c1")["referral"] == {"code": code, "ignored": "self_referral"}


@pytest.mark.parametrize("code", ["ZZZZZZZZZZ", "not a code!"])
def test_an_unknown_code_never_fails_the_order(client: Any, shop: TenantCreds, frozen: Clock, code: str) -> None:
    # Given a member with a code, and a new customer
    pay(client, shop, frozen, "a1", "alice")
    # When the new customer's first order carries a code nobody has
    result = pay(client, shop, frozen, "d1", "dave", code)
    # Then the order earns normally, nobody gets a referral, and the PAID entry says why
    assert (result["status"], result["points_earned"]) == ("applied", 50)
    assert (member(client, shop, "dave")["available"], member(client, shop, "alice")["available"]) == (50, 50)
    assert paid_details(client, shop, "dave", "d1")["referral"] == {"code": code, "ignored": "unknown_code"}


def test_a_code_is_ignored_when_the_program_has_no_referral(client: Any, tenant: TenantCreds, frozen: Clock) -> None:
    # Given a tenant without a referral setting and a member's code
    pay(client, tenant, frozen, "a1", "alice")
    code = member(client, tenant, "alice")["referral_code"]
    # When a first order carries it, then the order earns normally and only the order's points move
    pay(client, tenant, frozen, "e1", "erin", code)
    assert (member(client, tenant, "erin")["available"], member(client, tenant, "alice")["available"]) == (50, 50)
    assert paid_details(client, tenant, "erin", "e1")["referral"]["ignored"] == "no_referral_program"


def test_the_answer_to_a_referred_order_is_the_balance_the_view_shows(
    client: Any, shop: TenantCreds, frozen: Clock
) -> None:
    # Given alice with 50 points and her code
    pay(client, shop, frozen, "a1", "alice")
    code = member(client, shop, "alice")["referral_code"]
    # When bob's first order carries it, then the answer's balance includes his referral lot, like his view
    answer = pay(client, shop, frozen, "b1", "bob", code)
    assert (answer["points_earned"], answer["balance"], member(client, shop, "bob")["balance"]) == (50, 80, 80)
    # And a duplicate answers the same
    assert (pay(client, shop, frozen, "b1", "bob", code)["status"], answer["balance"]) == ("duplicate", 80)
    # When carol's first order carrying the code was paid 300 days ago (lots live 200 days), every lot of that
    # write is born expired: her 50 + 30 and alice's 100 leave at once (alice keeps her 50 + bob's 100)
    customer = {"id": "carol", "referral_code": code}
    late = paid_event("c1", "carol", paid_at=frozen.now - timedelta(days=300), customer=customer)
    response = post_webhook(client, shop, late, ts=frozen.ts)
    assert response.status_code == 200, response.body
    assert (body(response)["points_earned"], body(response)["balance"]) == (50, 0)
    assert (member(client, shop, "carol")["balance"], member(client, shop, "alice")["balance"]) == (0, 150)
    assert [(e["kind"], e["delta"]) for e in history(client, shop, "carol")] == [
        ("expire", -80),
        ("referral", 30),
        ("earn", 50),
    ]
    assert [(e["kind"], e["delta"], e["balance_after"]) for e in history(client, shop, "alice")[:2]] == [
        ("expire", -100, 150),
        ("referral", 100, 250),
    ]
