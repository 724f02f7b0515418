"""The cabinet store's contract (issue 16): one suite, run on the DynamoDB store (over moto) and on the in-memory
one, so that a service test on ``MemoryCabinetStore`` proves what it would prove on the table.

Every case is written against the ``CabinetStore`` port only, but for the last ones, which read the DynamoDB items'
``ttl`` (DynamoDB removes the records by it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared import clock
from shared.cabinet_login import (
    IP_SENDS_PER_HOUR,
    MAX_ATTEMPTS,
    SENDS_PER_HOUR,
    LoginCode,
    code_matches,
    hour_of,
    issued,
    key_digest,
    opened,
    spent,
)
from shared.dal.memory_cabinet_store import MemoryCabinetStore
from shared.keys import LOGIN_CODE, SESSION, login_ip_scope, login_scope, sends_key, session_scope, tenant_pk
from shared.ports import CabinetStore

T = "shop"
NOW = datetime(2026, 3, 2, 12, 30, tzinfo=UTC)  # whole seconds: the table keeps no more
CONTACT = "ann@example.com"
PHONE = "+4915112345678"


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> Iterator[CabinetStore]:
    """The store under test at a fixed clock: the in-memory one plain, the DynamoDB one over moto."""
    clock.set_clock(lambda: NOW)
    try:
        if request.param == "memory":
            yield MemoryCabinetStore()
        else:
            request.getfixturevalue("aws")
            from shared.container import container

            yield container().cabinet_store
    finally:
        clock.set_clock(None)


@pytest.fixture
def table(aws: None) -> Iterator[Any]:
    """The raw ledger table (moto), to read the items' attributes, with the clock fixed as for ``store``."""
    import boto3

    from shared.container import container

    clock.set_clock(lambda: NOW)
    try:
        yield boto3.resource("dynamodb", region_name="us-east-1").Table(container().settings.ledger_table)
    finally:
        clock.set_clock(None)


def code_for(contact: str = CONTACT, member_id: str = "m1", at: datetime = NOW) -> LoginCode:
    return issued(T, contact, member_id, "123456", at)


def contact_scope(contact: str = CONTACT) -> str:
    return login_scope(key_digest(T, contact))


# -- send counters ---------------------------------------------------------------------------------------------


def test_a_counter_counts_up_to_its_limit_and_then_refuses(store: CabinetStore) -> None:
    window = hour_of(NOW)
    assert [store.count(T, contact_scope(), window, SENDS_PER_HOUR, NOW) for _ in range(SENDS_PER_HOUR)] == [
        True
    ] * SENDS_PER_HOUR
    assert store.count(T, contact_scope(), window, SENDS_PER_HOUR, NOW) is False
    assert store.count(T, contact_scope(), window, SENDS_PER_HOUR, NOW) is False


def test_a_counter_is_per_window_scope_and_tenant(store: CabinetStore) -> None:
    window, later = hour_of(NOW), hour_of(NOW + timedelta(hours=1))
    assert store.count(T, contact_scope(), window, 1, NOW)
    assert not store.count(T, contact_scope(), window, 1, NOW)
    # another hour, another contact, a source address, another tenant: each counts on its own
    assert store.count(T, contact_scope(), later, 1, NOW + timedelta(hours=1))
    assert store.count(T, contact_scope(PHONE), window, 1, NOW)
    assert store.count(T, login_ip_scope("addr"), window, 1, NOW)
    assert store.count("other", contact_scope(), window, 1, NOW)


def test_a_higher_limit_lets_a_full_counter_count_on(store: CabinetStore) -> None:
    window = hour_of(NOW)
    assert store.count(T, login_ip_scope("addr"), window, 1, NOW)
    assert not store.count(T, login_ip_scope("addr"), window, 1, NOW)
    assert store.count(T, login_ip_scope("addr"), window, IP_SENDS_PER_HOUR, NOW)


def test_a_zero_limit_counts_nothing(store: CabinetStore) -> None:
    assert store.count(T, contact_scope(), hour_of(NOW), 0, NOW) is False


# -- codes -----------------------------------------------------------------------------------------------------


def test_a_code_is_stored_over_none_and_read_back(store: CabinetStore) -> None:
    assert store.code(T, CONTACT) is None
    code = code_for()
    assert store.replace_code(T, code, None)
    assert store.code(T, CONTACT) == code
    assert store.code(T, PHONE) is None
    assert store.code("other", CONTACT) is None


def test_replace_code_refuses_a_stale_previous(store: CabinetStore) -> None:
    first, second, third = code_for(), code_for(), code_for()
    assert store.replace_code(T, first, None)
    assert not store.replace_code(T, second, None)  # one is stored: "none" is stale
    assert store.replace_code(T, second, first)
    assert not store.replace_code(T, third, first)  # first was replaced meanwhile
    assert store.code(T, CONTACT) == second


def test_a_code_past_its_records_life_reads_and_replaces_as_none(store: CabinetStore) -> None:
    old = code_for(at=NOW - timedelta(days=2))  # expired 10 minutes later, its record's life a day after that
    assert store.replace_code(T, old, None)  # as DynamoDB keeps an item past its ttl until it removes it
    assert store.code(T, CONTACT) is None
    fresh = code_for()
    assert store.replace_code(T, fresh, None)
    assert store.code(T, CONTACT) == fresh


def test_add_attempt_counts_up_to_max_attempts(store: CabinetStore) -> None:
    code = code_for()
    store.replace_code(T, code, None)
    assert [store.add_attempt(T, code) for _ in range(MAX_ATTEMPTS)] == [True] * MAX_ATTEMPTS
    assert not store.add_attempt(T, code)
    found = store.code(T, CONTACT)
    assert found is not None and found.attempts == MAX_ATTEMPTS


def test_add_attempt_refuses_another_codes_salt(store: CabinetStore) -> None:
    first, second = code_for(), code_for()
    store.replace_code(T, first, None)
    store.replace_code(T, second, first)
    assert not store.add_attempt(T, first)
    assert not store.add_attempt(T, code_for(PHONE))  # no code at all
    found = store.code(T, CONTACT)
    assert found is not None and found.attempts == 0


def test_a_new_contacts_code_is_a_record_apart_from_the_contacts_login_code(store: CabinetStore) -> None:
    # Given a login code and a code confirming the same address as member m2's new contact
    login = code_for()
    change = issued(T, CONTACT, "m2", "654321", NOW, "contact")
    assert store.replace_code(T, login, None) and store.replace_code(T, change, None)
    # Then each reads back under its own purpose, and a try of one leaves the other as it was
    assert (store.code(T, CONTACT), store.code(T, CONTACT, "contact")) == (login, change)
    assert store.add_attempt(T, change)
    assert store.code(T, CONTACT) == login
    found = store.code(T, CONTACT, "contact")
    assert found is not None and (found.attempts, found.member_id, found.purpose) == (1, "m2", "contact")


def test_a_spent_contact_code_is_spent_once(store: CabinetStore) -> None:
    change = issued(T, CONTACT, "m2", "654321", NOW, "contact")
    store.replace_code(T, change, None)
    # When it is spent (replaced by its spent form under its salt) / Then a second spend of it as read is refused
    assert store.replace_code(T, spent(change, NOW), change)
    assert not store.replace_code(T, spent(change, NOW), change)
    found = store.code(T, CONTACT, "contact")
    assert found is not None and found.expires_at == NOW and not code_matches(found, T, "654321")


# -- consume and sessions --------------------------------------------------------------------------------------


def test_consume_works_once(store: CabinetStore) -> None:
    code = code_for()
    store.replace_code(T, code, None)
    session = opened("token-1", "m1", NOW)
    assert store.consume(T, code, session)
    spent = store.code(T, CONTACT)  # its life ends now (the API deletes nothing; TTL removes the record)
    assert spent is not None and spent.expires_at <= NOW
    assert store.session(T, session.token_digest) == session
    again = opened("token-2", "m1", NOW)
    assert not store.consume(T, code, again)
    assert store.session(T, again.token_digest) is None


def test_consume_after_replace_is_refused_and_writes_no_session(store: CabinetStore) -> None:
    first, second = code_for(), code_for()
    store.replace_code(T, first, None)
    store.replace_code(T, second, first)
    session = opened("token-1", "m1", NOW)
    assert not store.consume(T, first, session)
    assert store.session(T, session.token_digest) is None
    assert store.code(T, CONTACT) == second


def test_consume_of_an_exhausted_code_is_refused(store: CabinetStore) -> None:
    code = code_for()
    store.replace_code(T, code, None)
    for _ in range(MAX_ATTEMPTS):
        store.add_attempt(T, code)
    session = opened("token-1", "m1", NOW)
    assert not store.consume(T, code, session)
    assert store.session(T, session.token_digest) is None
    assert store.code(T, CONTACT) == replace(code, attempts=MAX_ATTEMPTS)


def test_a_session_round_trips_and_ends(store: CabinetStore) -> None:
    code = code_for()
    store.replace_code(T, code, None)
    session = opened("token-1", "m1", NOW)
    assert store.consume(T, code, session)
    found = store.session(T, session.token_digest)
    assert found == session and found.live(NOW)
    assert store.session("other", session.token_digest) is None
    store.end_session(T, session.token_digest)
    assert store.session(T, session.token_digest) is None
    store.end_session(T, session.token_digest)  # ending it again is harmless


# -- the DynamoDB items' ttl -----------------------------------------------------------------------------------


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def test_every_dynamodb_item_carries_its_ttl(table: Any) -> None:
    from shared.container import container

    store = container().cabinet_store
    code = code_for()
    assert store.count(T, contact_scope(), hour_of(NOW), 5, NOW)
    counter = table.get_item(Key={"pk": tenant_pk(T, contact_scope()), "sk": sends_key(hour_of(NOW))})["Item"]
    assert counter["type"] == "login_counter" and counter["value"] == 1
    assert counter["ttl"] == _epoch(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))  # two hours after its hour
    store.replace_code(T, code, None)
    item = table.get_item(Key={"pk": tenant_pk(T, contact_scope()), "sk": LOGIN_CODE})["Item"]
    assert item["type"] == "login_code" and item["ttl"] == _epoch(code.expires_at + timedelta(days=1))
    assert CONTACT not in item["pk"]  # only a digest names the contact in a key
    session = opened("token-1", "m1", NOW)
    store.consume(T, code, session)
    item = table.get_item(Key={"pk": tenant_pk(T, session_scope(session.token_digest)), "sk": SESSION})["Item"]
    assert item["type"] == "session" and item["ttl"] == _epoch(session.expires_at + timedelta(days=1))


def test_an_unknown_contacts_code_is_kept_without_a_member(store: CabinetStore) -> None:
    # Given the code record of a contact that is no member's (it limits resends like any other, never verifies)
    code = code_for(member_id="")
    # When it is stored / Then it reads back as it was, with no member
    assert store.replace_code(T, code, None)
    assert store.code(T, CONTACT) == code


def test_a_code_opens_one_session_even_for_a_consume_that_read_it_earlier(store: CabinetStore) -> None:
    # Given a code that opened a session
    code = code_for()
    store.replace_code(T, code, None)
    assert store.consume(T, code, opened("token-1", "m1", NOW))
    # When a concurrent verify that read the code a second earlier commits after it / Then it opens nothing
    late = opened("token-2", "m1", NOW - timedelta(seconds=1))
    assert not store.consume(T, code, late)
    assert store.session(T, late.token_digest) is None


def test_an_expired_code_opens_nothing(store: CabinetStore) -> None:
    code = code_for(at=NOW - timedelta(minutes=11))
    store.replace_code(T, code, None)
    session = opened("token-1", "m1", NOW)
    assert not store.consume(T, code, session)
    assert store.session(T, session.token_digest) is None
