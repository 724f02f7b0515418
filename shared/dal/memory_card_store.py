"""The card store in memory: the same port and the same semantics as ``DynamoCardStore``, no emulator.

Records live under the table's keys (``shared.dal.card_store``), each transaction checks every condition of the
DynamoDB transaction under one lock before it writes any item, and times are kept at second precision, as the table
keeps them. Tests and local tools only: one process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime

from shared.card import Card
from shared.dal.card_store import card_pk, ended_ttl
from shared.dal.memory_writes import stored
from shared.keys import CARD, member_pk


@dataclass(frozen=True, kw_only=True)
class LookUp:
    """A card's look-up item: its member, and when a rotation ended it."""

    member_id: str
    issued_at: datetime
    ended_at: datetime | None = None
    ttl: int | None = None


class MemoryCardStore:
    """``CardStore`` over a dict ``{(pk, sk): Card | LookUp}``, thread-safe."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Card | LookUp] = {}
        self._lock = threading.RLock()

    def card(self, tenant: str, member_id: str) -> Card | None:
        with self._lock:
            found = self.items.get((member_pk(tenant, member_id), CARD))
        return found if isinstance(found, Card) else None

    def create(self, tenant: str, card: Card) -> bool:
        mine, look_up = (member_pk(tenant, card.member_id), CARD), (card_pk(tenant, card.digest), CARD)
        with self._lock:
            if mine in self.items or look_up in self.items:
                return False
            self.items[mine] = stored(card)
            self.items[look_up] = LookUp(member_id=card.member_id, issued_at=stored(card.issued_at))
        return True

    def rotate(self, tenant: str, old: Card, new: Card) -> bool:
        mine = (member_pk(tenant, old.member_id), CARD)
        ended, added = (card_pk(tenant, old.digest), CARD), (card_pk(tenant, new.digest), CARD)
        with self._lock:
            current, previous = self.items.get(mine), self.items.get(ended)
            if not isinstance(current, Card) or current.digest != old.digest or added in self.items:
                return False
            if not isinstance(previous, LookUp) or previous.member_id != old.member_id or previous.ended_at:
                return False
            at = stored(new.issued_at)
            self.items[added] = LookUp(member_id=new.member_id, issued_at=at)
            self.items[ended] = replace(previous, ended_at=at, ttl=ended_ttl(at))
            self.items[mine] = replace(current, token=new.token, digest=new.digest, issued_at=at)
        return True

    def member_of(self, tenant: str, digest: str) -> str | None:
        with self._lock:
            found = self.items.get((card_pk(tenant, digest), CARD))
        return found.member_id if isinstance(found, LookUp) and found.ended_at is None else None
