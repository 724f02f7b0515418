"""The feedback store's contract (issue 16 item 6): one suite, run on the DynamoDB store (over moto) and on the
in-memory one, so that a service test on ``MemoryFeedbackStore`` proves what it would prove on the table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from shared.dal.memory_feedback_store import MemoryFeedbackStore
from shared.feedback import Feedback, list_key
from shared.ports import FeedbackStore

T = "shop"
NOW = datetime(2026, 3, 2, 12, 30, tzinfo=UTC)


def rating(order_id: str, at: datetime = NOW, score: int = 4, comment: str = "") -> Feedback:
    return Feedback(
        tenant_id=T, order_id=order_id, member_id="c1", score=score, comment=comment, created_at=at, reward_points=10
    )


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> Iterator[FeedbackStore]:
    if request.param == "memory":
        yield MemoryFeedbackStore()
    else:
        request.getfixturevalue("aws")
        from shared.container import container

        yield container().feedback_store


def test_a_rating_is_kept_once_per_order(store: FeedbackStore) -> None:
    # Given no rating of o1 / When it is rated
    assert store.get(T, "o1") is None
    assert store.add(T, rating("o1", comment="Всё отлично"))
    # Then it reads back whole, and a second rating of o1 (even later, another score) is refused and changes nothing
    assert store.get(T, "o1") == rating("o1", comment="Всё отлично")
    assert not store.add(T, rating("o1", NOW + timedelta(days=1), score=1))
    assert store.get(T, "o1") == rating("o1", comment="Всё отлично")
    assert store.listed(T, "2026-03", "", 10) == [rating("o1", comment="Всё отлично")]


def test_the_months_list_is_in_time_order_and_pages_after_a_key(store: FeedbackStore) -> None:
    # Given three ratings in March (two in one second) and one in February
    for order, at in (("b", NOW), ("a", NOW), ("c", NOW + timedelta(hours=1)), ("f", NOW - timedelta(days=10))):
        assert store.add(T, rating(order, at))
    # Then March lists them by time, then by order; a page stops at its limit and continues after a key
    assert [f.order_id for f in store.listed(T, "2026-03", "", 10)] == ["a", "b", "c"]
    assert [f.order_id for f in store.listed(T, "2026-03", "", 2)] == ["a", "b"]
    assert [f.order_id for f in store.listed(T, "2026-03", list_key(NOW, "a"), 10)] == ["b", "c"]
    # And a time alone as the key starts at that second
    assert [f.order_id for f in store.listed(T, "2026-03", "2026-03-02T12:30:00Z", 10)] == ["a", "b", "c"]
    assert [f.order_id for f in store.listed(T, "2026-03", "2026-03-02T12:30:01Z", 10)] == ["c"]
    assert [f.order_id for f in store.listed(T, "2026-02", "", 10)] == ["f"]


def test_tenants_do_not_see_each_others_ratings(store: FeedbackStore) -> None:
    assert store.add(T, rating("o1"))
    assert store.get("other", "o1") is None and store.listed("other", "2026-03", "", 10) == []
    assert store.add("other", rating("o1"))
