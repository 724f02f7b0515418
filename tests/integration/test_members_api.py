"""Member API through HTTP (docs/spec.md §6): view with every lot, history paging, look-up by contact, contact update."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from shared import clock
from shared.container import container
from shared.records import Commit, Profile
from tests.conftest import TenantCreds, body, paid_event, post_webhook
from tests.integration.conftest import Clock
from tests.integration.support import assert_error, history, ledger_items, member

DAY = timedelta(days=1)


def send(client: Any, creds: TenantCreds, event: dict[str, Any]) -> dict[str, Any]:
    response = post_webhook(client, creds, event, ts=int(clock.now().timestamp()))
    assert response.status_code == 200, response.body
    return dict(body(response))


def get(client: Any, creds: TenantCreds, path: str, **query: Any) -> Any:
    suffix = f"?{urlencode(query)}" if query else ""
    return client.http.get(f"/v1/tenants/{creds.tenant_id}{path}{suffix}", headers=creds.auth)


def put(client: Any, creds: TenantCreds, path: str, payload: Any) -> Any:
    return client.http.put(f"/v1/tenants/{creds.tenant_id}{path}", body=json.dumps(payload), headers=creds.auth)


def test_member_view_lists_every_lot_soonest_expiring_first(client: Any, tenant: TenantCreds, frozen: Clock) -> None:
    # Given o1 (day 0, lots live 365 days) earning 100, then lifetime cut to 30 days and o2 (day 1) earning 50
    send(client, tenant, paid_event("o1", total=200_000))
    t1 = frozen.now
    assert put(client, tenant, "/program", {"lifetime_days": 30}).status_code == 200
    frozen.advance(DAY)
    send(client, tenant, paid_event("o2", total=100_000))
    t2 = frozen.now
    # And 30 points held for o3
    hold = {"member_id": "c1", "order_id": "o3", "points": 30}
    created = client.http.post(f"/v1/tenants/{tenant.tenant_id}/holds", body=json.dumps(hold), headers=tenant.auth)
    assert created.status_code == 201
    # When the member is viewed
    view = member(client, tenant)
    # Then the balances and lifetime spend are reported
    assert {k: view[k] for k in ("member_id", "available", "pending", "held", "debt", "lifetime_spend_minor")} == {
        "member_id": "c1",
        "available": 120,
        "pending": 0,
        "held": 30,
        "debt": 0,
        "lifetime_spend_minor": 300_000,
    }
    # And every lot is listed, o2's (expiring day 31) before o1's (day 365), with all its dates
    lots = [
        {k: lot[k] for k in ("points", "remaining", "source", "earned_at", "available_at", "expires_at")}
        for lot in view["lots"]
    ]
    assert lots == [
        {
            "points": 50,
            "remaining": 50,
            "source": "order",
            "earned_at": clock.iso(t2),
            "available_at": clock.iso(t2),
            "expires_at": clock.iso(t2 + 30 * DAY),
        },
        {
            "points": 100,
            "remaining": 100,
            "source": "order",
            "earned_at": clock.iso(t1),
            "available_at": clock.iso(t1),
            "expires_at": clock.iso(t1 + 365 * DAY),
        },
    ]


def test_spending_shows_in_the_lots_remaining(client: Any, tenant: TenantCreds) -> None:
    # Given two lots of 100 and 50, when 120 points are spent on an order
    send(client, tenant, paid_event("o1", total=200_000))
    send(client, tenant, paid_event("o2", total=100_000))
    send(client, tenant, paid_event("o3", total=1_000_000, points_redeemed=120))
    # Then the soonest-expiring lot (o1's) was used up first and o2's kept 30, plus o3's new lot
    lots = member(client, tenant)["lots"]
    assert [(lot["points"], lot["remaining"]) for lot in lots] == [(50, 30), (494, 494)]


def test_history_is_newest_first_and_paged_with_a_cursor(client: Any, tenant: TenantCreds) -> None:
    # Given five paid orders (five entries)
    for n in range(1, 6):
        send(client, tenant, paid_event(f"o{n}", total=2_000 * n))
    # When the history is read two entries at a time
    pages, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = get(client, tenant, "/members/c1/history", **query)
        assert response.status_code == 200, response.body
        page = body(response)
        pages.append([(e["reference"], e["kind"], e["delta"], e["balance_after"]) for e in page["entries"]])
        cursor = page["next_cursor"]
        if not cursor:
            break
    # Then the pages hold every entry once, newest first, with the running balance
    entries = [e for p in pages for e in p]
    assert entries == [
        ("o5", "earn", 5, 15),
        ("o4", "earn", 4, 10),
        ("o3", "earn", 3, 6),
        ("o2", "earn", 2, 3),
        ("o1", "earn", 1, 1),
    ]
    assert all(len(p) <= 2 for p in pages) and len(pages) >= 3
    # And each entry says what it did
    newest = body(get(client, tenant, "/members/c1/history", limit=1))["entries"][0]
    assert newest["details"]["order_id"] == "o5" and newest["lots"][0]["change"] == 5


def test_cursor_of_another_member_is_rejected(client: Any, tenant: TenantCreds) -> None:
    # Given two members with three entries each, and a cursor issued for c2
    for n in range(3):
        send(client, tenant, paid_event(f"a{n}", "c1", total=10_000))
        send(client, tenant, paid_event(f"b{n}", "c2", total=10_000))
    cursor = body(get(client, tenant, "/members/c2/history", limit=1))["next_cursor"]
    assert cursor
    # When c1's history is read with c2's cursor, or with a garbage cursor
    foreign = get(client, tenant, "/members/c1/history", limit=1, cursor=cursor)
    garbage = get(client, tenant, "/members/c1/history", limit=1, cursor="not-a-cursor")
    # Then both are 400 invalid_cursor
    assert_error(foreign, 400, "invalid_cursor")
    assert_error(garbage, 400, "invalid_cursor")


@pytest.mark.parametrize("limit", [0, -1, 101, "ten"])
def test_history_limit_out_of_range_is_422(client: Any, tenant: TenantCreds, limit: Any) -> None:
    # Given a member, when the history is asked for a bad page size, then 422 naming limit
    send(client, tenant, paid_event("o1"))
    error = assert_error(get(client, tenant, "/members/c1/history", limit=limit), 422, "validation_error")
    assert "limit" in error["message"]


def test_member_found_by_email_case_insensitively_and_by_e164_phone(client: Any, tenant: TenantCreds) -> None:
    # Given orders whose customers carry contact data in various spellings
    customer = {"id": "c1", "email": "Ann.Lee@Example.COM", "phone": "+7 (999) 123-45-67", "name": "Ann"}
    send(client, tenant, {**paid_event("o1"), "data": {**paid_event("o1")["data"], "customer": customer}})
    send(client, tenant, paid_event("o2", "c2"))
    # When looked up by e-mail in any case, or by phone in E.164 or another international spelling
    queries = [
        {"email": "ann.lee@example.com"},
        {"email": "ANN.LEE@EXAMPLE.COM"},
        {"phone": "+79991234567"},
        {"phone": "+7 999 123 45 67"},
    ]
    for query in queries:
        response = get(client, tenant, "/members", **query)
        # Then the member is found
        assert response.status_code == 200, response.body
        assert body(response) == {"members": [{"member_id": "c1"}]}, query
    # And the stored contact is normalised
    view = member(client, tenant)
    assert (view["email"], view["phone"], view["name"]) == ("ann.lee@example.com", "+79991234567", "Ann")
    # And an unknown contact finds nobody
    assert body(get(client, tenant, "/members", email="nobody@example.com")) == {"members": []}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({}, "validation_error"),
        ({"email": "a@example.com", "phone": "+79991234567"}, "validation_error"),
        ({"phone": "89991234567"}, "invalid_phone"),
        ({"email": "not-an-email"}, "invalid_email"),
    ],
)
def test_look_up_needs_exactly_one_valid_contact(
    client: Any, tenant: TenantCreds, query: dict[str, str], code: str
) -> None:
    # Given a look-up with no contact, both, or an invalid one, then 422 with the code
    assert_error(get(client, tenant, "/members", **query), 422, code)


def test_put_member_updates_contact_and_consent(client: Any, tenant: TenantCreds) -> None:
    # Given a member with an e-mail from an order
    customer = {"id": "c1", "email": "old@example.com"}
    send(client, tenant, {**paid_event("o1"), "data": {**paid_event("o1")["data"], "customer": customer}})
    # When the merchant updates the contact data and withdraws SMS consent
    update = {
        "email": "New@Example.com",
        "phone": "+1 415 555 0123",
        "name": "Ann Lee",
        "birthday": "1990-02-28",
        "consent": {"sms": False},
    }
    response = put(client, tenant, "/members/c1", update)
    # Then the answer and the member view carry the normalised data and per-channel consent
    assert response.status_code == 200, response.body
    expected = {
        "email": "new@example.com",
        "phone": "+14155550123",
        "name": "Ann Lee",
        "birthday": "1990-02-28",
        "consent": {"email": True, "sms": False, "call": True},
    }
    assert {k: body(response)[k] for k in expected} == expected
    view = member(client, tenant)
    assert {k: view[k] for k in expected} == expected
    assert view["available"] == 50  # the balance is untouched
    # And the look-up follows the new e-mail, not the old one
    assert body(get(client, tenant, "/members", email="new@example.com")) == {"members": [{"member_id": "c1"}]}
    assert body(get(client, tenant, "/members", email="old@example.com")) == {"members": []}
    # When only consent changes, the other fields stay
    assert put(client, tenant, "/members/c1", {"consent": {"email": False}}).status_code == 200
    view = member(client, tenant)
    assert (view["email"], view["consent"]) == ("new@example.com", {"email": False, "sms": False, "call": True})


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"email": "not-an-email"}, "invalid_email"),
        ({"phone": "12"}, "invalid_phone"),
        ({"birthday": "1990-13-40"}, "validation_error"),
        ({"consent": {"sms": "no"}}, "validation_error"),
        ({"nickname": "x"}, "validation_error"),
        ({"name": ""}, "validation_error"),
    ],
)
def test_invalid_member_update_is_422_and_writes_nothing(
    client: Any, tenant: TenantCreds, payload: dict[str, Any], code: str
) -> None:
    # Given a member, when an update carries an invalid value
    send(client, tenant, paid_event("o1"))
    before = ledger_items()
    response = put(client, tenant, "/members/c1", payload)
    # Then it is a 422 with the code and nothing changed
    assert_error(response, 422, code)
    assert ledger_items() == before


def test_history_of_a_member_holds_every_movement_kind(client: Any, tenant: TenantCreds) -> None:
    # Given an order earning 100, an order redeeming 40, and a refund of half the first
    send(client, tenant, paid_event("o1", total=200_000))
    send(client, tenant, paid_event("o2", total=10_000, points_redeemed=40))
    from tests.conftest import refund_event

    send(client, tenant, refund_event("o1", "r1", 100_000))
    # Then the history sums to the balance and each entry's balance_after is the running sum
    entries = list(reversed(history(client, tenant)))
    running = 0
    for entry in entries:
        running += entry["delta"]
        assert entry["balance_after"] == running
    assert running == member(client, tenant)["balance"] == 100 - 40 + 3 - 50
    assert [e["kind"] for e in entries] == ["earn", "redeem", "earn", "reverse"]


def with_customer(order_id: str, **customer: Any) -> dict[str, Any]:
    event = paid_event(order_id)
    return {**event, "data": {**event["data"], "customer": {"id": "c1", **customer}}}


def test_consent_opt_out_between_an_orders_read_and_its_commit_stays_off(
    client: Any, tenant: TenantCreds, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given c1 with an e-mail from an order, all consent on
    send(client, tenant, with_customer("o1", email="ann@example.com"))
    # And a store that runs the merchant's opt-out (e-mail and SMS off) after the next order read the member
    store = container().orders.store
    commit, raced = store.commit, []

    def racing_commit(tenant_id: str, change: Commit) -> None:
        if not raced:
            raced.append(put(client, tenant, "/members/c1", {"consent": {"email": False, "sms": False}}))
        commit(tenant_id, change)

    monkeypatch.setattr(store, "commit", racing_commit)
    # When an order carrying the customer's name and phone is paid in that window
    send(client, tenant, with_customer("o2", name="Ann Lee", phone="+1 415 555 0123"))
    # Then the opt-out went through first, and the order's contact data is stored beside it
    assert raced[0].status_code == 200, raced[0].body
    view = member(client, tenant)
    assert (view["email"], view["name"], view["phone"]) == ("ann@example.com", "Ann Lee", "+14155550123")
    # And consent stays off: the order wrote only the fields it carries
    assert view["consent"] == {"email": False, "sms": False, "call": True}


def test_contact_update_does_not_undo_an_order_written_between_its_read_and_its_write(
    client: Any, tenant: TenantCreds, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given c1 with an e-mail from an order
    send(client, tenant, with_customer("o1", email="old@example.com"))
    # And a store that lets an order with a new e-mail land just before the merchant's update is written
    store = container().members.store
    save, raced = store.save_profile, []

    def racing_save(tenant_id: str, profile: Profile) -> None:
        if not raced:
            raced.append(send(client, tenant, with_customer("o2", email="new@example.com")))
        save(tenant_id, profile)

    monkeypatch.setattr(store, "save_profile", racing_save)
    # When the merchant turns SMS consent off and sets the name
    response = put(client, tenant, "/members/c1", {"consent": {"sms": False}, "name": "Ann Lee"})
    # Then the update answers what is stored: the order's new e-mail, its own name and consent
    assert response.status_code == 200, response.body
    assert raced[0]["status"] == "applied"
    expected = {"email": "new@example.com", "name": "Ann Lee", "consent": {"email": True, "sms": False, "call": True}}
    assert {k: body(response)[k] for k in expected} == expected
    # And the member keeps the order's e-mail: the update wrote only its own fields
    view = member(client, tenant)
    assert {k: view[k] for k in expected} == expected
    assert body(get(client, tenant, "/members", email="new@example.com")) == {"members": [{"member_id": "c1"}]}
