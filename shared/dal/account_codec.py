"""The ACCOUNT item and its compact lot rows, to and from the domain ``Account``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.account import Account, ProgramStanding, WakeUps
from shared.dal.models import (
    AccountItem,
    HoldMap,
)
from shared.keys import (
    ACCOUNT,
    abc_key,
    member_pk,
    referral_key,
    shard_of,
    shard_pk,
)
from shared.ledger import Hold, Ledger, Lot, lot_source
from shared.referral import code_of


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
    source = lot_source(str(source))
    return Lot(
        lot_id=str(lot_id),
        points=int(points),
        remaining=int(remaining),
        source=source,
        earned_at=_time(earned),
        available_at=_time(available),
        expires_at=_time(expires),
    )


def account_from(item: AccountItem) -> Account:
    ledger = Ledger(
        member_id=item.member_id,
        seq=int(item.seq),
        debt=int(item.debt),
        lots=tuple(_lot_from(row) for row in item.lots),
        holds=tuple(
            Hold(hold_id=h.hold_id, order_id=h.order_id, points=int(h.points), expires_at=h.expires_at)
            for h in item.holds
        ),
    )
    months = item.spend_months.as_dict() if item.spend_months else {}
    standing = ProgramStanding(
        tier=item.tier,
        lifetime_spend_minor=int(item.lifetime_spend_minor),
        spend_months=tuple(sorted((k, int(v)) for k, v in months.items())),
        paid_orders=int(item.paid_orders or 0),
        boost_until=item.boost_until,
        boost_discount_open=bool(item.boost_open),
        abc_class=item.abc_class,
    )
    wakeups = WakeUps(
        remind_at=item.remind_at,
        reminded_through=item.reminded_through,
        activated_through=item.activated_through,
        birthday_year=None if item.birthday_year is None else int(item.birthday_year),
        tier_review_at=item.tier_review_at,
        boost_remind_at=item.boost_remind_at,
    )
    return Account(ledger=ledger, version=int(item.version), standing=standing, wakeups=wakeups)


def account_item(tenant: str, account: Account, at: datetime) -> AccountItem:
    """The ACCOUNT item: the three parts, and the sparse index keys derived from them (each set only while due)."""
    pk = member_pk(tenant, account.member_id)
    ledger, standing, wakeups = account.ledger, account.standing, account.wakeups
    return AccountItem(
        pk,
        ACCOUNT,
        member_id=account.member_id,
        version=account.version,
        seq=ledger.seq,
        debt=ledger.debt,
        lots=[_lot_row(lot) for lot in ledger.lots],
        holds=[
            HoldMap(hold_id=h.hold_id, order_id=h.order_id, points=h.points, expires_at=h.expires_at)
            for h in ledger.holds
        ],
        shard=shard_of(pk),
        tenant_shard=shard_pk(tenant, shard_of(pk)),
        next_expiry=ledger.next_expiry,
        hold_expiry=ledger.next_hold_expiry,
        next_available=account.next_activation,
        lifetime_spend_minor=standing.lifetime_spend_minor,
        tier=standing.tier,
        spend_months=dict(standing.spend_months) or None,
        paid_orders=standing.paid_orders or None,
        boost_until=standing.boost_until,
        boost_open=standing.boost_discount_open or None,
        abc_class=standing.abc_class,
        abc_key=abc_key(tenant) if standing.abc_class == "A" else None,
        remind_at=wakeups.remind_at,
        reminded_through=wakeups.reminded_through,
        activated_through=wakeups.activated_through,
        birthday_year=wakeups.birthday_year,
        tier_review_at=wakeups.tier_review_at,
        boost_remind_at=wakeups.boost_remind_at,
        referral_key=referral_key(tenant, code_of(tenant, account.member_id)),
        updated_at=at,
    )
