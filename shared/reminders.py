"""The expiry reminder ladder (docs/spec.md §7) as pure functions over a member's account: no I/O, "now" passed in.

Points are grouped by the tenant-local *date* they expire on. A stage ``{days_before, channels}`` fires for a
date at local midnight ``days_before`` days earlier, and only while points expiring that day are still unspent.
A lot created after its stage's time (a short-lived grant, restored points) fires when it is created: a customer
is never left untold because the points arrived late. Firing is tracked by a watermark on the account
(``reminded_through``); one message per (date, stage, channel) is enforced by the notification records
(see docs/decisions.md, "Reminders").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.account import Account
from shared.keys import reminder_key
from shared.ledger import Ledger
from shared.program import ReminderStage

SMS_WINDOW = (time(9, 0), time(21, 0))  # SMS only between 09:00 and 21:00 tenant time


@dataclass(frozen=True)
class ExpiringPoints:
    """Points of one member that expire on one tenant-local date."""

    expiry_date: date
    points: int
    expires_at: datetime  # the first lot of that date to expire
    newest_lot_at: datetime  # when the newest of those lots was created


@dataclass(frozen=True, kw_only=True)
class DueMessage:
    expiry_date: date
    days_before: int
    channel: str
    points: int
    expires_at: datetime
    fires_at: datetime

    @property
    def key(self) -> str:
        """One message per member, stage, expiry date and channel: the notification record's key."""
        return reminder_key(self.expiry_date.isoformat(), self.days_before, self.channel)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), zone).astimezone(UTC)


def fire_time(expiry_date: date, days_before: int, zone: ZoneInfo) -> datetime:
    return local_midnight(expiry_date - timedelta(days=days_before), zone)


def expiring_by_date(ledger: Ledger, zone: ZoneInfo, now: datetime) -> list[ExpiringPoints]:
    """Unspent, unexpired points grouped by their local expiry date, soonest first."""
    groups: dict[date, ExpiringPoints] = {}
    for lot in ledger.lots:
        if lot.expired(now) or lot.remaining <= 0:
            continue
        day = lot.expires_at.astimezone(zone).date()
        seen = groups.get(day)
        if seen is None:
            groups[day] = ExpiringPoints(day, lot.remaining, lot.expires_at, lot.earned_at)
        else:
            groups[day] = ExpiringPoints(
                day,
                seen.points + lot.remaining,
                min(seen.expires_at, lot.expires_at),
                max(seen.newest_lot_at, lot.earned_at),
            )
    return [groups[day] for day in sorted(groups)]


def _effective(group: ExpiringPoints, stage: ReminderStage, zone: ZoneInfo) -> datetime:
    """When the stage fires for this date: its calendar time, or the newest lot's creation if later."""
    return max(fire_time(group.expiry_date, stage.days_before, zone), group.newest_lot_at)


def due_messages(account: Account, stages: Sequence[ReminderStage], zone: ZoneInfo, now: datetime) -> list[DueMessage]:
    """Messages whose time has come and that the watermark has not yet covered."""
    since = account.wakeups.reminded_through
    due: list[DueMessage] = []
    for group in expiring_by_date(account.ledger, zone, now):
        for stage in stages:
            fires = _effective(group, stage, zone)
            if fires <= now and (since is None or fires > since):
                due.extend(
                    DueMessage(
                        expiry_date=group.expiry_date,
                        days_before=stage.days_before,
                        channel=channel,
                        points=group.points,
                        expires_at=group.expires_at,
                        fires_at=fires,
                    )
                    for channel in stage.channels
                )
    return due


def next_remind_at(account: Account, stages: Sequence[ReminderStage], zone: ZoneInfo, now: datetime) -> datetime | None:
    """The earliest stage time not covered by the watermark, before its points expire (None: nothing to send)."""
    since = account.wakeups.reminded_through
    candidates = [
        _effective(group, stage, zone)
        for group in expiring_by_date(account.ledger, zone, now)
        for stage in stages
        if (since is None or _effective(group, stage, zone) > since)
        and _effective(group, stage, zone) < group.expires_at
    ]
    return min(candidates, default=None)


def sms_window_open(now: datetime, zone: ZoneInfo) -> bool:
    start, end = SMS_WINDOW
    return start <= now.astimezone(zone).time() < end


def next_sms_window(now: datetime, zone: ZoneInfo) -> datetime:
    """The next opening of the SMS window (now, when it is open)."""
    if sms_window_open(now, zone):
        return now
    local = now.astimezone(zone)
    day = local.date() if local.time() < SMS_WINDOW[0] else local.date() + timedelta(days=1)
    return datetime.combine(day, SMS_WINDOW[0], zone).astimezone(UTC)
