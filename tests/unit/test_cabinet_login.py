"""The cabinet's login rules as pure functions (issue 16 item 1): codes, their digests, sessions, SMS countries."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shared.api_models import MEMBER_ID_PATTERN
from shared.cabinet_login import (
    CODE_TTL,
    RESEND_AFTER,
    SESSION_TTL,
    birthday_change_allowed,
    birthday_problem,
    channel_of,
    code_matches,
    contact_fields,
    enrolled_member_id,
    hour_of,
    issued,
    key_digest,
    new_code,
    new_session_token,
    opened,
    resend_at,
    sms_allowed,
    source_of,
    spent,
    token_digest,
)

NOW = datetime(2027, 3, 1, 12, 30, tzinfo=UTC)


def test_a_code_is_six_digits_and_only_its_salted_digest_is_kept() -> None:
    code = new_code()
    assert len(code) == 6 and code.isdigit()
    stored = issued("shop", "+79990001001", "c1", code, NOW)
    assert code not in stored.digest and len(stored.salt) == 32
    assert (stored.expires_at, resend_at(stored)) == (NOW + CODE_TTL, NOW + RESEND_AFTER)
    # The same code for the same contact is stored differently each time (a fresh salt)
    assert issued("shop", "+79990001001", "c1", code, NOW).digest != stored.digest


@given(st.text(min_size=0, max_size=8))
def test_only_the_code_sent_matches(other: str) -> None:
    stored = issued("shop", "ann@example.com", "c1", "123456", NOW)
    assert code_matches(stored, "shop", "123456")
    assert code_matches(stored, "shop", other) == (other == "123456")
    assert not code_matches(stored, "other-shop", "123456")  # a code is bound to its tenant


def test_sms_goes_only_to_the_calling_codes_listed() -> None:
    assert sms_allowed("+79990001001", ("7",)) and sms_allowed("+12025550123", ("7", "1"))
    assert not sms_allowed("+12025550123", ("7",)) and not sms_allowed("+79990001001", ())
    assert (channel_of("+79990001001"), channel_of("ann@example.com")) == ("sms", "email")
    assert channel_of("+ann@example.com") == "email"  # an e-mail may start with +


def test_one_ipv6_subscriber_is_one_source() -> None:
    assert source_of("2001:db8:1:2:aaaa::1") == source_of("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert source_of("2001:db8:1:3::1") != source_of("2001:db8:1:2::1")
    assert (source_of("203.0.113.9"), source_of("unknown")) == ("203.0.113.9", "unknown")


def test_a_session_keeps_only_its_tokens_digest_and_lives_a_day() -> None:
    token = new_session_token()
    session = opened(token, "c1", NOW)
    assert session.token_digest == token_digest(token) and token not in session.token_digest
    assert session.live(NOW + SESSION_TTL - timedelta(seconds=1)) and not session.live(NOW + SESSION_TTL)
    assert len(token) >= 43  # 256 bits, URL-safe


def test_keys_name_a_contact_by_a_digest_per_tenant_and_count_by_the_hour() -> None:
    digest = key_digest("shop", "+79990001001")
    assert "7999" not in digest and digest != key_digest("other", "+79990001001")
    assert hour_of(NOW) == "2027030112"


# -- self-enrolment and the questionnaire (item 3) -----------------------------------------------------------------


def test_a_self_enrolment_code_names_one_new_member_of_its_own() -> None:
    # Given two codes sent to the same stranger's phone
    first = issued("shop", "+79990009999", "", "123456", NOW)
    second = issued("shop", "+79990009999", "", "123456", NOW)
    # Then each names a member id of its own, valid as any member id, that says nothing of the phone
    member = enrolled_member_id(first)
    assert re.fullmatch(MEMBER_ID_PATTERN, member) and re.fullmatch(r"cab-[0-9a-f]{24}", member)
    assert member != enrolled_member_id(second) and "9999" not in member
    # And the same code (a retried verify) always names the same member
    assert enrolled_member_id(first) == enrolled_member_id(first)


def test_a_spent_code_matches_nothing_and_keeps_its_send_time() -> None:
    stored = issued("shop", "ann@example.com", "c1", "123456", NOW, "contact")
    gone = spent(stored, NOW + timedelta(minutes=1))
    assert not code_matches(gone, "shop", "123456") and gone.salt != stored.salt
    assert (gone.expires_at, resend_at(gone), gone.purpose) == (
        NOW + timedelta(minutes=1),
        resend_at(stored),
        "contact",
    )


def test_a_code_of_one_purpose_never_matches_as_another_contacts() -> None:
    # A contact code is digested with its contact like a login code: bound to the contact it was sent to
    stored = issued("shop", "new@example.com", "c1", "123456", NOW, "contact")
    assert stored.purpose == "contact" and issued("shop", "new@example.com", "c1", "1", NOW).purpose == "login"
    assert not code_matches(replace(stored, contact="old@example.com"), "shop", "123456")


def test_a_contact_goes_into_its_own_field() -> None:
    assert contact_fields("ann@example.com") == ("ann@example.com", None)
    assert contact_fields("+79990001001") == (None, "+79990001001")


def test_a_birthday_is_from_1900_to_today() -> None:
    today = date(2027, 3, 1)
    assert birthday_problem(date(1900, 1, 1), today) is None and birthday_problem(today, today) is None
    assert birthday_problem(date(1899, 12, 31), today) == "birthday is before 1900"
    assert birthday_problem(date(2027, 3, 2), today) == "birthday is in the future"


def test_the_customer_sets_a_birthday_once() -> None:
    # A customer fills in a missing birthday, and may send the same one again, but cannot move it (the bonus)
    assert birthday_change_allowed(None, "1990-05-01")
    assert birthday_change_allowed("1990-05-01", "1990-05-01")
    assert not birthday_change_allowed("1990-05-01", "1990-03-01")
