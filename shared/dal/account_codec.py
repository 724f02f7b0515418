"""The ACCOUNT item and its compact lot rows, to and from the domain ``Account``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, get_args, get_type_hints

from shared.account import Account, ProgramStanding, WakeUps
from shared.dal.due_times import DERIVED_TIMES, WAKEUP_FIELDS
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

# Every ``WakeUps`` field is the ``AccountItem`` attribute of the same name (a scheduled job's sparse index may range
# on it, shared/scheduled_jobs.py): a new wake-up is a field there and an attribute in models.py, nothing here.
_WHOLE_NUMBERS = {name for name, hint in get_type_hints(WakeUps).items() if int in get_args(hint)}


def _wakeups_from(item: AccountItem) -> WakeUps:
    """Each wake-up from the attribute of its name (a number attribute may come back as a float: made whole)."""
    values: dict[str, Any] = {name: getattr(item, name) for name in WAKEUP_FIELDS}
    for name in _WHOLE_NUMBERS:
        values[name] = None if values[name] is None else int(values[name])
    return WakeUps(**values)


def _due_times(account: Account) -> dict[str, Any]:
    """The times the ledger derives, each the range key of its due index."""
    return {name: time(account) for name, time in DERIVED_TIMES.items()}


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
    wakeups = _wakeups_from(item)
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
        **_due_times(account),
        lifetime_spend_minor=standing.lifetime_spend_minor,
        tier=standing.tier,
        spend_months=dict(standing.spend_months) or None,
        paid_orders=standing.paid_orders or None,
        boost_until=standing.boost_until,
        boost_open=standing.boost_discount_open or None,
        abc_class=standing.abc_class,
        abc_key=abc_key(tenant) if standing.vip else None,
        **{name: getattr(wakeups, name) for name in WAKEUP_FIELDS},
        referral_key=referral_key(tenant, code_of(tenant, account.member_id)),
        updated_at=at,
    )
