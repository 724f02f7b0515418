"""What the services ask of the adapters below them, declared here so that neither side imports the other.

The storage adapters (``shared/dal``) raise these exceptions, the queue adapter sends ``QueuedTask``s and the
message adapter (``shared/notify/aws.py``) is a ``Notifier``; the services catch, produce and call them. ``make lint`` (import-linter, contracts in pyproject.toml) keeps it so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.cabinet_login import LoginCode, Session
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


class CabinetStore(Protocol):
    """The customer cabinet's login codes, send counters and sessions (issue 16; ``shared.cabinet_login``). Every
    change is conditional, so that concurrent requests cannot both pass a limit or both use one code."""

    def count(self, tenant: str, scope: str, window: str, limit: int, now: datetime) -> bool:
        """Add one to the counter of ``scope`` (``login_scope`` or ``login_ip_scope``) in ``window`` if it is below
        ``limit``; False when the limit is reached (nothing written)."""
        ...

    def code(self, tenant: str, contact: str) -> LoginCode | None:
        """The contact's current code (None: none, or it is past its record's life)."""
        ...

    def replace_code(self, tenant: str, code: LoginCode, previous: LoginCode | None) -> bool:
        """Store ``code`` as the contact's code if the stored one is still ``previous`` (by salt; None: none is
        stored); False when another request changed it first."""
        ...

    def add_attempt(self, tenant: str, code: LoginCode) -> bool:
        """Count one wrong try of ``code`` if it is still the stored one with fewer than ``MAX_ATTEMPTS`` tries."""
        ...

    def consume(self, tenant: str, code: LoginCode, session: Session) -> bool:
        """Spend ``code`` (still the stored one, tries left, not expired: its life ends and its salt changes, so no
        second consume matches) and create ``session``, in one transaction; False when the code was used, replaced
        or exhausted meanwhile (nothing written)."""
        ...

    def session(self, tenant: str, token_digest: str) -> Session | None: ...

    def end_session(self, tenant: str, token_digest: str) -> None: ...
