"""The ledger store in memory: the same port and the same semantics as ``DynamoLedgerStore``, no emulator.

Items live in ``{partition key: {sort key: record}}`` under the keys of ``shared.keys``, so a business key is
unique here for the same reason it is in the table. A commit is checked whole before anything is written: every
condition of the DynamoDB transaction (``shared.dal.transactions.commit_writes``, ``shared.dal.order_claims``) is
evaluated first, a failed business-key condition raises ``Duplicate`` of that key, any other ``VersionConflict``,
and only then are the writes applied. Times are kept at second precision, as the table keeps them (``clock.iso``,
epoch seconds), so a record reads back here as it would from DynamoDB. Tests and local tools only: one process.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from dataclasses import replace
from typing import Any

from shared.account import Account
from shared.clock import now as clock_now
from shared.dal.memory_indexes import MemoryIndexes
from shared.dal.memory_writes import CounterValue, VoidMark, Write, commit_writes, merged_profile, put, stored
from shared.entry_details import RedeemDetails
from shared.errors import BadRequest
from shared.keys import (
    ACCOUNT,
    EXPIRE_PREFIX,
    HOLD,
    LAST,
    NOTIFY_PREFIX,
    PAID,
    PROFILE,
    REDEEM,
    REFERRAL_PREFIX,
    expire_key,
    hold_scope,
    member_pk,
    order_scope,
    tenant_pk,
)
from shared.ledger import LotChange
from shared.ports import Duplicate, StoreUnavailable, VersionConflict
from shared.records import (
    Commit,
    EntryRecord,
    HistoryPage,
    HoldRecord,
    Member,
    MemberKey,
    NotificationRecord,
    OrderHoldClaim,
    OrderState,
    Profile,
    Redemption,
    RefundRecord,
)


class MemoryLedgerStore(MemoryIndexes):
    """``LedgerStore``, the sweep's ``DueStore`` and the ABC analysis' ``AbcStore`` over dicts, thread-safe."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()

    # -- the transaction ---------------------------------------------------------------------------------------

    def commit(self, tenant: str, commit: Commit) -> None:
        """Apply ``commit`` atomically, or raise VersionConflict / Duplicate and write nothing."""
        self.transact(commit_writes(tenant, commit, clock_now()))

    def commit_pair(self, tenant: str, first: Commit, second: Commit) -> None:
        """Two members' commits as one transaction: both apply or neither does."""
        at = clock_now()
        self.transact(commit_writes(tenant, first, at) + commit_writes(tenant, second, at))

    def transact(self, writes: list[Write]) -> None:
        """All conditions first, then all writes. Like DynamoDB, one transaction may touch an item once only."""
        if len({(w.pk, w.sk) for w in writes}) != len(writes):
            raise StoreUnavailable("storage failed: ValidationException")
        with self._lock:
            failed = [w for w in writes if w.condition is not None and not w.condition(self._get(w.pk, w.sk))]
            for write in failed:
                if write.duplicate_key:
                    raise Duplicate(write.duplicate_key)
            if failed:
                raise VersionConflict()
            for write in writes:
                self.items.setdefault(write.pk, {})[write.sk] = write.value(self._get(write.pk, write.sk))

    def _get(self, pk: str, sk: str) -> Any:
        return self.items.get(pk, {}).get(sk)

    def _partition(self, pk: str, low: str = "", high: str | None = None) -> list[tuple[str, Any]]:
        """A partition's items in sort-key order (a Query), optionally ``low <= sk <= high``."""
        with self._lock:
            found = sorted(self.items.get(pk, {}).items())
        return [(sk, v) for sk, v in found if low <= sk and (high is None or sk <= high)]

    # -- members ----------------------------------------------------------------------------------------------

    def load_member(self, tenant: str, member_id: str) -> Member:
        pk = member_pk(tenant, member_id)
        account, profile = self._get(pk, ACCOUNT), self._get(pk, PROFILE)
        return Member(account or Account.new(member_id), profile, account is not None or profile is not None)

    def load_members(self, keys: list[MemberKey], profiles: bool = False) -> dict[MemberKey, Member]:
        """As the batch read does: ``exists`` is "has an account" here, whatever the profile."""
        members = {}
        for key in keys:
            pk = member_pk(key.tenant, key.member_id)
            account = self._get(pk, ACCOUNT)
            profile = self._get(pk, PROFILE) if profiles else None
            members[key] = Member(account or Account.new(key.member_id), profile, account is not None)
        return members

    def save_profile(self, tenant: str, profile: Profile) -> None:
        pk = member_pk(tenant, profile.member_id)
        with self._lock:
            self.items.setdefault(pk, {})[PROFILE] = merged_profile(self._get(pk, PROFILE), profile)

    def counter(self, tenant: str, member_id: str, key: str) -> int | None:
        found = self._get(member_pk(tenant, member_id), key)
        return found.value if isinstance(found, CounterValue) else None

    # -- orders, holds, entries -------------------------------------------------------------------------------

    def load_order(self, tenant: str, order_id: str) -> OrderState:
        scope = order_scope(order_id)
        paid, voided, redemption = None, False, None
        refunds: list[RefundRecord] = []
        referral: list[EntryRecord] = []
        for sk, value in self._partition(tenant_pk(tenant, scope)):
            if isinstance(value, VoidMark):
                voided = True
            elif isinstance(value, RefundRecord):
                refunds.append(replace(value, order_paid_at=None))  # indexed, not read back (refund_from)
            elif isinstance(value, EntryRecord) and sk == PAID:
                paid = value
            elif isinstance(value, EntryRecord) and sk.startswith(REFERRAL_PREFIX):
                referral.append(value)
            elif isinstance(value, EntryRecord) and sk == REDEEM:
                hold_id = value.details.hold_id if isinstance(value.details, RedeemDetails) else None
                redemption = Redemption(-value.movement.delta, value.movement.lots, hold_id, value.member_id)
        refunds.sort(key=lambda r: r.refunded_minor)
        return OrderState(paid, voided, redemption, tuple(refunds), tuple(referral))

    def get_hold(self, tenant: str, hold_id: str) -> HoldRecord | None:
        found = self._get(tenant_pk(tenant, hold_scope(hold_id)), HOLD)
        return found if isinstance(found, HoldRecord) else None

    def hold_claim(self, tenant: str, order_id: str) -> OrderHoldClaim | None:
        found = self._get(tenant_pk(tenant, order_scope(order_id)), HOLD)
        return found if isinstance(found, OrderHoldClaim) else None

    def entries(self, tenant: str, scope: str) -> list[EntryRecord]:
        return [v for _, v in self._partition(tenant_pk(tenant, scope)) if isinstance(v, EntryRecord)]

    def expired_since(self, tenant: str, member_id: str, after_seq: int) -> list[LotChange]:
        """As the DynamoDB range ``between(expire_key(after_seq), EXPIRE#~)``: inclusive of ``after_seq``."""
        found = self._partition(member_pk(tenant, member_id), expire_key(after_seq), EXPIRE_PREFIX + LAST)
        return [change for _, v in found if isinstance(v, EntryRecord) for change in v.movement.lots]

    # -- history ----------------------------------------------------------------------------------------------

    def history(self, tenant: str, member_id: str, limit: int, cursor: str | None) -> HistoryPage:
        """Entries and notifications of the member, newest (highest seq) first, ``limit`` a page."""
        hist_pk = member_pk(tenant, member_id)
        rows = sorted(self._history_rows(tenant, member_id), key=lambda r: r[0], reverse=True)
        if cursor:
            start = _decode_cursor(cursor, hist_pk)
            rows = [r for r in rows if r[0] < start]
        page = rows[:limit]
        last = page[-1][0] if page and len(page) == limit else None
        return HistoryPage([r[1] for r in page], _encode_cursor(hist_pk, last) if last else None)

    def _history_rows(self, tenant: str, member_id: str) -> list[tuple[tuple[int, str, str], Any]]:
        """(position, record): the position is (seq, pk, sk), a total order like the index key plus table key."""
        prefix = tenant_pk(tenant, "")
        rows = []
        with self._lock:
            mine = [
                (pk, sk, value)
                for pk, part in self.items.items()
                if pk.startswith(prefix)
                for sk, value in part.items()
            ]
            for pk, sk, value in mine:
                if isinstance(value, EntryRecord | NotificationRecord) and value.member_id == member_id:
                    seq = value.movement.seq if isinstance(value, EntryRecord) else value.seq
                    rows.append(((seq, pk, sk), value))
        return rows

    # -- notifications ----------------------------------------------------------------------------------------

    def notifications(self, tenant: str, member_id: str, since_key: str) -> dict[str, NotificationRecord]:
        found = self._partition(member_pk(tenant, member_id), since_key, NOTIFY_PREFIX + LAST)
        return {sk: v for sk, v in found if isinstance(v, NotificationRecord)}

    def claim_notification(self, tenant: str, record: NotificationRecord, previous: NotificationRecord | None) -> bool:
        """Only one claimant wins: new if none was there, else only over the same status and attempt."""

        def holds(old: Any) -> bool:
            if previous is None:
                return old is None
            return old is not None and (old.status, old.attempts) == (previous.status, previous.attempts)

        write = Write(member_pk(tenant, record.member_id), record.key, put(stored(record)), holds)
        try:
            self.transact([write])
        except VersionConflict:
            return False
        return True

    def finish_notification(self, tenant: str, record: NotificationRecord) -> None:
        """The outcome, written only by the claim holder (status sending, same attempt); else silently not."""

        def holds(old: Any) -> bool:
            return old is not None and old.status == "sending" and old.attempts == record.attempts

        write = Write(member_pk(tenant, record.member_id), record.key, put(stored(record)), holds)
        try:
            self.transact([write])
        except VersionConflict:
            pass


def _encode_cursor(hist_pk: str, position: tuple[int, str, str]) -> str:
    seq, pk, sk = position
    raw = json.dumps({"hist_pk": hist_pk, "seq": seq, "pk": pk, "sk": sk}, sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, hist_pk: str) -> tuple[int, str, str]:
    """A cursor is only valid for the member it was issued for (no reading across members)."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if key["hist_pk"] != hist_pk:
            raise ValueError("cursor of another member")
        return int(key["seq"]), str(key["pk"]), str(key["sk"])
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise BadRequest("cursor is not valid for this member", code="invalid_cursor") from exc
