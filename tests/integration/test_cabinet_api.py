"""The customer cabinet through HTTP (issue 16 items 1, 2 and 9): passwordless login by a code, the session cookie,
the customer's own view, and what abuse and bad input get."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest

from scripts.infra_messaging import create_messaging
from shared import clock
from shared.container import container
from tests.conftest import TenantCreds, body, make_tenant, paid_event, post_webhook
from tests.integration.conftest import Clock
from tests.integration.scheduled.conftest import SENDER, aws_client
from tests.integration.scheduled.notify_support import email_data, emails, sms
from tests.integration.support import assert_error, ledger_items, member
from tests.logs import captured_logs

PHONE, EMAIL = "+79990001001", "ann@example.com"


@pytest.fixture
def shop(aws: None, client: Any, frozen: Clock) -> TenantCreds:
    return open_cabinet_shop(client, frozen)


def open_cabinet_shop(client: Any, frozen: Clock) -> TenantCreds:
    """A shop whose cabinet sends codes by SMS to Russian numbers, with member c1 (phone and e-mail) who bought."""
    create_messaging(aws_client, SENDER)
    creds = make_tenant("shop", cabinet={"sms_calling_codes": ["7"]})
    event = paid_event("o1", total=200_000, customer={"id": "c1", "phone": PHONE, "email": EMAIL})
    assert post_webhook(client, creds, event, ts=frozen.ts).status_code == 200
    return creds


def call(
    client: Any, method: str, path: str, payload: Any = None, cookie: str | None = None, tenant: str = "shop"
) -> Any:
    headers = {"content-type": "application/json", **({"cookie": cookie} if cookie else {})}
    raw = json.dumps(payload) if payload is not None else None
    return getattr(client.http, method)(f"/v1/tenants/{tenant}/cabinet{path}", body=raw, headers=headers)


def last_sms_code(phone: str) -> str:
    texts = [text for to, text in sms() if to == phone]
    found = re.search(r"\b(\d{6})\b", texts[-1])
    assert found, texts[-1]
    return found.group(1)


def session_cookie(response: Any) -> str:
    header = response.headers["Set-Cookie"]
    return header.split(";")[0]


def log_in(client: Any, contact: str = PHONE, tenant: str = "shop") -> str:
    assert call(client, "post", "/login", {"contact": contact}, tenant=tenant).status_code == 202
    verified = call(client, "post", "/verify", {"contact": contact, "code": last_sms_code(contact)}, tenant=tenant)
    assert verified.status_code == 200, verified.body
    return session_cookie(verified)


def test_a_member_logs_in_with_the_code_from_the_sms_and_sees_what_the_merchant_sees(
    client: Any, shop: TenantCreds
) -> None:
    # When c1 asks for a code by phone
    asked = call(client, "post", "/login", {"contact": "+7 999 000-10-01"})
    # Then the answer says a code was requested, and one SMS with a 6-digit code went to the number
    assert asked.status_code == 202
    assert body(asked) == {"status": "code_requested", "expires_in_seconds": 600, "resend_after_seconds": 60}
    code = last_sms_code(PHONE)
    # When the code is given back
    verified = call(client, "post", "/verify", {"contact": PHONE, "code": code})
    # Then a session opens for c1, in a cookie the page's scripts cannot read and no other site can send
    assert verified.status_code == 200, verified.body
    assert body(verified)["member_id"] == "c1"
    header = verified.headers["Set-Cookie"]
    assert {"HttpOnly", "Secure", "SameSite=Strict", "Path=/"} <= {part.strip() for part in header.split(";")}
    # And with it the customer sees exactly the merchant's member view: balances and every lot with its expiry
    mine = call(client, "get", "/me", cookie=session_cookie(verified))
    assert mine.status_code == 200, mine.body
    seen = body(mine)
    assert {k: v for k, v in seen.items() if k not in ("currency", "share_link")} == member(client, shop)
    assert (seen["currency"], seen["share_link"]) == (
        "RUB",
        f"http://localhost/v1/tenants/shop/cabinet?ref={seen['referral_code']}",
    )
    # And the code opens one session only
    assert_error(call(client, "post", "/verify", {"contact": PHONE, "code": code}), 401, "code_expired")


def test_an_unknown_contact_gets_the_same_answer_and_no_message(client: Any, shop: TenantCreds) -> None:
    # When someone asks for a code for a number and an e-mail that are nobody's here
    for contact in ("+79990009999", "nobody@example.com"):
        asked = call(client, "post", "/login", {"contact": contact})
        # Then the answer is the known member's, word for word
        assert (asked.status_code, body(asked)["status"]) == (202, "code_requested")
    # And nothing was sent, and no code can open a session
    assert sms() == [] and emails() == []
    assert_error(call(client, "post", "/verify", {"contact": "+79990009999", "code": "123456"}), 401, "invalid_code")


def test_a_member_logs_in_by_e_mail_in_the_shops_language(client: Any, shop: TenantCreds) -> None:
    # When c1 asks for a code by e-mail
    assert call(client, "post", "/login", {"contact": "Ann@Example.com"}).status_code == 202
    # Then one templated e-mail carries it, from the platform's sender, and the code opens the session
    [mail] = emails()
    assert mail.template == "loyalty-login-code-en" and mail.destinations["ToAddresses"] == [EMAIL]
    code = email_data(mail)["code"]
    verified = call(client, "post", "/verify", {"contact": EMAIL, "code": code})
    assert (verified.status_code, body(verified)["member_id"]) == (200, "c1")


def test_wrong_codes_count_and_the_sixth_try_is_refused_even_with_the_right_code(
    client: Any, shop: TenantCreds
) -> None:
    call(client, "post", "/login", {"contact": PHONE})
    code = last_sms_code(PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        assert_error(call(client, "post", "/verify", {"contact": PHONE, "code": wrong}), 401, "invalid_code")
    refused = call(client, "post", "/verify", {"contact": PHONE, "code": code})
    assert_error(refused, 429, "too_many_attempts")
    assert int(refused.headers["Retry-After"]) >= 1


def test_a_code_lives_ten_minutes(client: Any, shop: TenantCreds, frozen: Clock) -> None:
    call(client, "post", "/login", {"contact": PHONE})
    code = last_sms_code(PHONE)
    frozen.advance(timedelta(minutes=10))
    assert_error(call(client, "post", "/verify", {"contact": PHONE, "code": code}), 401, "code_expired")


def test_a_new_code_waits_a_minute_and_five_an_hour_is_the_most(client: Any, shop: TenantCreds, frozen: Clock) -> None:
    # The limits count UTC clock hours: start a minute into one, so that the five minutes below stay inside it
    frozen.advance(frozen.now.replace(minute=1, second=0) + timedelta(hours=1) - frozen.now)
    assert call(client, "post", "/login", {"contact": PHONE}).status_code == 202
    # A second request within the minute is refused, saying when to come back
    again = call(client, "post", "/login", {"contact": PHONE})
    assert_error(again, 429, "resend_too_soon")
    assert 1 <= int(again.headers["Retry-After"]) <= 61
    # After it, a new code replaces the first; up to five within the hour
    for _ in range(4):
        frozen.advance(timedelta(seconds=61))
        assert call(client, "post", "/login", {"contact": PHONE}).status_code == 202
    frozen.advance(timedelta(seconds=61))
    assert_error(call(client, "post", "/login", {"contact": PHONE}), 429, "too_many_codes")
    assert len([to for to, _ in sms() if to == PHONE]) == 5


def test_sms_goes_only_to_the_countries_the_shop_lists(client: Any, shop: TenantCreds) -> None:
    refused = call(client, "post", "/login", {"contact": "+12025550123"})
    assert_error(refused, 422, "sms_not_available")
    assert sms() == []


def test_a_session_opens_nothing_of_another_shop_nor_of_a_suspended_one(client: Any, shop: TenantCreds) -> None:
    # Given c1's session at the shop, and another shop
    cookie = log_in(client)
    make_tenant("other")
    # Then the other shop's cabinet does not know it
    assert_error(call(client, "get", "/me", cookie=cookie, tenant="other"), 401, "not_logged_in")
    # And once the shop is suspended, its cabinet is closed: no view, no code, no session
    container().tenants.set_status("shop", "suspended", "test", clock.now())
    assert_error(call(client, "get", "/me", cookie=cookie), 403, "cabinet_closed")
    assert_error(call(client, "post", "/login", {"contact": PHONE}), 403, "cabinet_closed")
    assert_error(call(client, "post", "/verify", {"contact": PHONE, "code": "123456"}), 403, "cabinet_closed")
    # And the customer can still clear the cookie
    out = call(client, "post", "/logout", cookie=cookie)
    assert out.status_code == 200 and "Max-Age=0" in out.headers["Set-Cookie"]


def test_after_logging_out_the_cookie_opens_nothing(client: Any, shop: TenantCreds) -> None:
    cookie = log_in(client)
    out = call(client, "post", "/logout", cookie=cookie)
    assert out.status_code == 200 and "Max-Age=0" in out.headers["Set-Cookie"]
    assert_error(call(client, "get", "/me", cookie=cookie), 401, "not_logged_in")
    assert_error(call(client, "get", "/me"), 401, "not_logged_in")


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"contact": "not a contact"}, 422, "invalid_phone"),
        ({"contact": "a@b"}, 422, "invalid_email"),
        ({}, 422, "validation_error"),
        ([], 422, "validation_error"),
    ],
)
def test_bad_login_input_is_refused_and_sends_nothing(
    client: Any, shop: TenantCreds, payload: Any, status: int, code: str
) -> None:
    assert_error(call(client, "post", "/login", payload), status, code)
    assert_error(call(client, "post", "/verify", {"contact": PHONE, "code": "12345"}), 422, "validation_error")
    assert sms() == []


def test_no_code_nor_contact_reaches_the_logs(client: Any, shop: TenantCreds) -> None:
    with captured_logs() as logs:
        call(client, "post", "/login", {"contact": PHONE})
        code = last_sms_code(PHONE)
        call(client, "post", "/verify", {"contact": PHONE, "code": code})
    assert code not in logs.text and PHONE not in logs.text and "9990001001" not in logs.text


def test_an_unknown_shop_has_no_cabinet(client: Any, shop: TenantCreds) -> None:
    assert_error(call(client, "post", "/login", {"contact": PHONE}, tenant="nope"), 404, "tenant_not_found")


def test_every_cabinet_answer_is_what_the_document_says(client: Any, shop: TenantCreds) -> None:
    from tests.integration.test_response_schemas import documented

    base = "/v1/tenants/{tenant_id}/cabinet"
    documented(call(client, "post", "/login", {"contact": PHONE}), base + "/login", "post")  # 202
    documented(call(client, "post", "/login", {"contact": PHONE}), base + "/login", "post")  # 429
    documented(call(client, "post", "/login", {"contact": "x"}), base + "/login", "post")  # 422
    documented(call(client, "post", "/login", {"contact": PHONE}, tenant="nope"), base + "/login", "post")  # 404
    wrong = {"contact": PHONE, "code": f"{(int(last_sms_code(PHONE)) + 1) % 10**6:06d}"}
    documented(call(client, "post", "/verify", wrong), base + "/verify", "post")  # 401
    right = {"contact": PHONE, "code": last_sms_code(PHONE)}
    verified = call(client, "post", "/verify", right)
    documented(verified, base + "/verify", "post")  # 200
    cookie = session_cookie(verified)
    documented(call(client, "get", "/me", cookie=cookie), base + "/me", "get")  # 200
    documented(call(client, "post", "/logout", cookie=cookie), base + "/logout", "post")  # 200
    documented(call(client, "get", "/me", cookie=cookie), base + "/me", "get")  # 401


def test_no_other_answer_carries_the_session_cookie_and_private_answers_are_not_cached(
    client: Any, shop: TenantCreds
) -> None:
    # Given a session just opened (its cookie set on the verify answer)
    cookie = log_in(client)
    # When anything else is asked of the same container / Then no answer repeats the cookie or a Retry-After
    for answer in (client.http.get("/v1/health"), call(client, "post", "/login", {"contact": EMAIL})):
        assert "Set-Cookie" not in answer.headers and "Retry-After" not in answer.headers
    # And the customer's view is never cached
    assert call(client, "get", "/me", cookie=cookie).headers["Cache-Control"] == "no-store"


def test_malformed_and_oversized_bodies_are_refused(client: Any, shop: TenantCreds) -> None:
    headers = {"content-type": "application/json"}
    url = "/v1/tenants/shop/cabinet/login"
    assert_error(client.http.post(url, body="{", headers=headers), 400, "malformed_json")
    big = json.dumps({"contact": PHONE, "padding": "x" * 4096})
    assert_error(client.http.post(url, body=big, headers=headers), 413, "payload_too_large")
    assert sms() == []


def test_a_cookie_of_another_name_or_shape_does_not_hide_or_fake_the_session(client: Any, shop: TenantCreds) -> None:
    cookie = log_in(client)
    mixed = f'consent={{"ads":1}}; {cookie}; theme=dark'
    assert call(client, "get", "/me", cookie=mixed).status_code == 200
    assert_error(call(client, "get", "/me", cookie="cabinet_session=short"), 401, "not_logged_in")


def test_the_code_comes_in_the_shops_language_and_only_its_digest_is_stored(
    client: Any, aws: None, frozen: Clock
) -> None:
    # Given a Russian-speaking shop and its member
    create_messaging(aws_client, SENDER)
    creds = make_tenant("ru-shop", language="ru", cabinet={"sms_calling_codes": ["7"]})
    event = paid_event("o1", customer={"id": "c1", "phone": PHONE})
    assert post_webhook(client, creds, event, ts=frozen.ts).status_code == 200
    # When the member asks for a code / Then the SMS is in Russian
    assert call(client, "post", "/login", {"contact": PHONE}, tenant="ru-shop").status_code == 202
    [(_, text)] = [m for m in sms() if m[0] == PHONE]
    assert "код входа" in text
    code = last_sms_code(PHONE)
    # And the cabinet's items (code, counters) hold neither the code nor the phone: digests only
    login = "".join(item for item in ledger_items() if '"login_code"' in item or '"login_counter"' in item)
    assert '"login_code"' in login and code not in login and "9990001001" not in login
