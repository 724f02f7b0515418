"""The ledger's entry, profile, refund, hold and notification items, to and from their records."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from shared.dal.models import (
    EntryItem,
    HoldItem,
    LotChangeMap,
    NotificationItem,
    ProfileItem,
    RefundItem,
)
from shared.entry_details import details_from, details_map
from shared.keys import (
    HOLD,
    abc_pk,
    hold_scope,
    member_pk,
    order_of,
    order_scope,
    refund_key,
    tenant_pk,
)
from shared.ledger import LotChange, Movement, entry_kind
from shared.orders import Returned
from shared.records import (
    EntryRecord,
    HoldRecord,
    NotificationRecord,
    PaidIndex,
    Profile,
    RefundRecord,
)

HOLD_RECORD_DAYS = 30  # how long a finished hold's record stays readable before TTL removes it


def lot_changes(items: Iterable[Any]) -> tuple[LotChange, ...]:
    return tuple(LotChange(c.lot_id, int(c.change), c.expires_at) for c in items)


def entry_from(item: EntryItem, scope: str) -> EntryRecord:
    movement = Movement(
        kind=entry_kind(item.kind),
        delta=int(item.delta),
        seq=int(item.seq),
        balance_after=int(item.balance_after),
        lots=lot_changes(item.lots),
        debt_change=int(item.debt_change),
    )
    details = _plain(item.details.as_dict()) if item.details is not None else {}
    paid_index = None
    if item.abc_pk is not None and item.abc_at is not None and item.cash_minor is not None:
        paid_index = PaidIndex(order_id=order_of(scope), paid_at=item.abc_at, cash_minor=int(item.cash_minor))
    return EntryRecord(
        scope=scope,
        key=item.sk,
        member_id=item.member_id,
        movement=movement,
        reference=item.reference,
        created_at=item.created_at,
        event_id=item.event_id,
        details=details_from(scope, item.sk, details),
        paid_index=paid_index,
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


def entry_item(tenant: str, entry: EntryRecord) -> EntryItem:
    mv = entry.movement
    paid = entry.paid_index  # set by the service on an order's accrual
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
        details=details_map(entry.details) or None,
        created_at=entry.created_at,
        abc_pk=abc_pk(tenant, paid.order_id) if paid else None,
        abc_at=paid.paid_at if paid else None,
        cash_minor=paid.cash_minor if paid else None,
    )


def profile_from(item: ProfileItem) -> Profile:
    consent = {"email": item.consent_email, "sms": item.consent_sms, "call": item.consent_call}
    return Profile(
        member_id=item.member_id,
        email=item.email,
        phone=item.phone,
        name=item.name,
        birthday=item.birthday,
        consent=consent,
    )


def refund_from(item: RefundItem) -> RefundRecord:
    amount = None if item.amount_minor is None else int(item.amount_minor)
    return RefundRecord(
        order_id=item.order_id,
        refund_id=item.refund_id,
        member_id=item.member_id,
        amount_minor=amount,
        refunded_minor=int(item.refunded_minor),
        reversed_points=int(item.reversed_points),
        restored_points=int(item.restored_points),
        created_at=item.created_at,
        event_id=item.event_id,
        returned=tuple(
            Returned(sku=sku, quantity=quantity, amount_minor=amount)
            for sku, quantity, amount in json.loads(item.returned or "[]")
        ),
    )


def hold_from(item: HoldItem) -> HoldRecord:
    return HoldRecord(
        hold_id=item.pk.rsplit("#HOLD#", 1)[1],
        member_id=item.member_id,
        order_id=item.order_id,
        points=int(item.points),
        discount_minor=int(item.discount_minor),
        expires_at=item.expires_at,
        created_at=item.created_at,
    )


def refund_item(tenant: str, refund: RefundRecord, at: datetime) -> RefundItem:
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


def hold_item(tenant: str, hold: HoldRecord) -> HoldItem:
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


def notification_item(tenant: str, record: NotificationRecord) -> NotificationItem:
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


def notification_from(item: NotificationItem) -> NotificationRecord:
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


def history_from(item: Any) -> EntryRecord | NotificationRecord:
    if isinstance(item, NotificationItem):
        return notification_from(item)
    return entry_from(item, item.pk.split("#", 2)[2])
