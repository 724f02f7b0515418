"""A transfer to a friend from the customer cabinet through HTTP (issue 16 item 5): by the friend's phone, e-mail or
referral code, idempotent by the page's id, under the program's transfer rules, limited per hour."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.infra_messaging import create_messaging
from shared.container import container
from shared.referral import code_of
from tests.conftest import TenantCreds, body, make_tenant, paid_event, post_webhook
from tests.integration.conftest import Clock
from tests.integration.scheduled.conftest import SENDER, aws_client
from tests.integration.support import assert_error, ledger_items, member
from tests.integration.test_cabinet_api import PHONE, call, log_in
from tests.logs import captured_logs

FRIEND_PHONE, FRIEND_EMAIL = "+79990007001", "bob@example.com"
PAGE_ID = "5f0c3c3e-7a8b-4f7e-9a55-2a1f0e0d1c01"


def open_shop(client: Any, frozen: Clock, **program: Any) -> TenantCreds:
    """A shop where c1 (100 points) and the friend c2 (50 points) bought; transfers as ``program`` says."""
    create_messaging(aws_client, SENDER)
    creds = make_tenant("shop", cabinet={"sms_calling_codes": ["7"]}, **program)
    for order, member_id, total, contact in (
        ("o1", "c1", 200_000, {"phone": PHONE}),
        ("o2", "c2", 100_000, {"phone": FRIEND_PHONE, "email": FRIEND_EMAIL}),
    ):
        event = paid_event(order, total=total, customer={"id": member_id, **contact})
        assert post_webhook(client, creds, event, ts=frozen.ts).status_code == 200
    return creds


@pytest.fixture
def shop(aws: None, client: Any, frozen: Clock) -> TenantCreds:
    return open_shop(client, frozen, transfer={"enabled": True, "min_lot_age_days": 0})


def send(client: Any, cookie: str | None, to: str, points: int = 30, page_id: str = PAGE_ID) -> Any:
    return call(client, "post", "/me/transfers", {"transfer_id": page_id, "to": to, "points": points}, cookie=cookie)


def balances(client: Any, shop: TenantCreds) -> tuple[int, int]:
    return member(client, shop, "c1")["balance"], member(client, shop, "c2")["balance"]


def test_a_customer_sends_points_to_a_friend_by_phone_and_a_retry_moves_nothing(client: Any, shop: TenantCreds) -> None:
    # Given c1 logged in with 100 points and the friend c2 with 50
    cookie = log_in(client)
    assert balances(client, shop) == (100, 50)
    # When c1 sends 30 points to the friend's phone, written as people write it
    sent = send(client, cookie, "+7 999 000-70-01")
    # Then they moved, and the answer names the friend only masked, with c1's new balance
    assert sent.status_code == 201, sent.body
    assert body(sent) == {"status": "applied", "transfer_id": PAGE_ID, "points": 30, "to": "+7 *** *** 70 01",
                          "balance": 70}  # fmt: skip
    assert "c2" not in sent.body.decode() and sent.headers["Cache-Control"] == "no-store"
    assert balances(client, shop) == (70, 80)
    # When the page retries with the same id / Then it gets the first answer, 200, and nothing moves again
    again = send(client, cookie, "+79990007001")
    assert again.status_code == 200 and body(again) == {**body(sent), "status": "duplicate"}
    assert balances(client, shop) == (70, 80)
    # And the same id with other points is another transfer's id: refused, nothing moved
    assert_error(send(client, cookie, FRIEND_PHONE, points=31), 409, "transfer_id_reused")
    assert balances(client, shop) == (70, 80)


@pytest.mark.parametrize(
    ("to", "shown"), [(FRIEND_EMAIL.upper(), "b***@example.com"), ("referral", "code")], ids=["e-mail", "code"]
)
def test_the_friend_may_be_named_by_e_mail_or_referral_code(
    client: Any, shop: TenantCreds, to: str, shown: str
) -> None:
    code = code_of("shop", "c2")
    to, shown = (code.lower(), code) if to == "referral" else (to, shown)
    sent = send(client, log_in(client), to, points=10)
    assert (sent.status_code, body(sent)["to"], body(sent)["balance"]) == (201, shown, 90), sent.body
    assert balances(client, shop) == (90, 60)


def test_two_customers_with_the_same_page_id_make_two_transfers(client: Any, shop: TenantCreds) -> None:
    # Given c1 sent 10 points to c2 with an id / When c2 sends 10 back with the very same id
    assert send(client, log_in(client), FRIEND_PHONE, points=10).status_code == 201
    back = send(client, log_in(client, FRIEND_PHONE), PHONE, points=10)
    # Then it is c2's own transfer, not a replay of c1's
    assert back.status_code == 201, back.body
    assert balances(client, shop) == (100, 50)


def test_oneself_an_unknown_friend_and_a_shared_contact_are_refused_and_nothing_moves(
    client: Any, shop: TenantCreds
) -> None:
    cookie = log_in(client)
    # When c1 names themself, by phone or by their own code
    assert_error(send(client, cookie, PHONE), 422, "self_transfer")
    assert_error(send(client, cookie, code_of("shop", "c1")), 422, "self_transfer")
    # When c1 names nobody's phone, e-mail or code / Then one answer for all, naming nothing
    for nobody in ("+79990009999", "nobody@example.com", "0000000000"):
        assert_error(send(client, cookie, nobody), 404, "recipient_not_found")
    # And a phone two members share names no one: the same answer
    container().members.update_contact("shop", "c3", _contact(FRIEND_PHONE))
    assert_error(send(client, cookie, FRIEND_PHONE), 404, "recipient_not_found")
    assert balances(client, shop) == (100, 50)


def _contact(phone: str) -> Any:
    from shared.services.members import ContactUpdate

    return ContactUpdate(phone=phone)


def test_a_shop_without_transfers_refuses_before_looking_anyone_up(client: Any, aws: None, frozen: Clock) -> None:
    # Given a shop whose program does not allow transfers
    open_shop(client, frozen)
    cookie = log_in(client)
    before = ledger_items()
    # When c1 tries a known and an unknown friend / Then both get the service's answer, and nothing is written
    assert_error(send(client, cookie, FRIEND_PHONE), 403, "transfers_disabled")
    assert_error(send(client, cookie, "+79990009999"), 403, "transfers_disabled")
    assert ledger_items() == before


def test_guessing_contacts_is_limited_to_twenty_tries_an_hour(client: Any, shop: TenantCreds, frozen: Clock) -> None:
    from datetime import timedelta

    cookie = log_in(client)
    # When c1 tries twenty numbers that are nobody's
    for n in range(20):
        assert_error(send(client, cookie, f"+7999000{n:04d}"), 404, "recipient_not_found")
    # Then the next try is refused, even to the real friend, saying when to come back; nothing moved
    refused = send(client, cookie, FRIEND_PHONE)
    assert_error(refused, 429, "too_many_transfers")
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert balances(client, shop) == (100, 50)
    # And the next hour it goes through
    frozen.advance(timedelta(hours=1))
    assert send(client, cookie, FRIEND_PHONE).status_code == 201


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"transfer_id": "short", "to": FRIEND_PHONE, "points": 1}, 422, "validation_error"),
        ({"transfer_id": "bad id with spaces", "to": FRIEND_PHONE, "points": 1}, 422, "validation_error"),
        ({"transfer_id": PAGE_ID, "to": FRIEND_PHONE, "points": 0}, 422, "validation_error"),
        ({"transfer_id": PAGE_ID, "to": FRIEND_PHONE, "points": "5"}, 422, "validation_error"),
        ({"transfer_id": PAGE_ID, "to": "89990007001", "points": 5}, 422, "invalid_recipient"),
        ({"transfer_id": PAGE_ID, "to": "bob@", "points": 5}, 422, "invalid_email"),
        ({"transfer_id": PAGE_ID, "to": FRIEND_PHONE, "points": 101}, 422, "insufficient_points"),
        ([], 422, "validation_error"),
    ],
)
def test_bad_bodies_are_refused_and_nothing_moves(
    client: Any, shop: TenantCreds, payload: Any, status: int, code: str
) -> None:
    cookie = log_in(client)
    before, items = balances(client, shop), ledger_items()
    assert_error(call(client, "post", "/me/transfers", payload, cookie=cookie), status, code)
    assert balances(client, shop) == before
    if code != "insufficient_points":  # a bad body writes nothing, not even a try of the hour (that one looked up)
        assert ledger_items() == items


def test_without_a_session_nothing_is_sent_and_nothing_leaks_to_the_logs(client: Any, shop: TenantCreds) -> None:
    assert_error(send(client, None, FRIEND_PHONE), 401, "not_logged_in")
    cookie = log_in(client)
    with captured_logs() as logs:
        send(client, cookie, FRIEND_PHONE)
        send(client, cookie, "+79990009999")
    assert "9990007001" not in logs.text and "9990009999" not in logs.text


def test_every_answer_is_what_the_document_says(client: Any, shop: TenantCreds) -> None:
    from tests.integration.test_response_schemas import documented

    path = "/v1/tenants/{tenant_id}/cabinet/me/transfers"
    cookie = log_in(client)
    documented(send(client, cookie, FRIEND_PHONE), path, "post")  # 201
    documented(send(client, cookie, FRIEND_PHONE), path, "post")  # 200
    documented(send(client, cookie, "+79990009999", page_id="other-id-1"), path, "post")  # 404
    documented(send(client, None, FRIEND_PHONE), path, "post")  # 401


def test_neither_side_sees_the_other_members_id_in_the_cabinet_history(client: Any, shop: TenantCreds) -> None:
    # Given c1 sent 30 points to the friend c2
    cookies = {"c1": log_in(client), "c2": log_in(client, FRIEND_PHONE)}
    assert send(client, cookies["c1"], FRIEND_PHONE).status_code == 201
    # When each reads their history in the cabinet
    for me, cookie in cookies.items():
        [moved, *_] = body(call(client, "get", "/me/history", cookie=cookie))["entries"]
        # Then the transfer shows its points, and names no other member (the merchant's history does)
        assert moved["kind"].startswith("transfer") and moved["details"]["points"] == 30, moved
        other = "c2" if me == "c1" else "c1"
        assert other not in {str(v) for v in moved["details"].values()}, moved
