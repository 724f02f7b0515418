"""The cabinet store in memory: the same port and the same semantics as ``DynamoCabinetStore``, no emulator.

Records live under the table's keys (``shared.dal.cabinet_store``: the same partition and sort keys, the same
``ttl``), each change checks the condition of the DynamoDB write under one lock before it writes, and times are
kept at second precision, as the table keeps them. A record past its ``ttl`` reads as none, as it does from the
table before DynamoDB removes it. Tests and local tools only: one process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from shared.cabinet_login import MAX_ATTEMPTS, LoginCode, Purpose, Session
from shared.clock import now as clock_now
from shared.dal.cabinet_store import SPENT, code_pk, code_sk, code_ttl, counter_ttl, epoch, session_pk, session_ttl
from shared.dal.memory_writes import stored
from shared.keys import SESSION, sends_key, tenant_pk
from shared.records import Member


@dataclass(frozen=True)
class Kept:
    """A stored record with the ``ttl`` its item carries in the table."""

    value: object
    ttl: int


class MemoryCabinetStore:
    """``CabinetStore`` over a dict ``{(pk, sk): Kept}``, thread-safe."""

    def __init__(self, members: Callable[[str, str], Member] | None = None) -> None:
        """``members``: how a member is read (the memory ledger store's ``load_member``), for ``session_and_member``."""
        self.items: dict[tuple[str, str], Kept] = {}
        self._lock = threading.RLock()
        self._members = members

    def count(self, tenant: str, scope: str, window: str, limit: int, now: datetime) -> bool:
        key = (tenant_pk(tenant, scope), sends_key(window))
        with self._lock:
            found = self.items.get(key)
            value = found.value if found is not None and isinstance(found.value, int) else 0
            if limit <= 0 or (found is not None and value >= limit):
                return False
            self.items[key] = Kept(value=value + 1, ttl=counter_ttl(now))
        return True

    def code(self, tenant: str, contact: str, purpose: Purpose = "login") -> LoginCode | None:
        found = self._live((code_pk(tenant, contact), code_sk(purpose)))
        return found if isinstance(found, LoginCode) else None

    def replace_code(self, tenant: str, code: LoginCode, previous: LoginCode | None) -> bool:
        key = (code_pk(tenant, code.contact), code_sk(code.purpose))
        with self._lock:
            found = self.items.get(key)
            if previous is None:
                free = found is None or found.ttl <= epoch(clock_now())  # past its ttl: as none
            else:
                free = found is not None and isinstance(found.value, LoginCode) and found.value.salt == previous.salt
            if not free:
                return False
            self.items[key] = Kept(value=stored(code), ttl=code_ttl(code))
        return True

    def add_attempt(self, tenant: str, code: LoginCode) -> bool:
        key = (code_pk(tenant, code.contact), code_sk(code.purpose))
        with self._lock:
            found = self.items.get(key)
            if found is None or not isinstance(found.value, LoginCode) or not _usable(found.value, code):
                return False
            self.items[key] = Kept(value=replace(found.value, attempts=found.value.attempts + 1), ttl=found.ttl)
        return True

    def consume(self, tenant: str, code: LoginCode, session: Session) -> bool:
        code_key = (code_pk(tenant, code.contact), code_sk(code.purpose))
        session_key = (session_pk(tenant, session.token_digest), SESSION)
        with self._lock:
            found = self.items.get(code_key)
            old = found.value if found is not None else None
            if not _usable(old, code) or session_key in self.items:
                return False
            assert found is not None and isinstance(old, LoginCode)
            if old.expires_at <= session.created_at:
                return False
            spent = replace(old, expires_at=stored(session).created_at, salt=SPENT)  # as DynamoDB: no delete
            self.items[code_key] = Kept(value=spent, ttl=found.ttl)
            self.items[session_key] = Kept(value=stored(session), ttl=session_ttl(session))
        return True

    def session(self, tenant: str, token_digest: str) -> Session | None:
        found = self._live((session_pk(tenant, token_digest), SESSION))
        return found if isinstance(found, Session) and found.live(clock_now()) else None  # as DynamoDB's

    def session_and_member(self, tenant: str, token_digest: str, member_id: str) -> tuple[Session | None, Member]:
        if self._members is None:
            raise TypeError("MemoryCabinetStore(members=...) reads members for session_and_member")
        return self.session(tenant, token_digest), self._members(tenant, member_id)

    def end_session(self, tenant: str, token_digest: str) -> None:
        key = (session_pk(tenant, token_digest), SESSION)
        with self._lock:
            found = self.items.get(key)
            if found is not None and isinstance(found.value, Session):
                self.items[key] = Kept(value=replace(found.value, expires_at=stored(clock_now())), ttl=found.ttl)

    def _live(self, key: tuple[str, str]) -> object:
        """The record under ``key`` unless it is past its ``ttl`` (None)."""
        with self._lock:
            found = self.items.get(key)
        return found.value if found is not None and found.ttl > epoch(clock_now()) else None


def _usable(old: object, code: LoginCode) -> bool:
    """The condition of a try and of a consume: still this code (by salt), with tries left."""
    return isinstance(old, LoginCode) and old.salt == code.salt and old.attempts < MAX_ATTEMPTS
