"""The ledger table's index queries (no Scan): due members per shard, paid orders, VIPs, contacts, codes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.birthday import birthday_days
from shared.dal.models import (
    AbcPaidIndex,
    AccountItem,
    EntryItem,
    LedgerTable,
    ProfileItem,
    RefundItem,
)
from shared.dal.transactions import (
    guard,
)
from shared.keys import (
    ABC_SHARDS,
    abc_key,
    birthday_key,
    contact_key,
    member_key,
    referral_key,
    shard_pk,
)
from shared.records import (
    DuePage,
    PaidRow,
)
from shared.scheduled_jobs import SCHEDULED_JOBS


class LedgerIndexes:
    """The index queries of the ledger store: scheduled work, the ABC analysis, look-ups by contact and code."""

    # -- scheduled work (docs/spec.md §7) -----------------------------------------------------------------

    def due(self, index: str, shard: int, now: datetime, cursor: dict[str, Any] | None, limit: int) -> DuePage:
        """One page of the members whose ``index`` time is at or before ``now`` (oldest first)."""
        if index == "birthday":
            return self._birthday_due(shard, now, cursor, limit)
        gsi, attribute = DUE_INDEXES[index]
        result = gsi.query(f"{shard:02d}", attribute <= now, limit=limit, page_size=limit, last_evaluated_key=cursor)
        keys = guard(lambda: [member_key(item.pk) for item in result])
        last = result.last_evaluated_key if len(keys) == limit else None
        return DuePage(keys, last)

    # -- ABC analysis (VIP) -------------------------------------------------------------------------

    def paid_rows(self, tenant: str, since: datetime, until: datetime) -> list[PaidRow]:
        """The tenant's orders paid in [since, until] and their refunds: one Query (all pages) per index shard."""
        rows: list[PaidRow] = []
        paid_at: Any = AbcPaidIndex.abc_at
        for shard in range(ABC_SHARDS):
            result = LedgerTable.abc_paid.query(shard_pk(tenant, str(shard)), paid_at.between(since, until))
            for item in guard(lambda r=result: list(r)):
                order_id = item.pk.split("#ORDER#", 1)[1]
                if isinstance(item, EntryItem):
                    rows.append(PaidRow(order_id, item.member_id, int(item.cash_minor or 0)))
                elif isinstance(item, RefundItem):
                    rows.append(PaidRow(order_id, item.member_id, int(item.refunded_minor), item.refund_id))
        return rows

    def vip_members(self, tenant: str) -> list[str]:
        """The members whose account says class A (the sparse abc_members index, all pages)."""
        found = AccountItem.abc_members.query(abc_key(tenant))
        return sorted(member_key(item.pk).member_id for item in guard(lambda: list(found)))

    def _birthday_due(self, shard: int, now: datetime, cursor: dict[str, Any] | None, limit: int) -> DuePage:
        """One page of the profiles whose birthday is today somewhere at ``now``: the cursor names the day (its
        position in ``birthday_days(now)``) and where in that day's key to go on."""
        days = birthday_days(now)
        day = int(cursor["day"]) if cursor else 0
        start = cursor.get("key") if cursor else None
        result = ProfileItem.birthday_due.query(
            birthday_key(days[day], f"{shard:02d}"), limit=limit, page_size=limit, last_evaluated_key=start
        )
        keys = guard(lambda: [member_key(item.pk) for item in result])
        last = result.last_evaluated_key if len(keys) == limit else None
        if last is not None:
            return DuePage(keys, {"day": day, "key": last})
        return DuePage(keys, {"day": day + 1} if day + 1 < len(days) else None)

    def find_members(self, tenant: str, email: str | None = None, phone: str | None = None) -> list[str]:
        if email is not None:
            found = ProfileItem.by_email.query(contact_key(tenant, email))
        else:
            found = ProfileItem.by_phone.query(contact_key(tenant, phone or ""))
        return sorted({item.member_id for item in guard(lambda: list(found))})

    def referred_by(self, tenant: str, code: str) -> list[str]:
        """The members whose referral code is ``code`` (one Query on ``by_referral``; normally one)."""
        found = LedgerTable.by_referral.query(referral_key(tenant, code))
        return sorted({item.member_id for item in guard(lambda: list(found))})


# Due index name (the catalog's ``index``) -> the ACCOUNT item's GSI ``<index>_due`` and its range attribute.
DUE_INDEXES: dict[str, tuple[Any, Any]] = {
    row.index: (getattr(AccountItem, row.gsi), getattr(AccountItem, row.attribute))
    for row in SCHEDULED_JOBS
    if row.index is not None and row.gsi is not None and row.attribute is not None
}
