"""What the services ask of the adapters below them, declared here so that neither side imports the other.

The storage adapters (``shared/dal``) raise these exceptions, the queue adapter sends ``QueuedTask``s and the
message adapter (``shared/notify/aws.py``) is a ``Notifier``; the services catch, produce and call them. ``make lint`` (import-linter, contracts in pyproject.toml) keeps it so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from shared.cabinet_login import LoginCode, Purpose, Session
from shared.card import Card
from shared.errors import Transient
from shared.feedback import Feedback
from shared.records import Member

if TYPE_CHECKING:  # the campaigns' models load with the first campaign request, not with every function's init
    from shared.campaigns import CampaignVersion


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

    def code(self, tenant: str, contact: str, purpose: Purpose = "login") -> LoginCode | None:
        """The contact's current code of ``purpose`` (None: none, or it is past its record's life); a login code and
        a new contact's confirmation are two records, so that neither stands for the other."""
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

    def session_and_member(self, tenant: str, token_digest: str, member_id: str) -> tuple[Session | None, Member]:
        """The live session (None: none, ended or expired) and the member ``member_id`` in one read request: the
        cabinet's own view costs what the merchant's member view costs."""
        ...

    def end_session(self, tenant: str, token_digest: str) -> None: ...


class CardStore(Protocol):
    """The customer's digital cards (issue 16 item 4; ``shared.card``): the member's current card, and the look-up of
    a token's digest to its member. Every change is one conditional transaction, so that two concurrent first calls
    end with one card and two concurrent rotations cannot leave two live tokens."""

    def card(self, tenant: str, member_id: str) -> Card | None:
        """The member's current card (a consistent read); None before the first."""
        ...

    def create(self, tenant: str, card: Card) -> bool:
        """Store the member's first card and its look-up; False when the member has a card already (nothing
        written)."""
        ...

    def rotate(self, tenant: str, old: Card, new: Card) -> bool:
        """Replace the member's card ``old`` with ``new``: ``new``'s token resolves and ``old``'s does not, from the
        same instant; False when the member's card is no longer ``old`` (nothing written)."""
        ...

    def member_of(self, tenant: str, digest: str) -> str | None:
        """The member whose live card has this token digest (a consistent read); None for an unknown or rotated one."""
        ...


class FeedbackStore(Protocol):
    """Customers' ratings of paid orders (issue 16 item 6; ``shared.feedback``): one per order, and the tenant's list
    in time order, kept by UTC month."""

    def add(self, tenant: str, feedback: Feedback) -> bool:
        """Store the order's rating and its copy in the month's list, in one transaction; False when the order has a
        rating already (nothing written)."""
        ...

    def get(self, tenant: str, order_id: str) -> Feedback | None:
        """The order's rating (a consistent read); None before it is rated."""
        ...

    def listed(self, tenant: str, month: str, after: str, limit: int) -> list[Feedback]:
        """Up to ``limit`` ratings of the month (``yyyy-mm``) whose list key (``shared.feedback.list_key``) sorts after
        ``after``, oldest first (one Query)."""
        ...


class CampaignStore(Protocol):
    """A tenant's campaigns and every version of each (issue 17 item 1; ``shared.campaigns``). Every write is
    conditional, so that two saves of one campaign, or creations past the limit, cannot both succeed."""

    def current(self, tenant: str, campaign_id: str) -> CampaignVersion | None:
        """The campaign's current version (a consistent read); None for an unknown campaign."""
        ...

    def version(self, tenant: str, campaign_id: str, version: int) -> CampaignVersion | None:
        """One saved version of the campaign; None when it has no such version."""
        ...

    def listed(self, tenant: str) -> list[CampaignVersion]:
        """The current version of each of the tenant's campaigns, by id (one Query)."""
        ...

    def create(self, tenant: str, version: CampaignVersion, ordinal: int) -> Literal["created", "exists", "taken"]:
        """Save version 1 of a new campaign in place ``ordinal`` (0-based: how many campaigns the tenant had) in one
        transaction: "exists" when the id is taken, "taken" when another campaign took the place meanwhile (count
        again); nothing is written but on "created"."""
        ...

    def replace(self, tenant: str, version: CampaignVersion) -> bool:
        """Save ``version`` as the campaign's current one if the current one is still ``version.version - 1``, and
        keep it among the versions, in one transaction; False (nothing written) when another save came first."""
        ...
