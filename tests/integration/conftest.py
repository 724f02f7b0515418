"""Fixtures of the HTTP integration tests: a movable clock and read-back helpers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from shared import clock


class Clock:
    """The injected "now" (docs/spec.md §2); webhooks must be signed with ``ts`` so they stay fresh."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now

    @property
    def ts(self) -> int:
        return int(self.now.timestamp())


@pytest.fixture
def frozen() -> Iterator[Clock]:
    moving = Clock(datetime.now(UTC).replace(microsecond=0))
    clock.set_clock(lambda: moving.now)
    yield moving
    clock.set_clock(None)
