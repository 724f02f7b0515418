"""What the services ask of the adapters below them, declared here so that neither side imports the other.

The storage adapters (``shared/dal``) raise these exceptions, the queue adapter sends ``QueuedTask``s and the
message adapter (``shared/notify/aws.py``) is a ``Notifier``; the services catch, produce and call them. ``make lint`` (import-linter, contracts in pyproject.toml) keeps it so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from shared.errors import Transient


class VersionConflict(Exception):
    """The account changed since it was read: recompute and try again."""


class Duplicate(Exception):
    """A record with this business key exists: the effect was already applied."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class StoreUnavailable(Transient):
    """DynamoDB throttled or failed: answered 503 so the sender retries."""


@dataclass(frozen=True)
class Delivery:
    """What a message adapter (shared/notify/aws.py) did with one e-mail, SMS or staff task."""

    status: str  # sent | failed (transient) | invalid (permanent); the service adds unknown | gave_up
    message_id: str | None = None
    error: str | None = None
    cost_usd_micros: int = 0


class Notifier(Protocol):
    def email(self, to: str, source: str, template: str, data: dict[str, str]) -> Delivery: ...
    def sms(self, phone: str, text: str, sender_id: str | None) -> Delivery: ...
    def staff(self, topic_arn: str, subject: str, text: str) -> Delivery: ...


class QueuedTask(Protocol):
    def to_json(self) -> str: ...


class TaskQueue(Protocol):
    def send(self, tasks: Sequence[QueuedTask], delay_seconds: int = 0) -> None: ...
