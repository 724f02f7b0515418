"""The notification records of the ledger store (intent first, then outcome)."""

from __future__ import annotations

from shared.dal.models import (
    LedgerTable,
    NotificationItem,
)
from shared.dal.record_codecs import (
    notification_from,
    notification_item,
)
from shared.dal.transactions import (
    condition_failed,
    guard,
)
from shared.keys import (
    LAST,
    NOTIFY_PREFIX,
    member_pk,
)
from shared.ports import StoreUnavailable
from shared.records import (
    NotificationRecord,
)


class NotificationRecords:
    """A member's message records: written before sending (a claim), then their outcome."""

    def notifications(self, tenant: str, member_id: str, since_key: str) -> dict[str, NotificationRecord]:
        """The member's notification records with keys from ``since_key`` on (one Query)."""
        condition = LedgerTable.sk.between(since_key, NOTIFY_PREFIX + LAST)
        items = guard(lambda: list(LedgerTable.query(member_pk(tenant, member_id), condition, consistent_read=True)))
        return {item.sk: notification_from(item) for item in items if isinstance(item, NotificationItem)}

    def claim_notification(self, tenant: str, record: NotificationRecord, previous: NotificationRecord | None) -> bool:
        """Record the intent to send before sending: only one claimant wins (False: someone else did)."""
        item = notification_item(tenant, record)
        if previous is None:
            condition = NotificationItem.pk.does_not_exist()
        else:
            condition = (NotificationItem.status == previous.status) & (NotificationItem.attempts == previous.attempts)
        try:
            guard(lambda: item.save(condition=condition))
        except StoreUnavailable as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def finish_notification(self, tenant: str, record: NotificationRecord) -> None:
        """The outcome of a claimed message; only the claim holder (same attempt) may write it."""
        item = notification_item(tenant, record)
        condition = (NotificationItem.status == "sending") & (NotificationItem.attempts == record.attempts)
        try:
            guard(lambda: item.save(condition=condition))
        except StoreUnavailable as exc:
            if not condition_failed(exc):
                raise
