"""The pure rules of feedback (issue 16 item 6): the score's range, the complaint, the months a list reads, its cursor,
and the window it may reach back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from shared.errors import BadRequest, Unprocessable
from shared.feedback import (
    Feedback,
    Position,
    complaint,
    cursor_of,
    is_complaint,
    list_key,
    months,
    position_of,
    start,
    valid_score,
)

NOW = datetime(2026, 3, 2, 12, 30, tzinfo=UTC)


def test_scores_are_one_to_five_and_one_or_two_is_a_complaint() -> None:
    assert [s for s in range(-1, 8) if valid_score(s)] == [1, 2, 3, 4, 5]
    assert [s for s in range(1, 6) if is_complaint(s)] == [1, 2]


def test_the_list_reads_every_month_from_since_to_now_across_a_year() -> None:
    assert months("2025-12", NOW) == ["2025-12", "2026-01", "2026-02", "2026-03"]
    assert months("2026-03", NOW) == ["2026-03"]
    assert months("2026-04", NOW) == []  # since in the future: nothing to read


def test_a_list_key_sorts_by_time_then_order() -> None:
    keys = [list_key(NOW, "b"), list_key(NOW, "a"), list_key(NOW - timedelta(seconds=1), "z")]
    assert sorted(keys) == [keys[2], keys[1], keys[0]]
    # a time alone sorts before every key of its second, after every earlier one
    assert keys[2] < start(NOW, NOW).after < keys[1]


def test_since_reaches_back_92_days_at_most() -> None:
    assert start(NOW - timedelta(days=92), NOW) == Position("2025-11", "2025-11-30T12:30:00Z")
    with pytest.raises(Unprocessable) as refused:
        start(NOW - timedelta(days=92, seconds=1), NOW)
    assert refused.value.code == "since_too_old"


def test_a_cursor_goes_back_to_its_position_and_a_forged_one_is_refused() -> None:
    position = Position("2026-02", list_key(NOW - timedelta(days=20), "o1"))
    assert position_of(cursor_of(position), NOW) == position
    for forged in ("nope", cursor_of(Position("2025-01", "x")), cursor_of(Position("2026-13", "x")), "e30"):
        with pytest.raises(BadRequest) as refused:
            position_of(forged, NOW)
        assert refused.value.code == "invalid_cursor"


def test_a_complaint_names_the_order_score_and_comment_and_no_customer() -> None:
    feedback = Feedback(
        tenant_id="shop", order_id="o7", member_id="ann@example.com", score=2, comment="cold", created_at=NOW
    )
    subject, text = complaint("shop", feedback, "en")
    assert subject == "Complaint: order o7 rated 2 of 5"
    assert json.loads(text) == {
        "task": "feedback_complaint",
        "tenant_id": "shop",
        "order_id": "o7",
        "score": 2,
        "comment": "cold",
        "created_at": "2026-03-02T12:30:00Z",
    }
    assert complaint("shop", feedback, "ru")[0] == "Жалоба: заказ o7 оценён на 2 из 5"
