"""The customer's questionnaire, consent, a new contact confirmed by a code, and self-enrolment through HTTP (issue 16
item 3): what the customer gives is what the merchant sees; bad bodies and wrong codes change nothing."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from scripts.infra_messaging import create_messaging
from shared.clock import iso
from tests.conftest import TenantCreds, body, make_tenant, paid_event, post_webhook
from tests.integration.conftest import Clock
from tests.integration.scheduled.conftest import SENDER, aws_client
from tests.integration.scheduled.notify_support import email_data, emails, sms
from tests.integration.support import assert_error, history, ledger_items, member
from tests.integration.test_cabinet_api import (
    EMAIL,
    PHONE,
    call,
    last_sms_code,
    log_in,
    open_cabinet_shop,
    session_cookie,
)

STRANGER = "+79990005555"


@pytest.fixture
def joining(aws: None, frozen: Clock) -> TenantCreds:
    """A shop that lets customers join from the cabinet with 100 welcome points that last 30 days."""
    create_messaging(aws_client, SENDER)
    cabinet = {"sms_calling_codes": ["7"], "self_enrolment": True, "welcome_bonus_points": 100}
    return make_tenant("club", lifetime_days=30, cabinet=cabinet)


@pytest.fixture
def shop(aws: None, client: Any, frozen: Clock) -> TenantCreds:
    return open_cabinet_shop(client, frozen)


def put_profile(client: Any, cookie: str, payload: Any) -> Any:
    return call(client, "put", "/me/profile", payload, cookie=cookie)


# -- the questionnaire and consent ---------------------------------------------------------------------------------


def test_the_questionnaire_is_saved_and_the_customer_and_the_merchant_see_it(client: Any, shop: TenantCreds) -> None:
    cookie = log_in(client)
    # When the customer fills in the name, the birthday and opts out of SMS
    payload = {"name": "  Ann Lee ", "birthday": "1990-05-01", "consent": {"sms": False}}
    saved = put_profile(client, cookie, payload)
    # Then the answer is the profile as stored (the name trimmed), not cached
    assert saved.status_code == 200, saved.body
    assert saved.headers["Cache-Control"] == "no-store"
    answer = body(saved)
    assert (answer["member_id"], answer["name"], answer["birthday"]) == ("c1", "Ann Lee", "1990-05-01")
    assert (answer["phone"], answer["email"], answer["consent"]["sms"]) == (PHONE, EMAIL, False)
    # And the cabinet's view and the merchant's member view show the same
    mine = body(call(client, "get", "/me", cookie=cookie))
    merchants = member(client, shop)
    for view in (mine, merchants):
        assert (view["name"], view["birthday"], view["consent"]["sms"]) == ("Ann Lee", "1990-05-01", False)


def test_consent_changes_only_the_channels_given(client: Any, shop: TenantCreds) -> None:
    cookie = log_in(client)
    assert put_profile(client, cookie, {"consent": {"sms": False, "call": False}}).status_code == 200
    # When the customer opts back into SMS alone
    answer = body(put_profile(client, cookie, {"consent": {"sms": True}}))
    # Then SMS is back on, calls stay off, and the merchant sees the same
    assert (answer["consent"]["sms"], answer["consent"]["call"]) == (True, False)
    assert member(client, shop)["consent"] == answer["consent"]


def test_a_birthday_is_set_once_by_the_customer_and_corrected_by_the_merchant(client: Any, shop: TenantCreds) -> None:
    cookie = log_in(client)
    assert put_profile(client, cookie, {"birthday": "1990-05-01"}).status_code == 200
    # When the customer sends the same date again / Then nothing changes and it is fine
    assert put_profile(client, cookie, {"birthday": "1990-05-01", "name": "Ann"}).status_code == 200
    # When the customer moves it (the birthday bonus would follow it) / Then it is refused, nothing written
    before = ledger_items()
    assert_error(put_profile(client, cookie, {"birthday": "1990-03-01", "name": "Other"}), 409, "birthday_locked")
    assert ledger_items() == before
    # And the merchant can still correct it
    fixed = client.http.put(
        "/v1/tenants/shop/members/c1", body=json.dumps({"birthday": "1990-03-01"}), headers=shop.auth
    )
    assert fixed.status_code == 200 and member(client, shop)["birthday"] == "1990-03-01"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "new@example.com"}, "email"),  # a contact is changed by a code only
        ({"phone": "+79990002002"}, "phone"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"birthday": "1990-02-30"}, "birthday"),
        ({"birthday": 19900501}, "birthday"),
        ({"consent": {"sms": "no"}}, "consent.sms"),
        ({"consent": {"sms": 0}}, "consent.sms"),
    ],
)
def test_a_bad_questionnaire_is_422_and_changes_nothing(
    client: Any, shop: TenantCreds, payload: dict[str, Any], field: str
) -> None:
    cookie = log_in(client)
    before = ledger_items()
    error = assert_error(put_profile(client, cookie, payload), 422, "validation_error")
    assert any(detail["field"].startswith(field) for detail in error["details"]), error
    assert ledger_items() == before


def test_a_birthday_in_the_future_or_before_1900_is_422(client: Any, shop: TenantCreds, frozen: Clock) -> None:
    cookie = log_in(client)
    before = ledger_items()
    tomorrow = (frozen.now.date() + timedelta(days=2)).isoformat()
    for day in (tomorrow, "1899-12-31"):
        error = assert_error(put_profile(client, cookie, {"birthday": day}), 422, "validation_error")
        assert error["details"][0]["field"] == "birthday"
    assert ledger_items() == before
    assert put_profile(client, cookie, {"birthday": date(1900, 1, 1).isoformat()}).status_code == 200


def test_malformed_oversized_and_anonymous_bodies_are_refused(client: Any, shop: TenantCreds) -> None:
    cookie = log_in(client)
    before = ledger_items()
    headers = {"content-type": "application/json", "cookie": cookie}
    url = "/v1/tenants/shop/cabinet/me/profile"
    assert_error(client.http.put(url, body="{", headers=headers), 400, "malformed_json")
    assert_error(client.http.put(url, body=json.dumps({"name": "x" * 3000}), headers=headers), 413, "payload_too_large")
    assert_error(client.http.put(url, body="[]", headers=headers), 422, "validation_error")
    assert_error(put_profile(client, "", {"name": "Ann"}), 401, "not_logged_in")
    assert_error(call(client, "post", "/me/contact", {"contact": "new@example.com"}), 401, "not_logged_in")
    assert ledger_items() == before


# -- a new contact, confirmed by a code ----------------------------------------------------------------------------


def test_a_new_e_mail_is_stored_only_once_its_code_matches(client: Any, shop: TenantCreds) -> None:
    cookie = log_in(client)
    # When the customer gives a new e-mail
    asked = call(client, "post", "/me/contact", {"contact": "Ann.New@Example.com"}, cookie=cookie)
    # Then a code goes to the new address, and the profile is unchanged until it comes back
    assert (asked.status_code, body(asked)["status"]) == (202, "code_requested")
    [mail] = emails()
    assert mail.destinations["ToAddresses"] == ["ann.new@example.com"]
    assert mail.template == "loyalty-contact-code-en"  # worded as a confirmation, not as a login
    code = email_data(mail)["code"]
    assert member(client, shop)["email"] == EMAIL
    # When a wrong code is given / Then it is refused and nothing is stored
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    verify = "/me/contact/verify"
    before = ledger_items()
    assert_error(
        call(client, "post", verify, {"contact": "ann.new@example.com", "code": wrong}, cookie), 401, "invalid_code"
    )
    assert [i for i in ledger_items() if '"PROFILE"' in i] == [i for i in before if '"PROFILE"' in i]
    # When the right code is given / Then the new e-mail is on the profile the merchant sees
    confirmed = call(client, "post", verify, {"contact": "ann.new@example.com", "code": code}, cookie)
    assert confirmed.status_code == 200, confirmed.body
    assert (body(confirmed)["email"], body(confirmed)["phone"]) == ("ann.new@example.com", PHONE)
    assert member(client, shop)["email"] == "ann.new@example.com"
    # And the code was spent: it confirms nothing again
    assert_error(
        call(client, "post", verify, {"contact": "ann.new@example.com", "code": code}, cookie), 401, "code_expired"
    )
    # And the customer logs in with the new e-mail from now on
    assert call(client, "post", "/login", {"contact": "ann.new@example.com"}).status_code == 202
    login = call(
        client, "post", "/verify", {"contact": "ann.new@example.com", "code": email_data(emails()[-1])["code"]}
    )
    assert (login.status_code, body(login)["member_id"]) == (200, "c1")


def test_a_login_code_does_not_confirm_a_contact_nor_a_contact_code_log_in(
    client: Any, shop: TenantCreds, frozen: Clock
) -> None:
    cookie = log_in(client)
    # Given a code that confirms a new phone for c1
    new_phone = "+79990002002"
    assert call(client, "post", "/me/contact", {"contact": new_phone}, cookie=cookie).status_code == 202
    code = last_sms_code(new_phone)
    # Then the SMS says it confirms the number (it is no login code)
    assert "confirms this number" in [text for to, text in sms() if to == new_phone][-1]
    # And it opens no session (no login code was asked for that phone)
    assert_error(call(client, "post", "/verify", {"contact": new_phone, "code": code}), 401, "code_expired")
    # And a login code of c1's phone confirms nothing for it
    frozen.advance(timedelta(seconds=61))
    assert call(client, "post", "/login", {"contact": PHONE}).status_code == 202
    login_code = last_sms_code(PHONE)
    assert_error(
        call(client, "post", "/me/contact/verify", {"contact": PHONE, "code": login_code}, cookie), 401, "code_expired"
    )
    # And the contact code still does its own work
    confirmed = call(client, "post", "/me/contact/verify", {"contact": new_phone, "code": code}, cookie)
    assert (confirmed.status_code, body(confirmed)["phone"]) == (200, new_phone)


def test_another_members_contact_is_refused_once_its_code_proves_it_is_the_customers(
    client: Any, shop: TenantCreds, frozen: Clock
) -> None:
    # Given member c2 with the e-mail bob@example.com
    event = paid_event("o2", total=100_000, customer={"id": "c2", "email": "bob@example.com"})
    assert post_webhook(client, shop, event, ts=frozen.ts).status_code == 200
    cookie = log_in(client)
    # When c1 asks for it / Then the answer is the same as for any address (no look-up before the code)
    assert call(client, "post", "/me/contact", {"contact": "bob@example.com"}, cookie=cookie).status_code == 202
    code = email_data(emails()[-1])["code"]
    # When the code comes back / Then it is refused as another member's, and nothing is stored
    before = ledger_items()
    verify = {"contact": "bob@example.com", "code": code}
    assert_error(call(client, "post", "/me/contact/verify", verify, cookie), 409, "contact_taken")
    assert member(client, shop)["email"] == EMAIL and ledger_items() == before


def test_a_contact_code_is_its_members_only_and_allows_five_tries(
    client: Any, shop: TenantCreds, frozen: Clock
) -> None:
    # Given member c2 logged in by e-mail, and c1 who asked for a code for a new address
    event = paid_event("o2", total=100_000, customer={"id": "c2", "email": "bob@example.com"})
    assert post_webhook(client, shop, event, ts=frozen.ts).status_code == 200
    call(client, "post", "/login", {"contact": "bob@example.com"})
    bob = session_cookie(
        call(client, "post", "/verify", {"contact": "bob@example.com", "code": email_data(emails()[-1])["code"]})
    )
    ann = log_in(client)
    assert call(client, "post", "/me/contact", {"contact": "new@example.com"}, cookie=ann).status_code == 202
    code = email_data(emails()[-1])["code"]
    verify = "/me/contact/verify"
    # When c2 gives c1's code / Then it is refused, and neither stores it nor uses up c1's tries
    assert_error(call(client, "post", verify, {"contact": "new@example.com", "code": code}, bob), 401, "invalid_code")
    # When c1 gives five wrong codes / Then the sixth try is refused even with the right code
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        assert_error(
            call(client, "post", verify, {"contact": "new@example.com", "code": wrong}, ann), 401, "invalid_code"
        )
    assert_error(
        call(client, "post", verify, {"contact": "new@example.com", "code": code}, ann), 429, "too_many_attempts"
    )
    assert member(client, shop)["email"] == EMAIL and member(client, shop, "c2")["email"] == "bob@example.com"


def test_a_new_phone_outside_the_shops_sms_countries_is_refused(client: Any, shop: TenantCreds) -> None:
    cookie = log_in(client)
    refused = call(client, "post", "/me/contact", {"contact": "+12025550123"}, cookie=cookie)
    assert_error(refused, 422, "sms_not_available")
    assert [to for to, _ in sms()] == [PHONE]


# -- self-enrolment ------------------------------------------------------------------------------------------------


def test_without_self_enrolment_a_stranger_gets_no_message_and_no_member(client: Any, shop: TenantCreds) -> None:
    before = [i for i in ledger_items() if '"ACCOUNT"' in i]
    assert call(client, "post", "/login", {"contact": STRANGER}).status_code == 202
    assert sms() == []
    assert_error(call(client, "post", "/verify", {"contact": STRANGER, "code": "123456"}), 401, "invalid_code")
    assert [i for i in ledger_items() if '"ACCOUNT"' in i] == before


def test_a_stranger_joins_with_the_welcome_bonus_in_a_lot_of_its_own_once(
    client: Any, joining: TenantCreds, frozen: Clock
) -> None:
    # When a stranger asks for a code in a shop that lets customers join
    asked = call(client, "post", "/login", {"contact": STRANGER}, tenant="club")
    # Then the answer is the same as anyone's, and the code is sent
    assert (asked.status_code, body(asked)["status"]) == (202, "code_requested")
    code = last_sms_code(STRANGER)
    # When the code comes back
    verified = call(client, "post", "/verify", {"contact": STRANGER, "code": code}, tenant="club")
    # Then a new member is made, with the phone on its profile, and the session is theirs
    assert verified.status_code == 200, verified.body
    member_id = body(verified)["member_id"]
    assert member_id.startswith("cab-")
    mine = body(call(client, "get", "/me", cookie=session_cookie(verified), tenant="club"))
    # And the welcome bonus is in a lot of its own, for the program's lifetime
    assert (mine["member_id"], mine["phone"], mine["balance"], mine["available"]) == (member_id, STRANGER, 100, 100)
    [lot] = mine["lots"]
    expires = iso(frozen.now + timedelta(days=30))
    assert (lot["points"], lot["remaining"], lot["expires_at"]) == (100, 100, expires)
    assert member(client, joining, member_id)["phone"] == STRANGER
    # When the verify is retried with the same code / Then it opens nothing, and no second member or bonus
    assert_error(
        call(client, "post", "/verify", {"contact": STRANGER, "code": code}, tenant="club"), 401, "code_expired"
    )
    # And a later login of the same phone is the same member's, with the bonus paid once
    frozen.advance(timedelta(minutes=2))
    again = log_in(client, STRANGER, tenant="club")
    assert body(call(client, "get", "/me", cookie=again, tenant="club"))["balance"] == 100
    [entry] = [e for e in history(client, joining, member_id) if e.get("kind") == "grant"]
    assert (entry["delta"], entry["entry"]) == (100, f"M#{member_id}/WELCOME")
    assert entry["details"] == {"points": 100, "lifetime_days": 30}
    assert sum('"ACCOUNT"' in i for i in ledger_items()) == 1
