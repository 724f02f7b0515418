"""The injectable "now" (docs/spec.md §2): production reads the wall clock, tests and replays set it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    return _now()


def set_clock(fn: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests, replays); ``None`` restores the wall clock."""
    global _now
    _now = fn or (lambda: datetime.now(UTC))


def parse_ts(value: str) -> datetime:
    """Parse an ISO-8601 timestamp; naive values are rejected rather than guessed."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("timestamp must carry a UTC offset")
    return parsed.astimezone(UTC)


def iso(value: datetime) -> str:
    """Canonical storage/API form: UTC, second precision, ``Z`` suffix."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
