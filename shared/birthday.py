"""The birthday bonus calendar (docs/spec.md §8) as pure functions: which birthdays a run looks at, and whose day it is.

A birthday is celebrated on its month and day in the tenant's time zone; 29 February falls on 28 February in a
year without one. The hourly run cannot know every tenant's zone, so it looks at every month-day that is "today"
somewhere on Earth at its time (UTC-12 to UTC+14: two dates, three for two hours a day) and the job then keeps
the members whose tenant-local date is their birthday.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

EARLIEST_OFFSET = timedelta(hours=-12)  # the westernmost zone (Etc/GMT+12)
LATEST_OFFSET = timedelta(hours=14)  # the easternmost zone (Pacific/Kiritimati)


def celebrated_on(birthday: str, year: int) -> date:
    """The date a ``YYYY-MM-DD`` birthday is celebrated in ``year``."""
    month, day = int(birthday[5:7]), int(birthday[8:10])
    if (month, day) == (2, 29) and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, month, day)


def is_birthday(birthday: str, today: date) -> bool:
    return celebrated_on(birthday, today.year) == today


def birthday_days(now: datetime) -> list[str]:
    """The ``MM-DD`` keys of the birthday index that may be celebrated somewhere at ``now``, in date order."""
    utc = now.astimezone(UTC)
    day, last = (utc + EARLIEST_OFFSET).date(), (utc + LATEST_OFFSET).date()
    keys: list[str] = []
    while day <= last:
        keys.append(day.strftime("%m-%d"))
        if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
            keys.append("02-29")
        day += timedelta(days=1)
    return keys
