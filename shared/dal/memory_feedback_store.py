"""The feedback store in memory: the same port and the same semantics as ``DynamoFeedbackStore``, no emulator.

Records live under the table's keys (``shared.dal.feedback_store``: the order's record and the month's list copy),
an add checks both conditions under one lock before it writes either, and times are kept at second precision, as
the table keeps them. Tests and local tools only: one process.
"""

from __future__ import annotations

import threading

from shared.dal.feedback_store import list_pk, record_pk
from shared.dal.memory_writes import stored
from shared.feedback import Feedback, list_key, month_of
from shared.keys import FEEDBACK


class MemoryFeedbackStore:
    """``FeedbackStore`` over a dict ``{(pk, sk): Feedback}``, thread-safe."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Feedback] = {}
        self._lock = threading.RLock()

    def add(self, tenant: str, feedback: Feedback) -> bool:
        kept = stored(feedback)
        record = (record_pk(tenant, kept.order_id), FEEDBACK)
        listed = (list_pk(tenant, month_of(kept.created_at)), list_key(kept.created_at, kept.order_id))
        with self._lock:
            if record in self.items or listed in self.items:
                return False
            self.items[record] = self.items[listed] = kept
        return True

    def get(self, tenant: str, order_id: str) -> Feedback | None:
        with self._lock:
            return self.items.get((record_pk(tenant, order_id), FEEDBACK))

    def listed(self, tenant: str, month: str, after: str, limit: int) -> list[Feedback]:
        pk = list_pk(tenant, month)
        with self._lock:
            keys = sorted(sk for p, sk in self.items if p == pk and sk > after)
            return [self.items[(pk, sk)] for sk in keys[:limit]]
