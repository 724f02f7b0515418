"""DynamoDB implementation of the ledger store (one table; layout in infra/ACCESS_PATTERNS.md).

Request budget per operation is part of the design: a member is read with one BatchGetItem
(account + profile), an order with one Query of its partition, and every change is one
TransactWriteItems whose conditions enforce idempotency and the member's version.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from shared.birthday import birthday_days
from shared.clock import now as clock_now
from shared.clock import parse_ts
from shared.dal.models import (
    AbcPaidIndex,
    AccountItem,
    CounterItem,
    EntryItem,
    HoldItem,
    HoldMap,
    LedgerTable,
    LotChangeMap,
    NotificationItem,
    OrderHoldItem,
    OrderVoidItem,
    ProfileItem,
    RefundItem,
)
from shared.dal.order_claims import claim_write
from shared.errors import BadRequest
from shared.keys import (
    ABC_SHARDS,
    ACCOUNT,
    EXPIRE_PREFIX,
    HOLD,
    LAST,
    NOTIFY_PREFIX,
    PAID,
    PROFILE,
    REDEEM,
    REFERRAL_PREFIX,
    abc_key,
    abc_pk,
    birthday_key,
    business_key,
    contact_key,
    expire_key,
    hold_scope,
    member_key,
    member_pk,
    order_scope,
    referral_key,
    refund_key,
    shard_of,
    shard_pk,
    tenant_pk,
)
from shared.ledger import Account, Hold, Lot, LotChange, Movement
from shared.orders import Returned
from shared.ports import Duplicate, StoreUnavailable, VersionConflict
from shared.records import (
    Commit,
    CounterRecord,
    DuePage,
    EntryRecord,
    HistoryPage,
    HoldRecord,
    Member,
    MemberKey,
    NotificationRecord,
    OrderHoldClaim,
    OrderState,
    PaidRow,
    Profile,
    Redemption,
    RefundRecord,
)
from shared.referral import code_of

HOLD_RECORD_DAYS = 30  # how long a finished hold's record stays readable before TTL removes it
RETRYABLE_REASONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}


# --- conversions --------------------------------------------------------------------------------


def _epoch(value: datetime) -> int:
    return int(value.timestamp())


def _time(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value), UTC)


def _lot_row(lot: Lot) -> list[Any]:
    """The compact form of LOT_FIELDS."""
    return [
        lot.lot_id,
        lot.points,
        lot.remaining,
        lot.source,
        _epoch(lot.earned_at),
        _epoch(lot.available_at),
        _epoch(lot.expires_at),
    ]


def _lot_from(row: list[Any]) -> Lot:
    lot_id, points, remaining, source, earned, available, expires = row
    return Lot(str(lot_id), int(points), int(remaining), str(source), _time(earned), _time(available), _time(expires))


def _account_from(item: AccountItem) -> Account:
    lots = tuple(_lot_from(row) for row in item.lots)
    holds = tuple(Hold(h.hold_id, h.order_id, int(h.points), h.expires_at) for h in item.holds)
    return Account(
        item.member_id,
        int(item.version),
        int(item.seq),
        int(item.debt),
        int(item.lifetime_spend_minor),
        lots,
        holds,
        item.remind_at,
        item.reminded_through,
        item.activated_through,
        item.tier,
        tuple(sorted((k, int(v)) for k, v in (item.spend_months.as_dict() if item.spend_months else {}).items())),
        int(item.paid_orders or 0),
        item.boost_until,
        bool(item.boost_open),
        item.abc_class,
        None if item.birthday_year is None else int(item.birthday_year),
        item.tier_review_at,
        item.boost_remind_at,
    )


def _account_item(tenant: str, account: Account, at: datetime) -> AccountItem:
    pk = member_pk(tenant, account.member_id)
    return AccountItem(
        pk,
        ACCOUNT,
        member_id=account.member_id,
        version=account.version,
        seq=account.seq,
        debt=account.debt,
        lifetime_spend_minor=account.lifetime_spend_minor,
        lots=[_lot_row(lot) for lot in account.lots],
        holds=[
            HoldMap(hold_id=h.hold_id, order_id=h.order_id, points=h.points, expires_at=h.expires_at)
            for h in account.holds
        ],
        shard=shard_of(pk),
        tenant_shard=shard_pk(tenant, shard_of(pk)),
        next_expiry=account.next_expiry,
        remind_at=account.remind_at,
        reminded_through=account.reminded_through,
        hold_expiry=account.next_hold_expiry,
        next_available=account.next_activation,
        activated_through=account.activated_through,
        tier=account.tier,
        spend_months=dict(account.spend_months) or None,
        paid_orders=account.paid_orders or None,
        boost_until=account.boost_until,
        boost_open=account.boost_discount_open or None,
        abc_class=account.abc_class,
        abc_key=abc_key(tenant) if account.abc_class == "A" else None,
        birthday_year=account.birthday_year,
        tier_review_at=account.tier_review_at,
        boost_remind_at=account.boost_remind_at,
        referral_key=referral_key(tenant, code_of(tenant, account.member_id)),
        updated_at=at,
    )


def _changes(items: Iterable[Any]) -> tuple[LotChange, ...]:
    return tuple(LotChange(c.lot_id, int(c.change), c.expires_at) for c in items)


def _entry_from(item: EntryItem, scope: str) -> EntryRecord:
    movement = Movement(
        item.kind, int(item.delta), int(item.seq), int(item.balance_after), _changes(item.lots), int(item.debt_change)
    )
    details = item.details.as_dict() if item.details is not None else {}
    return EntryRecord(
        scope, item.sk, item.member_id, movement, item.reference, item.created_at, item.event_id, _plain(details)
    )


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal: turn integral ones back into int."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == int(value) else float(value)
    return value


def _entry_item(tenant: str, entry: EntryRecord) -> EntryItem:
    mv = entry.movement
    details = entry.details
    paid = entry.key == PAID and "cash_paid_minor" in details  # an order's accrual: in the abc_paid index
    return EntryItem(
        tenant_pk(tenant, entry.scope),
        entry.key,
        member_id=entry.member_id,
        hist_pk=member_pk(tenant, entry.member_id),
        seq=mv.seq,
        kind=mv.kind,
        delta=mv.delta,
        balance_after=mv.balance_after,
        debt_change=mv.debt_change,
        reference=entry.reference,
        lots=[LotChangeMap(lot_id=c.lot_id, change=c.change, expires_at=c.expires_at) for c in mv.lots],
        event_id=entry.event_id,
        details=entry.details or None,
        created_at=entry.created_at,
        abc_pk=abc_pk(tenant, details["order_id"]) if paid else None,
        abc_at=parse_ts(details["paid_at"]) if paid else None,
        cash_minor=details["cash_paid_minor"] if paid else None,
    )


def _profile_from(item: ProfileItem) -> Profile:
    consent = {"email": item.consent_email, "sms": item.consent_sms, "call": item.consent_call}
    return Profile(item.member_id, item.email, item.phone, item.name, item.birthday, consent)


@dataclass(frozen=True)
class _Patch:
    """An UpdateItem of ``item``'s key that SETs only ``actions`` (a transaction's ``tx.update``)."""

    item: Model
    actions: list[Action]


def _profile_patch(tenant: str, profile: Profile, at: datetime) -> _Patch:
    """A profile write as a patch: the contact fields ``profile`` names (with their look-up keys) and the consent
    channels it names; a channel never stored starts on. Nothing else on the item is touched, so writers of
    different fields (an order's contact data, a merchant's opt-out) never undo each other, whatever they read."""
    pk = member_pk(tenant, profile.member_id)
    actions: list[Action] = [
        LedgerTable.type.set(ProfileItem),
        ProfileItem.member_id.set(profile.member_id),
        ProfileItem.referral_key.set(referral_key(tenant, code_of(tenant, profile.member_id))),
        ProfileItem.updated_at.set(at),
    ]
    if profile.email is not None:
        actions += [ProfileItem.email.set(profile.email), ProfileItem.email_key.set(contact_key(tenant, profile.email))]
    if profile.phone is not None:
        actions += [ProfileItem.phone.set(profile.phone), ProfileItem.phone_key.set(contact_key(tenant, profile.phone))]
    if profile.name is not None:
        actions.append(ProfileItem.name.set(profile.name))
    if profile.birthday is not None:
        bday = birthday_key(profile.birthday[5:10], shard_of(pk))
        actions += [ProfileItem.birthday.set(profile.birthday), ProfileItem.bday_key.set(bday)]
    for channel, attribute in (
        ("email", ProfileItem.consent_email),
        ("sms", ProfileItem.consent_sms),
        ("call", ProfileItem.consent_call),
    ):
        given = profile.consent.get(channel)
        actions.append(attribute.set(attribute | True if given is None else given))
    return _Patch(ProfileItem(pk, PROFILE), actions)


def _counter_write(tenant: str, counter: CounterRecord, at: datetime) -> tuple[Model, Any, str | None]:
    item = CounterItem(
        member_pk(tenant, counter.member_id),
        counter.key,
        member_id=counter.member_id,
        value=counter.value,
        updated_at=at,
    )
    if counter.previous is None:
        return item, CounterItem.pk.does_not_exist(), None
    return item, CounterItem.value == counter.previous, None


def _refund_from(item: RefundItem) -> RefundRecord:
    amount = None if item.amount_minor is None else int(item.amount_minor)
    return RefundRecord(
        item.order_id,
        item.refund_id,
        item.member_id,
        amount,
        int(item.refunded_minor),
        int(item.reversed_points),
        int(item.restored_points),
        item.created_at,
        item.event_id,
        returned=tuple(
            Returned(sku=sku, quantity=quantity, amount_minor=amount)
            for sku, quantity, amount in json.loads(item.returned or "[]")
        ),
    )


def _hold_from(item: HoldItem) -> HoldRecord:
    return HoldRecord(
        item.pk.rsplit("#HOLD#", 1)[1],
        item.member_id,
        item.order_id,
        int(item.points),
        int(item.discount_minor),
        item.expires_at,
        item.created_at,
    )


# --- the store ----------------------------------------------------------------------------------


class DynamoLedgerStore:
    def load_member(self, tenant: str, member_id: str) -> Member:
        pk = member_pk(tenant, member_id)
        account, profile = None, None
        for item in self._guard(
            lambda: list(LedgerTable.batch_get([(pk, ACCOUNT), (pk, PROFILE)], consistent_read=True))
        ):
            if isinstance(item, AccountItem):
                account = _account_from(item)
            elif isinstance(item, ProfileItem):
                profile = _profile_from(item)
        exists = account is not None or profile is not None
        return Member(account or Account(member_id), profile, exists)

    def load_order(self, tenant: str, order_id: str) -> OrderState:
        scope = order_scope(order_id)
        items = self._guard(lambda: list(LedgerTable.query(tenant_pk(tenant, scope), consistent_read=True)))
        paid, voided, redemption, refunds, referral = None, False, None, [], []
        for item in items:
            if isinstance(item, OrderVoidItem):
                voided = True
            elif isinstance(item, RefundItem):
                refunds.append(_refund_from(item))
            elif isinstance(item, EntryItem) and item.sk == PAID:
                paid = _entry_from(item, scope)
            elif isinstance(item, EntryItem) and item.sk.startswith(REFERRAL_PREFIX):
                referral.append(_entry_from(item, scope))
            elif isinstance(item, EntryItem) and item.sk == REDEEM:
                entry = _entry_from(item, scope)
                redemption = Redemption(
                    points=-entry.movement.delta,
                    lots=entry.movement.lots,
                    hold_id=entry.details.get("hold_id"),
                    member_id=entry.member_id,
                )
        refunds.sort(key=lambda r: r.refunded_minor)
        return OrderState(paid, voided, redemption, tuple(refunds), tuple(referral))

    def get_hold(self, tenant: str, hold_id: str) -> HoldRecord | None:
        try:
            item = self._guard(lambda: HoldItem.get(tenant_pk(tenant, hold_scope(hold_id)), HOLD, consistent_read=True))
        except HoldItem.DoesNotExist:
            return None
        return _hold_from(item)

    def hold_claim(self, tenant: str, order_id: str) -> OrderHoldClaim | None:
        """Which hold the order's checkout is on (one consistent GetItem), None when no hold was ever placed."""
        pk = tenant_pk(tenant, order_scope(order_id))
        try:
            item = self._guard(lambda: OrderHoldItem.get(pk, HOLD, consistent_read=True))
        except OrderHoldItem.DoesNotExist:
            return None
        expires_at = datetime.fromtimestamp(int(item.expires_epoch), UTC)
        return OrderHoldClaim(order_id, item.hold_id, item.member_id, expires_at, item.status)

    def commit(self, tenant: str, commit: Commit) -> None:
        """Apply ``commit`` atomically, or raise VersionConflict / Duplicate / StoreUnavailable."""
        self._transact(self._writes(tenant, commit, clock_now()))

    def commit_pair(self, tenant: str, first: Commit, second: Commit) -> None:
        """Two members' commits as ONE transaction (a transfer, a referral): both apply or neither does.

        Each account keeps its own version condition, so a change to either member since it was read
        fails the whole transaction (VersionConflict) and the caller recomputes both from fresh state."""
        at = clock_now()
        self._transact(self._writes(tenant, first, at) + self._writes(tenant, second, at))

    def _writes(self, tenant: str, commit: Commit, at: datetime) -> list[tuple[Model | _Patch, Any, str | None]]:
        """The items of one member's commit: (item or patch, condition, duplicate key)."""
        writes: list[tuple[Model | _Patch, Any, str | None]] = []
        if commit.account is not None:
            acc = _account_item(tenant, commit.account, at)
            cond = (
                AccountItem.version == commit.expected_version
                if commit.expected_version
                else AccountItem.pk.does_not_exist()
            )
            writes.append((acc, cond, None))
        for entry in commit.entries:
            writes.append(
                (_entry_item(tenant, entry), EntryItem.pk.does_not_exist(), business_key(entry.scope, entry.key))
            )
        if commit.refund is not None:
            writes.append(
                (
                    self._refund_item(tenant, commit.refund, at),
                    RefundItem.pk.does_not_exist(),
                    business_key(order_scope(commit.refund.order_id), refund_key(commit.refund.refund_id)),
                )
            )
        if commit.hold is not None:
            writes.append(
                (
                    self._hold_item(tenant, commit.hold),
                    HoldItem.pk.does_not_exist(),
                    business_key(hold_scope(commit.hold.hold_id), HOLD),
                )
            )
        if commit.void_order is not None:
            void = OrderVoidItem(
                tenant_pk(tenant, order_scope(commit.void_order)), PAID, order_id=commit.void_order, created_at=at
            )
            writes.append((void, OrderVoidItem.pk.does_not_exist(), business_key(order_scope(commit.void_order), PAID)))
        if commit.profile is not None:
            writes.append((_profile_patch(tenant, commit.profile, at), None, None))  # a patch: see _profile_patch
        if commit.counter is not None:
            writes.append(_counter_write(tenant, commit.counter, at))
        if commit.claim is not None:
            pk = tenant_pk(tenant, order_scope(commit.claim.order_id))
            writes.append(claim_write(pk, commit.claim, int(at.timestamp())))
        return writes

    def counter(self, tenant: str, member_id: str, key: str) -> int | None:
        """A member's running total (see ``CounterRecord``), None when it was never written."""
        try:
            item = self._guard(lambda: CounterItem.get(member_pk(tenant, member_id), key, consistent_read=True))
        except CounterItem.DoesNotExist:
            return None
        return int(item.value)

    def entries(self, tenant: str, scope: str) -> list[EntryRecord]:
        """Every entry under one business scope (``TRANSFER#<id>``), one consistent Query."""
        items = self._guard(lambda: list(LedgerTable.query(tenant_pk(tenant, scope), consistent_read=True)))
        return [_entry_from(item, scope) for item in items if isinstance(item, EntryItem)]

    def referred_by(self, tenant: str, code: str) -> list[str]:
        """The members whose referral code is ``code`` (one Query on ``by_referral``; normally one)."""
        found = LedgerTable.by_referral.query(referral_key(tenant, code))
        return sorted({item.member_id for item in self._guard(lambda: list(found))})

    def expired_since(self, tenant: str, member_id: str, after_seq: int) -> list[LotChange]:
        """Lot changes of the member's expire entries written after entry ``after_seq``."""
        condition = LedgerTable.sk.between(expire_key(after_seq), EXPIRE_PREFIX + LAST)
        items = self._guard(
            lambda: list(LedgerTable.query(member_pk(tenant, member_id), condition, consistent_read=True))
        )
        return [change for item in items if isinstance(item, EntryItem) for change in _changes(item.lots)]

    def save_profile(self, tenant: str, profile: Profile) -> None:
        """Write the fields ``profile`` names and nothing else (one UpdateItem, see ``_profile_patch``)."""
        patch = _profile_patch(tenant, profile, clock_now())
        self._guard(lambda: patch.item.update(actions=patch.actions))

    def history(self, tenant: str, member_id: str, limit: int, cursor: str | None) -> HistoryPage:
        hist_pk = member_pk(tenant, member_id)
        start = _decode_cursor(cursor, hist_pk) if cursor else None
        result = LedgerTable.history.query(hist_pk, scan_index_forward=False, limit=limit, last_evaluated_key=start)
        entries = self._guard(lambda: [_history_from(item) for item in result])
        last = result.last_evaluated_key
        return HistoryPage(entries, _encode_cursor(last) if last and len(entries) == limit else None)

    # -- scheduled work (SPEC §7) -----------------------------------------------------------------

    def due(self, index: str, shard: int, now: datetime, cursor: dict[str, Any] | None, limit: int) -> DuePage:
        """One page of the members whose ``index`` time is at or before ``now`` (oldest first)."""
        if index == "birthday":
            return self._birthday_due(shard, now, cursor, limit)
        gsi, attribute = DUE_INDEXES[index]
        result = gsi.query(f"{shard:02d}", attribute <= now, limit=limit, page_size=limit, last_evaluated_key=cursor)
        keys = self._guard(lambda: [member_key(item.pk) for item in result])
        last = result.last_evaluated_key if len(keys) == limit else None
        return DuePage(keys, last)

    # -- ABC analysis (VIP) -------------------------------------------------------------------------

    def paid_rows(self, tenant: str, since: datetime, until: datetime) -> list[PaidRow]:
        """The tenant's orders paid in [since, until] and their refunds: one Query (all pages) per index shard."""
        rows: list[PaidRow] = []
        paid_at: Any = AbcPaidIndex.abc_at
        for shard in range(ABC_SHARDS):
            result = LedgerTable.abc_paid.query(shard_pk(tenant, str(shard)), paid_at.between(since, until))
            for item in self._guard(lambda r=result: list(r)):
                order_id = item.pk.split("#ORDER#", 1)[1]
                if isinstance(item, EntryItem):
                    rows.append(PaidRow(order_id, item.member_id, int(item.cash_minor or 0)))
                elif isinstance(item, RefundItem):
                    rows.append(PaidRow(order_id, item.member_id, int(item.refunded_minor), item.refund_id))
        return rows

    def vip_members(self, tenant: str) -> list[str]:
        """The members whose account says class A (the sparse abc_members index, all pages)."""
        found = AccountItem.abc_members.query(abc_key(tenant))
        return sorted(member_key(item.pk).member_id for item in self._guard(lambda: list(found)))

    def _birthday_due(self, shard: int, now: datetime, cursor: dict[str, Any] | None, limit: int) -> DuePage:
        """One page of the profiles whose birthday is today somewhere at ``now``: the cursor names the day (its
        position in ``birthday_days(now)``) and where in that day's key to go on."""
        days = birthday_days(now)
        day = int(cursor["day"]) if cursor else 0
        start = cursor.get("key") if cursor else None
        result = ProfileItem.birthday_due.query(
            birthday_key(days[day], f"{shard:02d}"), limit=limit, page_size=limit, last_evaluated_key=start
        )
        keys = self._guard(lambda: [member_key(item.pk) for item in result])
        last = result.last_evaluated_key if len(keys) == limit else None
        if last is not None:
            return DuePage(keys, {"day": day, "key": last})
        return DuePage(keys, {"day": day + 1} if day + 1 < len(days) else None)

    def load_members(self, keys: list[MemberKey], profiles: bool = False) -> dict[MemberKey, Member]:
        """Many members in BatchGetItem requests of up to 100 keys (consistent reads)."""
        sks = (ACCOUNT, PROFILE) if profiles else (ACCOUNT,)
        wanted = [(member_pk(k.tenant, k.member_id), sk) for k in keys for sk in sks]
        accounts: dict[str, Account] = {}
        found: dict[str, Profile] = {}
        for item in self._guard(lambda: list(LedgerTable.batch_get(wanted, consistent_read=True))):
            if isinstance(item, AccountItem):
                accounts[item.pk] = _account_from(item)
            elif isinstance(item, ProfileItem):
                found[item.pk] = _profile_from(item)
        members = {}
        for key in keys:
            pk = member_pk(key.tenant, key.member_id)
            account = accounts.get(pk)
            members[key] = Member(account or Account(key.member_id), found.get(pk), account is not None)
        return members

    def notifications(self, tenant: str, member_id: str, since_key: str) -> dict[str, NotificationRecord]:
        """The member's notification records with keys from ``since_key`` on (one Query)."""
        condition = LedgerTable.sk.between(since_key, NOTIFY_PREFIX + LAST)
        items = self._guard(
            lambda: list(LedgerTable.query(member_pk(tenant, member_id), condition, consistent_read=True))
        )
        return {item.sk: _notification_from(item) for item in items if isinstance(item, NotificationItem)}

    def claim_notification(self, tenant: str, record: NotificationRecord, previous: NotificationRecord | None) -> bool:
        """Record the intent to send before sending: only one claimant wins (False: someone else did)."""
        item = _notification_item(tenant, record)
        if previous is None:
            condition = NotificationItem.pk.does_not_exist()
        else:
            condition = (NotificationItem.status == previous.status) & (NotificationItem.attempts == previous.attempts)
        try:
            self._guard(lambda: item.save(condition=condition))
        except StoreUnavailable as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def finish_notification(self, tenant: str, record: NotificationRecord) -> None:
        """The outcome of a claimed message; only the claim holder (same attempt) may write it."""
        item = _notification_item(tenant, record)
        condition = (NotificationItem.status == "sending") & (NotificationItem.attempts == record.attempts)
        try:
            self._guard(lambda: item.save(condition=condition))
        except StoreUnavailable as exc:
            if not _condition_failed(exc):
                raise

    def find_members(self, tenant: str, email: str | None = None, phone: str | None = None) -> list[str]:
        if email is not None:
            found = ProfileItem.by_email.query(contact_key(tenant, email))
        else:
            found = ProfileItem.by_phone.query(contact_key(tenant, phone or ""))
        return sorted({item.member_id for item in self._guard(lambda: list(found))})

    # -- helpers ---------------------------------------------------------------------------------

    @staticmethod
    def _refund_item(tenant: str, refund: RefundRecord, at: datetime) -> RefundItem:
        return RefundItem(
            tenant_pk(tenant, order_scope(refund.order_id)),
            refund_key(refund.refund_id),
            member_id=refund.member_id,
            order_id=refund.order_id,
            refund_id=refund.refund_id,
            amount_minor=refund.amount_minor,
            refunded_minor=refund.refunded_minor,
            reversed_points=refund.reversed_points,
            restored_points=refund.restored_points,
            event_id=refund.event_id,
            created_at=at,
            abc_pk=abc_pk(tenant, refund.order_id) if refund.order_paid_at else None,
            abc_at=refund.order_paid_at,
            returned=json.dumps([[r.sku, r.quantity, r.amount_minor] for r in refund.returned])
            if refund.returned
            else None,
        )

    @staticmethod
    def _hold_item(tenant: str, hold: HoldRecord) -> HoldItem:
        return HoldItem(
            tenant_pk(tenant, hold_scope(hold.hold_id)),
            HOLD,
            member_id=hold.member_id,
            order_id=hold.order_id,
            points=hold.points,
            discount_minor=hold.discount_minor,
            expires_at=hold.expires_at,
            created_at=hold.created_at,
            ttl=int((hold.expires_at + timedelta(days=HOLD_RECORD_DAYS)).timestamp()),
        )

    def _transact(self, writes: list[tuple[Model | _Patch, Any, str | None]]) -> None:
        # PynamoDB sends the puts before the updates; the cancellation reasons follow that order
        writes = [w for w in writes if not isinstance(w[0], _Patch)] + [w for w in writes if isinstance(w[0], _Patch)]
        try:
            with TransactWrite(connection=LedgerTable._get_connection().connection) as tx:
                for item, condition, _ in writes:
                    if isinstance(item, _Patch):
                        tx.update(item.item, actions=item.actions, condition=condition)
                    else:
                        tx.save(item, condition=condition)
        except TransactWriteError as exc:
            reasons = [r.code if r else None for r in exc.cancellation_reasons]
            for (_, _, dup_key), code in zip(writes, reasons, strict=False):
                if code == "ConditionalCheckFailed" and dup_key:
                    raise Duplicate(dup_key) from exc
            if "ConditionalCheckFailed" in reasons or RETRYABLE_REASONS & set(reasons):
                raise VersionConflict() from exc
            raise StoreUnavailable(f"storage failed: {exc.cause_response_code or 'unknown'}") from exc

    @staticmethod
    def _guard(call: Any) -> Any:
        try:
            return call()
        except PynamoDBException as exc:
            if isinstance(exc, Model.DoesNotExist):
                raise
            raise StoreUnavailable(f"storage failed: {type(exc).__name__}") from exc


def _condition_failed(exc: Exception) -> bool:
    cause = exc.__cause__
    return getattr(cause, "cause_response_code", None) == "ConditionalCheckFailedException"


DUE_INDEXES: dict[str, tuple[Any, Any]] = {
    "expiry": (AccountItem.expiry_due, AccountItem.next_expiry),
    "remind": (AccountItem.remind_due, AccountItem.remind_at),
    "holds": (AccountItem.holds_due, AccountItem.hold_expiry),
    "pending": (AccountItem.pending_due, AccountItem.next_available),
    "tier_review": (AccountItem.tier_review_due, AccountItem.tier_review_at),
    "boost_remind": (AccountItem.boost_remind_due, AccountItem.boost_remind_at),
}


def _notification_item(tenant: str, record: NotificationRecord) -> NotificationItem:
    pk = member_pk(tenant, record.member_id)
    return NotificationItem(
        pk,
        record.key,
        member_id=record.member_id,
        hist_pk=pk,
        seq=record.seq,
        expiry_date=record.expiry_date,
        days_before=record.days_before,
        channel=record.channel,
        points=record.points,
        status=record.status,
        attempts=record.attempts,
        cost_usd_micros=record.cost_usd_micros,
        message_id=record.message_id,
        error=record.error,
        topic=None if record.topic == "expiry" else record.topic,
        grant_id=record.grant_id,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def _notification_from(item: NotificationItem) -> NotificationRecord:
    return NotificationRecord(
        member_id=item.member_id,
        key=item.sk,
        expiry_date=item.expiry_date,
        days_before=int(item.days_before),
        channel=item.channel,
        points=int(item.points),
        status=item.status,
        attempts=int(item.attempts),
        seq=int(item.seq),
        created_at=item.created_at,
        updated_at=item.updated_at,
        cost_usd_micros=int(item.cost_usd_micros),
        message_id=item.message_id,
        error=item.error,
        topic=item.topic or "expiry",
        grant_id=item.grant_id,
    )


def _history_from(item: Any) -> EntryRecord | NotificationRecord:
    if isinstance(item, NotificationItem):
        return _notification_from(item)
    return _entry_from(item, item.pk.split("#", 2)[2])


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
