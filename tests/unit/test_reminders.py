"""The reminder ladder as pure functions (shared/reminders.py): stage times, watermark, late lots, SMS window."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.ledger import Lot
from shared.program import ReminderStage, default_ladder
from shared.reminders import (
    due_messages,
    expiring_by_date,
    fire_time,
    next_remind_at,
    next_sms_window,
    sms_window_open,
)
from tests.accounts import account as new_account

MOSCOW, NEW_YORK = ZoneInfo("Europe/Moscow"), ZoneInfo("America/New_York")
LADDER = default_ladder()


def lot(lot_id: str, remaining: int, earned: datetime, expires: datetime) -> Lot:
    return Lot(
        lot_id=lot_id,
        points=remaining,
        remaining=remaining,
        source="order",
        earned_at=earned,
        available_at=earned,
        expires_at=expires,
    )


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_a_stage_fires_at_local_midnight_days_before_the_local_expiry_date() -> None:
    # 2027-03-01 in Moscow (UTC+3): 60 days before is 2026-12-31, whose midnight is 21:00 UTC the day before
    assert fire_time(date(2027, 3, 1), 60, MOSCOW) == at(2026, 12, 30, 21, 0)
    # In New York the same rule follows daylight saving time: EDT (UTC-4) on 2027-04-01
    assert fire_time(date(2027, 5, 31), 60, NEW_YORK) == at(2027, 4, 1, 4, 0)


def test_points_are_grouped_by_their_local_expiry_date() -> None:
    # Given two lots that expire on the same Moscow date at different hours, and one the next day
    earned = at(2026, 1, 1)
    account = new_account(
        "c1",
        lots=(
            lot("1", 10, earned, at(2027, 3, 1, 7)),
            lot("2", 5, earned, at(2027, 3, 1, 20)),  # 23:00 Moscow, same date
            lot("3", 7, earned, at(2027, 3, 1, 22)),  # 01:00 Moscow, next date
        ),
    )
    groups = expiring_by_date(account.ledger, MOSCOW, at(2027, 1, 1))
    assert [(g.expiry_date, g.points) for g in groups] == [(date(2027, 3, 1), 15), (date(2027, 3, 2), 7)]


def test_due_messages_cover_each_stage_channel_once_the_time_has_come() -> None:
    account = new_account("c1", lots=(lot("1", 100, at(2026, 3, 1, 7), at(2027, 3, 1, 7)),))
    # Before the 60-day stage: nothing; at it: e-mail and SMS; at 45 days: the staff call as well (not yet covered)
    assert due_messages(account, LADDER, MOSCOW, at(2026, 12, 30, 20)) == []
    due = due_messages(account, LADDER, MOSCOW, at(2026, 12, 31, 7))
    assert [(m.days_before, m.channel, m.points) for m in due] == [(60, "email", 100), (60, "sms", 100)]
    assert due[0].key == "NOTIFY#2027-03-01#060#email"
    later = due_messages(account, LADDER, MOSCOW, at(2027, 1, 15, 7))
    assert [(m.days_before, m.channel) for m in later] == [(60, "email"), (60, "sms"), (45, "staff_call")]


def test_the_watermark_hides_what_was_handled_and_next_remind_at_points_to_the_next_stage() -> None:
    account = new_account("c1", lots=(lot("1", 100, at(2026, 3, 1, 7), at(2027, 3, 1, 7)),))
    # Before anything ran, the member is next due at the 60-day stage
    assert next_remind_at(account, LADDER, MOSCOW, at(2026, 3, 1, 7)) == at(2026, 12, 30, 21)
    # After the 60-day stage was handled, only the 45-day stage is left
    handled = account.with_wakeups(reminded_through=at(2026, 12, 31, 7))
    assert due_messages(handled, LADDER, MOSCOW, at(2026, 12, 31, 8)) == []
    assert next_remind_at(handled, LADDER, MOSCOW, at(2026, 12, 31, 8)) == at(2027, 1, 14, 21)
    # After both, nothing is left before the points expire
    done = account.with_wakeups(reminded_through=at(2027, 1, 15, 7))
    assert next_remind_at(done, LADDER, MOSCOW, at(2027, 1, 15, 8)) is None


def test_a_lot_that_arrives_after_its_stage_time_is_reminded_when_it_arrives() -> None:
    # Given the watermark is past, and a 30-day lot (e.g. restored points) arrives: both stages are behind it
    handled = new_account("c1", reminded_through=at(2027, 1, 10))
    arrived = at(2027, 1, 20, 12)
    account = handled.with_ledger(replace(handled.ledger, lots=(lot("9", 40, arrived, arrived + timedelta(days=30)),)))
    # Then it is due at once for every stage, and next_remind_at says so
    assert next_remind_at(account, LADDER, MOSCOW, arrived) == arrived
    due = due_messages(account, LADDER, MOSCOW, arrived)
    assert {(m.days_before, m.channel) for m in due} == {(60, "email"), (60, "sms"), (45, "staff_call")}


def test_spent_or_expired_points_are_not_reminded() -> None:
    gone = new_account("c1", lots=(lot("1", 100, at(2026, 3, 1), at(2027, 3, 1)),))
    assert due_messages(gone, LADDER, MOSCOW, at(2027, 3, 2)) == []
    assert next_remind_at(new_account("c1"), LADDER, MOSCOW, at(2027, 1, 1)) is None


def test_a_custom_ladder_with_one_stage() -> None:
    ladder = [ReminderStage(days_before=7, channels=["sms"])]
    account = new_account("c1", lots=(lot("1", 5, at(2026, 3, 1), at(2027, 3, 1, 12)),))
    assert next_remind_at(account, ladder, ZoneInfo("UTC"), at(2026, 3, 1)) == at(2027, 2, 22)


def test_the_sms_window_is_09_to_21_local() -> None:
    assert sms_window_open(at(2027, 4, 3, 2), ZoneInfo("Asia/Vladivostok"))  # 12:00
    assert not sms_window_open(at(2027, 4, 3, 2), NEW_YORK)  # 22:00 the day before
    assert not sms_window_open(at(2027, 4, 3, 18), MOSCOW)  # 21:00 exactly: closed
    # Outside the window the next opening is 09:00 local, today or tomorrow
    assert next_sms_window(at(2027, 4, 3, 2), NEW_YORK) == at(2027, 4, 3, 13)
    assert next_sms_window(at(2027, 4, 3, 19), MOSCOW) == at(2027, 4, 4, 6)
    assert next_sms_window(at(2027, 4, 3, 10), MOSCOW) == at(2027, 4, 3, 10)
