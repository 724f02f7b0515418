"""DynamoDB implementation of the cabinet's ``CabinetStore`` (login codes, send counters, sessions; issue 16).

Three item kinds of the ledger table (``shared.dal.models``; layout in infra/ACCESS_PATTERNS.md), each changed by a
single conditional write and never by a read followed by a write: a send counter by an UpdateItem ADD under
"below the limit", a code by a PutItem under "still the salt it replaces", a wrong try by an UpdateItem under "same
salt, tries left", and a correct code by one TransactWriteItems that deletes the code under that condition and
creates the session. Every item has a ``ttl``, so DynamoDB removes it; until it does, a record past its ``ttl`` reads
as none. Throttling and server errors raise ``StoreUnavailable`` (``guard``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared.cabinet_login import MAX_ATTEMPTS, LoginCode, Purpose, Session, key_digest
from shared.clock import now as clock_now
from shared.dal.ledger_store import member_of
from shared.dal.models import LedgerTable, LoginCodeItem, LoginCounterItem, SessionItem
from shared.dal.transactions import condition_failed, conditional_transaction, guard
from shared.keys import (
    ACCOUNT,
    CONTACT_CODE,
    LOGIN_CODE,
    PROFILE,
    SESSION,
    login_scope,
    member_pk,
    sends_key,
    session_scope,
    tenant_pk,
)
from shared.ports import StoreUnavailable
from shared.records import Member

CODE_LIFE = timedelta(days=1)  # a code's record outlives its expiry by this much (then DynamoDB removes it)
COUNTER_LIFE = timedelta(hours=2)  # a send counter's record outlives its hour by this much
SESSION_LIFE = timedelta(days=1)  # a session's record outlives its expiry by this much


def epoch(at: datetime) -> int:
    return int(at.timestamp())


SPENT = "spent"  # the salt of a code that opened its session: no code matches it again


def code_pk(tenant: str, contact: str) -> str:
    return tenant_pk(tenant, login_scope(key_digest(tenant, contact)))


def code_sk(purpose: Purpose) -> str:
    """A contact's login code and its new-contact confirmation are two items of its partition."""
    return LOGIN_CODE if purpose == "login" else CONTACT_CODE


def session_pk(tenant: str, token_digest: str) -> str:
    return tenant_pk(tenant, session_scope(token_digest))


def code_ttl(code: LoginCode) -> int:
    return epoch(code.expires_at + CODE_LIFE)


def counter_ttl(now: datetime) -> int:
    """Two hours after the end of the hour of ``now`` (the window being counted)."""
    return epoch(now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1) + COUNTER_LIFE)


def session_ttl(session: Session) -> int:
    return epoch(session.expires_at + SESSION_LIFE)


def code_item(tenant: str, code: LoginCode) -> LoginCodeItem:
    return LoginCodeItem(
        code_pk(tenant, code.contact),
        code_sk(code.purpose),
        member_id=code.member_id or None,  # none (an unknown contact): a key attribute of an index is never empty
        salt=code.salt,
        digest=code.digest,
        sent_at=code.sent_at,
        expires_at=code.expires_at,
        attempts=code.attempts,
        ttl=code_ttl(code),
    )


def code_from(item: LoginCodeItem, contact: str, purpose: Purpose) -> LoginCode:
    """The code as the domain knows it; the contact is the one asked for (the item keeps only its digest)."""
    return LoginCode(
        contact=contact,
        member_id=item.member_id or "",
        salt=item.salt,
        digest=item.digest,
        sent_at=item.sent_at,
        expires_at=item.expires_at,
        attempts=int(item.attempts),
        purpose=purpose,
    )


def session_item(tenant: str, session: Session) -> SessionItem:
    return SessionItem(
        session_pk(tenant, session.token_digest),
        SESSION,
        member_id=session.member_id,
        created_at=session.created_at,
        expires_at=session.expires_at,
        ttl=session_ttl(session),
    )


class DynamoCabinetStore:
    """``CabinetStore`` over the ledger table: one request per method, every change conditional."""

    def count(self, tenant: str, scope: str, window: str, limit: int, now: datetime) -> bool:
        if limit <= 0:
            return False
        item = LoginCounterItem(tenant_pk(tenant, scope), sends_key(window))
        actions: list[Action] = [
            LedgerTable.type.set(LoginCounterItem),
            LoginCounterItem.value.add(1),
            LoginCounterItem.ttl.set(counter_ttl(now)),
        ]
        condition = LoginCounterItem.pk.does_not_exist() | (LoginCounterItem.value < limit)
        return _conditional(lambda: item.update(actions=actions, condition=condition))

    def code(self, tenant: str, contact: str, purpose: Purpose = "login") -> LoginCode | None:
        try:
            item = guard(lambda: LoginCodeItem.get(code_pk(tenant, contact), code_sk(purpose), consistent_read=True))
        except LoginCodeItem.DoesNotExist:
            return None
        return code_from(item, contact, purpose) if int(item.ttl) > epoch(clock_now()) else None

    def replace_code(self, tenant: str, code: LoginCode, previous: LoginCode | None) -> bool:
        """A record past its ``ttl`` that DynamoDB has not removed yet counts as none, as ``code`` reads it."""
        item = code_item(tenant, code)
        if previous is None:
            condition = LoginCodeItem.pk.does_not_exist() | (LoginCodeItem.ttl <= epoch(clock_now()))
        else:
            condition = LoginCodeItem.salt == previous.salt
        return _conditional(lambda: item.save(condition=condition))

    def add_attempt(self, tenant: str, code: LoginCode) -> bool:
        item = LoginCodeItem(code_pk(tenant, code.contact), code_sk(code.purpose))
        condition = (LoginCodeItem.salt == code.salt) & (LoginCodeItem.attempts < MAX_ATTEMPTS)
        return _conditional(lambda: item.update(actions=[LoginCodeItem.attempts.add(1)], condition=condition))

    def consume(self, tenant: str, code: LoginCode, session: Session) -> bool:
        # The code is spent by ending its life now, not deleted: the API's role deletes nothing (TTL does)
        now = session.created_at
        stored = LoginCodeItem(code_pk(tenant, code.contact), code_sk(code.purpose))
        usable = (LoginCodeItem.salt == code.salt) & (LoginCodeItem.attempts < MAX_ATTEMPTS)
        opened = session_item(tenant, session)

        def write(tx: TransactWrite) -> None:
            tx.update(  # a new salt: a second consume of the same code fails its condition, whatever its clock
                stored,
                actions=[LoginCodeItem.expires_at.set(now), LoginCodeItem.salt.set(SPENT)],
                condition=usable & (LoginCodeItem.expires_at > now),
            )
            tx.save(opened, condition=SessionItem.pk.does_not_exist())

        return conditional_transaction(write)

    def session(self, tenant: str, token_digest: str) -> Session | None:
        try:
            item = guard(lambda: SessionItem.get(session_pk(tenant, token_digest), SESSION, consistent_read=True))
        except SessionItem.DoesNotExist:
            return None
        return _session_of(item, token_digest)

    def session_and_member(self, tenant: str, token_digest: str, member_id: str) -> tuple[Session | None, Member]:
        """One BatchGetItem: the session item and the member's ACCOUNT and PROFILE items."""
        pk = member_pk(tenant, member_id)
        keys = [(session_pk(tenant, token_digest), SESSION), (pk, ACCOUNT), (pk, PROFILE)]
        items = guard(lambda: list(LedgerTable.batch_get(keys, consistent_read=True)))
        found = next((item for item in items if isinstance(item, SessionItem)), None)
        return (_session_of(found, token_digest) if found else None), member_of(member_id, items)

    def end_session(self, tenant: str, token_digest: str) -> None:
        """Ended by ending its life now (the API's role deletes nothing; TTL removes the record)."""
        item = SessionItem(session_pk(tenant, token_digest), SESSION)
        _conditional(
            lambda: item.update(actions=[SessionItem.expires_at.set(clock_now())], condition=SessionItem.pk.exists())
        )


def _session_of(item: SessionItem, token_digest: str) -> Session | None:
    if int(item.ttl) <= epoch(clock_now()) or item.expires_at <= clock_now():  # gone, or ended by a log-out
        return None
    return Session(
        token_digest=token_digest, member_id=item.member_id, created_at=item.created_at, expires_at=item.expires_at
    )


def _conditional(write: Callable[[], Any]) -> bool:
    """Run one conditional write: False when its condition failed, ``StoreUnavailable`` when the storage did."""
    try:
        guard(write)
    except StoreUnavailable as exc:
        if condition_failed(exc):
            return False
        raise
    return True
