"""The in-memory store's look-ups that DynamoDB answers from an index (``shared.dal.ledger_indexes``): members by
contact and by referral code, the scheduled jobs' due members, the ABC analysis' paid orders and VIPs. Here each is
a pass over the items; the due indexes, like their GSIs, span every tenant of a shard.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from shared.account import Account
from shared.birthday import birthday_days
from shared.clock import iso, parse_ts
from shared.dal.due_times import due_time
from shared.dal.memory_writes import stored
from shared.keys import ACCOUNT, PROFILE, birthday_key, member_key, shard_of, tenant_pk
from shared.records import DuePage, EntryRecord, PaidRow, Profile, RefundRecord
from shared.referral import code_of
from shared.scheduled_jobs import SCHEDULED_JOBS


class MemoryIndexes:
    """Mixed into ``MemoryLedgerStore``, whose items these read."""

    items: dict[str, dict[str, Any]]
    _lock: threading.RLock

    def find_members(self, tenant: str, email: str | None = None, phone: str | None = None) -> list[str]:
        def matches(p: Profile) -> bool:
            return p.email == email if email is not None else p.phone == (phone or "")

        return sorted({p.member_id for p in self._tenant_values(tenant, Profile) if matches(p)})

    def referred_by(self, tenant: str, code: str) -> list[str]:
        """Members whose code is ``code``: an ACCOUNT or a PROFILE makes a member known (both carry the key)."""
        known = {a.member_id for a in self._tenant_values(tenant, Account)}
        known |= {p.member_id for p in self._tenant_values(tenant, Profile)}
        return sorted(m for m in known if code_of(tenant, m) == code)

    def _tenant_values(self, tenant: str, kind: type) -> list[Any]:
        prefix = tenant_pk(tenant, "")
        with self._lock:
            parts = [p for pk, p in self.items.items() if pk.startswith(prefix)]
            return [v for part in parts for v in part.values() if isinstance(v, kind)]

    # -- scheduled work (the due indexes) ---------------------------------------------------------------------

    def due(self, index: str, shard: int, now: datetime, cursor: dict[str, Any] | None, limit: int) -> DuePage:
        """One page of the members of ``shard`` whose ``index`` time is at or before ``now``, oldest first."""
        if index == "birthday":
            return self._birthday_due(shard, now, cursor, limit)
        rows = []
        for pk, account in self._accounts_of_shard(f"{shard:02d}"):
            at = DUE_TIMES[index](account)
            if at is not None and stored(at) <= stored(now):
                rows.append((iso(at), pk))
        return _page(sorted(rows), cursor, limit)

    def _birthday_due(self, shard: int, now: datetime, cursor: dict[str, Any] | None, limit: int) -> DuePage:
        """As ``LedgerIndexes._birthday_due``: day by day of ``birthday_days(now)``, the cursor naming the day."""
        days = birthday_days(now)
        day = int(cursor["day"]) if cursor else 0
        with self._lock:
            rows = [
                ("", pk)
                for pk, part in self.items.items()
                if isinstance(profile := part.get(PROFILE), Profile)
                and profile.birthday is not None
                and birthday_key(profile.birthday[5:10], shard_of(pk)) == birthday_key(days[day], f"{shard:02d}")
            ]
        page = _page(sorted(rows), cursor.get("key") if cursor else None, limit)
        if page.cursor is not None:
            return DuePage(page.keys, {"day": day, "key": page.cursor})
        return DuePage(page.keys, {"day": day + 1} if day + 1 < len(days) else None)

    def _accounts_of_shard(self, shard: str) -> list[tuple[str, Account]]:
        with self._lock:
            found = [(pk, part.get(ACCOUNT)) for pk, part in self.items.items() if shard_of(pk) == shard]
        return [(pk, account) for pk, account in found if isinstance(account, Account)]

    # -- the ABC analysis -------------------------------------------------------------------------------------

    def paid_rows(self, tenant: str, since: datetime, until: datetime) -> list[PaidRow]:
        """PAID entries (with ``cash_paid_minor``) and refunds (with ``order_paid_at``) of orders paid in range."""
        since, until = stored(since), stored(until)  # the index compares times to the second, as stored
        rows = []
        for entry in self._tenant_values(tenant, EntryRecord):
            row = entry.paid_index  # as ``record_codecs.entry_item`` indexes it
            if row is not None and since <= stored(row.paid_at) <= until:
                rows.append(PaidRow(row.order_id, entry.member_id, row.cash_minor))
        for refund in self._tenant_values(tenant, RefundRecord):
            if refund.order_paid_at is not None and since <= refund.order_paid_at <= until:
                rows.append(PaidRow(refund.order_id, refund.member_id, refund.refunded_minor, refund.refund_id))
        return rows

    def vip_members(self, tenant: str) -> list[str]:
        return sorted(a.member_id for a in self._tenant_values(tenant, Account) if a.standing.vip)


# Due index name -> the account's time the index ranges on (as ``account_codec`` writes it to the ACCOUNT item).
DUE_TIMES: dict[str, Callable[[Account], datetime | None]] = {
    row.index: due_time(row.attribute) for row in SCHEDULED_JOBS if row.index is not None and row.attribute is not None
}


def _page(rows: list[tuple[str, str]], cursor: dict[str, Any] | None, limit: int) -> DuePage:
    """``limit`` rows (index time, pk) after the cursor's; a full page has a cursor, as DynamoDB's Limit gives one."""
    if cursor:
        rows = [r for r in rows if r > (cursor["at"], cursor["pk"])]
    page = rows[:limit]
    last = {"at": page[-1][0], "pk": page[-1][1]} if page and len(page) == limit else None
    return DuePage([member_key(pk) for _, pk in page], last)


def _parse(value: Any) -> datetime:
    return value if isinstance(value, datetime) else parse_ts(str(value))
