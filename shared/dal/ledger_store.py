"""DynamoDB implementation of the ledger store (one table; layout in infra/ACCESS_PATTERNS.md): loads and commits.

The codecs, the transaction, the index queries and the notification records are modules of their own.

Request budget per operation is part of the design: a member is read with one BatchGetItem
(account + profile), an order with one Query of its partition, and every change is one
TransactWriteItems whose conditions enforce idempotency and the member's version.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from shared.account import Account
from shared.clock import now as clock_now
from shared.dal.account_codec import account_from
from shared.dal.ledger_indexes import LedgerIndexes
from shared.dal.models import (
    AccountItem,
    CounterItem,
    EntryItem,
    HoldItem,
    LedgerTable,
    OrderHoldItem,
    OrderVoidItem,
    ProfileItem,
    RefundItem,
)
from shared.dal.notification_store import NotificationRecords
from shared.dal.record_codecs import (
    entry_from,
    history_from,
    hold_from,
    lot_changes,
    profile_from,
    refund_from,
)
from shared.dal.transactions import (
    Write,
    commit_writes,
    guard,
    profile_patch,
    transact,
)
from shared.entry_details import RedeemDetails
from shared.errors import BadRequest
from shared.keys import (
    ACCOUNT,
    EXPIRE_PREFIX,
    HOLD,
    LAST,
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
from shared.records import (
    Commit,
    EntryRecord,
    HistoryPage,
    HoldRecord,
    Member,
    MemberKey,
    OrderHoldClaim,
    OrderState,
    Profile,
    Redemption,
)


class DynamoLedgerStore(LedgerIndexes, NotificationRecords):
    def load_member(self, tenant: str, member_id: str) -> Member:
        pk = member_pk(tenant, member_id)
        items = guard(lambda: list(LedgerTable.batch_get([(pk, ACCOUNT), (pk, PROFILE)], consistent_read=True)))
        return member_of(member_id, items)

    def load_order(self, tenant: str, order_id: str) -> OrderState:
        scope = order_scope(order_id)
        items = guard(lambda: list(LedgerTable.query(tenant_pk(tenant, scope), consistent_read=True)))
        paid, voided, redemption, refunds, referral = None, False, None, [], []
        for item in items:
            if isinstance(item, OrderVoidItem):
                voided = True
            elif isinstance(item, RefundItem):
                refunds.append(refund_from(item))
            elif isinstance(item, EntryItem) and item.sk == PAID:
                paid = entry_from(item, scope)
            elif isinstance(item, EntryItem) and item.sk.startswith(REFERRAL_PREFIX):
                referral.append(entry_from(item, scope))
            elif isinstance(item, EntryItem) and item.sk == REDEEM:
                entry = entry_from(item, scope)
                redemption = Redemption(
                    points=-entry.movement.delta,
                    lots=entry.movement.lots,
                    hold_id=entry.details.hold_id if isinstance(entry.details, RedeemDetails) else None,
                    member_id=entry.member_id,
                )
        refunds.sort(key=lambda r: r.refunded_minor)
        return OrderState(paid, voided, redemption, tuple(refunds), tuple(referral))

    def get_hold(self, tenant: str, hold_id: str) -> HoldRecord | None:
        try:
            item = guard(lambda: HoldItem.get(tenant_pk(tenant, hold_scope(hold_id)), HOLD, consistent_read=True))
        except HoldItem.DoesNotExist:
            return None
        return hold_from(item)

    def hold_claim(self, tenant: str, order_id: str) -> OrderHoldClaim | None:
        """Which hold the order's checkout is on (one consistent GetItem), None when no hold was ever placed."""
        pk = tenant_pk(tenant, order_scope(order_id))
        try:
            item = guard(lambda: OrderHoldItem.get(pk, HOLD, consistent_read=True))
        except OrderHoldItem.DoesNotExist:
            return None
        expires_at = datetime.fromtimestamp(int(item.expires_epoch), UTC)
        return OrderHoldClaim(order_id, item.hold_id, item.member_id, expires_at, item.status)

    def commit(self, tenant: str, commit: Commit) -> None:
        """Apply ``commit`` atomically, or raise VersionConflict / Duplicate / StoreUnavailable."""
        self._transact(commit_writes(tenant, commit, clock_now()))

    def commit_pair(self, tenant: str, first: Commit, second: Commit) -> None:
        """Two members' commits as ONE transaction (a transfer, a referral): both apply or neither does.

        Each account keeps its own version condition, so a change to either member since it was read
        fails the whole transaction (VersionConflict) and the caller recomputes both from fresh state."""
        at = clock_now()
        self._transact(commit_writes(tenant, first, at) + commit_writes(tenant, second, at))

    def counter(self, tenant: str, member_id: str, key: str) -> int | None:
        """A member's running total (see ``CounterRecord``), None when it was never written."""
        try:
            item = guard(lambda: CounterItem.get(member_pk(tenant, member_id), key, consistent_read=True))
        except CounterItem.DoesNotExist:
            return None
        return int(item.value)

    def entries(self, tenant: str, scope: str) -> list[EntryRecord]:
        """Every entry under one business scope (``TRANSFER#<id>``), one consistent Query."""
        items = guard(lambda: list(LedgerTable.query(tenant_pk(tenant, scope), consistent_read=True)))
        return [entry_from(item, scope) for item in items if isinstance(item, EntryItem)]

    def expired_since(self, tenant: str, member_id: str, after_seq: int) -> list[LotChange]:
        """Lot changes of the member's expire entries written after entry ``after_seq``."""
        condition = LedgerTable.sk.between(expire_key(after_seq), EXPIRE_PREFIX + LAST)
        items = guard(lambda: list(LedgerTable.query(member_pk(tenant, member_id), condition, consistent_read=True)))
        return [change for item in items if isinstance(item, EntryItem) for change in lot_changes(item.lots)]

    def save_profile(self, tenant: str, profile: Profile) -> None:
        """Write the fields ``profile`` names and nothing else (one UpdateItem, see ``profile_patch``)."""
        patch = profile_patch(tenant, profile, clock_now())
        guard(lambda: patch.item.update(actions=patch.actions))

    def history(self, tenant: str, member_id: str, limit: int, cursor: str | None) -> HistoryPage:
        hist_pk = member_pk(tenant, member_id)
        start = _decode_cursor(cursor, hist_pk) if cursor else None
        result = LedgerTable.history.query(hist_pk, scan_index_forward=False, limit=limit, last_evaluated_key=start)
        entries = guard(lambda: [history_from(item) for item in result])
        last = result.last_evaluated_key
        return HistoryPage(entries, _encode_cursor(last) if last and len(entries) == limit else None)

    def load_members(self, keys: list[MemberKey], profiles: bool = False) -> dict[MemberKey, Member]:
        """Many members in BatchGetItem requests of up to 100 keys (consistent reads)."""
        sks = (ACCOUNT, PROFILE) if profiles else (ACCOUNT,)
        wanted = [(member_pk(k.tenant, k.member_id), sk) for k in keys for sk in sks]
        accounts: dict[str, Account] = {}
        found: dict[str, Profile] = {}
        for item in guard(lambda: list(LedgerTable.batch_get(wanted, consistent_read=True))):
            if isinstance(item, AccountItem):
                accounts[item.pk] = account_from(item)
            elif isinstance(item, ProfileItem):
                found[item.pk] = profile_from(item)
        members = {}
        for key in keys:
            pk = member_pk(key.tenant, key.member_id)
            account = accounts.get(pk)
            members[key] = Member(account or Account.new(key.member_id), found.get(pk), account is not None)
        return members

    def _transact(self, writes: list[Write]) -> None:
        transact(writes)  # a method, so that a test can make the storage fail


def member_of(member_id: str, items: list[Any]) -> Member:
    """The member of its ACCOUNT and PROFILE items, read with other items maybe (neither: no such member yet)."""
    account, profile = None, None
    for item in items:
        if isinstance(item, AccountItem):
            account = account_from(item)
        elif isinstance(item, ProfileItem):
            profile = profile_from(item)
    exists = account is not None or profile is not None
    return Member(account or Account.new(member_id), profile, exists)


def _encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, hist_pk: str) -> dict[str, Any]:
    """A cursor is only valid for the member it was issued for (no reading across members)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
        if key["hist_pk"] != {"S": hist_pk}:
            raise ValueError("cursor of another member")
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise BadRequest("cursor is not valid for this member", code="invalid_cursor") from exc
    return dict(key)
