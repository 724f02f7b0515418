"""The card store's contract (issue 16 item 4): one suite, run on the DynamoDB store (over moto) and on the in-memory
one, so that a service test on ``MemoryCardStore`` proves what it would prove on the table.

Every case is written against the ``CardStore`` port only, but for the last ones, which read the DynamoDB items (no
token in a key; an ended look-up's ``ttl``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared import clock
from shared.card import Card, issue
from shared.dal.card_store import ENDED_LIFE
from shared.dal.memory_card_store import MemoryCardStore
from shared.keys import CARD, card_scope, member_pk, tenant_pk
from shared.ports import CardStore

T = "shop"
NOW = datetime(2026, 3, 2, 12, 30, tzinfo=UTC)  # whole seconds: the table keeps no more
LATER = NOW + timedelta(minutes=5)


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> Iterator[CardStore]:
    """The store under test at a fixed clock: the in-memory one plain, the DynamoDB one over moto."""
    clock.set_clock(lambda: NOW)
    try:
        if request.param == "memory":
            yield MemoryCardStore()
        else:
            request.getfixturevalue("aws")
            from shared.container import container

            yield container().card_store
    finally:
        clock.set_clock(None)


@pytest.fixture
def table(aws: None) -> Any:
    """The raw ledger table (moto), to read the items as DynamoDB keeps them."""
    import boto3

    from shared.container import container

    return boto3.resource("dynamodb", region_name="us-east-1").Table(container().settings.ledger_table)


def first_card(store: CardStore, member_id: str = "c1") -> Card:
    card = issue(member_id, NOW)
    assert store.create(T, card)
    return card


def test_a_member_has_no_card_until_one_is_created_and_then_that_one(store: CardStore) -> None:
    # Given no card yet / Then none is read
    assert store.card(T, "c1") is None
    # When c1's first card is created / Then it is read back as created, and its digest resolves to c1
    card = first_card(store)
    assert store.card(T, "c1") == card
    assert store.member_of(T, card.digest) == "c1"


def test_a_second_first_card_is_refused_and_changes_nothing(store: CardStore) -> None:
    card = first_card(store)
    # When another first card is created for c1 (a concurrent first call that lost)
    other = issue("c1", LATER)
    # Then it is refused: c1's card is the first, and the loser's token resolves to nothing
    assert not store.create(T, other)
    assert store.card(T, "c1") == card
    assert store.member_of(T, other.digest) is None


def test_unknown_digests_and_other_shops_resolve_nothing(store: CardStore) -> None:
    card = first_card(store)
    assert store.member_of(T, issue("c1", NOW).digest) is None
    assert store.member_of("other", card.digest) is None
    assert store.card("other", "c1") is None


def test_a_rotation_ends_the_old_token_and_starts_the_new_one_at_once(store: CardStore) -> None:
    old = first_card(store)
    new = issue("c1", LATER)
    # When c1's card is rotated
    assert store.rotate(T, old, new)
    # Then the new token resolves, the old one does not, and c1's card is the new one
    assert store.member_of(T, new.digest) == "c1"
    assert store.member_of(T, old.digest) is None
    assert store.card(T, "c1") == new


def test_a_rotation_from_a_stale_card_is_refused_and_changes_nothing(store: CardStore) -> None:
    # Given two rotations that read the same card, the first of which committed
    old = first_card(store)
    winner, loser = issue("c1", LATER), issue("c1", LATER)
    assert store.rotate(T, old, winner)
    # When the second commits from what it read / Then it is refused: one live token, the winner's
    assert not store.rotate(T, old, loser)
    assert store.card(T, "c1") == winner
    assert [store.member_of(T, c.digest) for c in (old, winner, loser)] == [None, "c1", None]
    # And a rotation from the winner's card goes on
    assert store.rotate(T, winner, loser) and store.member_of(T, loser.digest) == "c1"


def test_a_rotation_of_a_member_without_a_card_is_refused(store: CardStore) -> None:
    ghost = issue("c1", NOW)
    assert not store.rotate(T, ghost, issue("c1", LATER))
    assert store.card(T, "c1") is None


def test_one_members_rotation_leaves_anothers_card_alone(store: CardStore) -> None:
    mine, theirs = first_card(store, "c1"), first_card(store, "c2")
    assert store.rotate(T, mine, issue("c1", LATER))
    assert store.card(T, "c2") == theirs and store.member_of(T, theirs.digest) == "c2"


# -- the DynamoDB items ----------------------------------------------------------------------------------------------


def test_the_look_up_is_keyed_by_the_digest_and_no_key_holds_a_token(table: Any) -> None:
    from shared.container import container

    store = container().card_store
    old = first_card(store)
    new = issue("c1", LATER)
    assert store.rotate(T, old, new)
    # Then the member's partition holds the current card (its token, to show again) and the look-ups hold no token
    mine = table.get_item(Key={"pk": member_pk(T, "c1"), "sk": CARD}, ConsistentRead=True)["Item"]
    assert (mine["type"], mine["token"], mine["digest"]) == ("member_card", new.token, new.digest)
    ended = table.get_item(Key={"pk": tenant_pk(T, card_scope(old.digest)), "sk": CARD}, ConsistentRead=True)["Item"]
    live = table.get_item(Key={"pk": tenant_pk(T, card_scope(new.digest)), "sk": CARD}, ConsistentRead=True)["Item"]
    assert live["type"] == ended["type"] == "card" and live["member_id"] == ended["member_id"] == "c1"
    assert all(old.token not in str(item) and new.token not in str(item) for item in (ended, live))
    # And the ended look-up is removed by DynamoDB later, the live one never
    assert int(ended["ttl"]) == int((LATER + ENDED_LIFE).timestamp()) and "ttl" not in live
