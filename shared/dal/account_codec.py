"""The ACCOUNT item and its compact lot rows, to and from the domain ``Account``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

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
from shared.ledger import Account, Hold, Lot, lot_source
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
    return Lot(str(lot_id), int(points), int(remaining), source, _time(earned), _time(available), _time(expires))


def account_from(item: AccountItem) -> Account:
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


def account_item(tenant: str, account: Account, at: datetime) -> AccountItem:
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
