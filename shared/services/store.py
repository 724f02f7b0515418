"""The storage interface the services depend on, and the bounded retry of a member's commit."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from shared.account import Account
from shared.errors import Transient
from shared.keys import expire_key, member_scope
from shared.ledger import LotChange, expire
from shared.ports import Duplicate, VersionConflict
from shared.program import ProgramSettings
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
)
from shared.reminders import next_remind_at
from shared.tier_review import next_review

T = TypeVar("T")


class LedgerStore(Protocol):
    def load_member(self, tenant: str, member_id: str) -> Member: ...
    def load_order(self, tenant: str, order_id: str) -> OrderState: ...
    def get_hold(self, tenant: str, hold_id: str) -> HoldRecord | None: ...
    def hold_claim(self, tenant: str, order_id: str) -> OrderHoldClaim | None: ...
    def commit(self, tenant: str, commit: Commit) -> None: ...
    def commit_pair(self, tenant: str, first: Commit, second: Commit) -> None: ...
    def counter(self, tenant: str, member_id: str, key: str) -> int | None: ...
    def entries(self, tenant: str, scope: str) -> list[EntryRecord]: ...
    def referred_by(self, tenant: str, code: str) -> list[str]: ...
    def save_profile(self, tenant: str, profile: Profile) -> None: ...
    def history(self, tenant: str, member_id: str, limit: int, cursor: str | None) -> HistoryPage: ...
    def find_members(self, tenant: str, email: str | None = None, phone: str | None = None) -> list[str]: ...
    def expired_since(self, tenant: str, member_id: str, after_seq: int) -> list[LotChange]: ...
    def load_members(self, keys: list[MemberKey], profiles: bool = False) -> dict[MemberKey, Member]: ...
    def notifications(self, tenant: str, member_id: str, since_key: str) -> dict[str, NotificationRecord]: ...
    def claim_notification(
        self, tenant: str, record: NotificationRecord, previous: NotificationRecord | None
    ) -> bool: ...
    def finish_notification(self, tenant: str, record: NotificationRecord) -> None: ...


def bumped(account: Account, program: ProgramSettings, now: datetime) -> Account:
    """The account as it will be written: next version, the reminder wake-up its lots now call for, and the tier
    review its standing calls for."""
    zone = ZoneInfo(program.timezone)
    wakeups = replace(
        account.wakeups,
        remind_at=next_remind_at(account, program.reminders, zone, now),
        tier_review_at=next_review(account, program, now),
    )
    return replace(account, version=account.version + 1, wakeups=wakeups)


def expire_due(account: Account, now: datetime) -> tuple[Account, list[EntryRecord]]:
    """Every write first removes lots past their expiry (one ``expire`` entry in the member's own
    partition), so each entry's balance_after agrees with what the member view shows."""
    ledger, movement = expire(account.ledger, now)
    if movement is None:
        return account, []
    key = expire_key(movement.seq)
    return account.with_ledger(ledger), [
        EntryRecord(
            scope=member_scope(account.member_id),
            key=key,
            member_id=account.member_id,
            movement=movement,
            reference="expiry",
            created_at=now,
        )
    ]


def with_retries(attempts: int, step: Callable[[], T], on_duplicate: Callable[[Duplicate], T | None]) -> T:
    """Run ``step`` (load → compute → commit) until it commits; a version conflict means another
    request changed the member first, so recompute from fresh state. ``on_duplicate`` answers a
    lost race on a business key with the first result, or None to recompute. Bounded: past the
    budget the caller gets a 503 and the sender retries later, nothing half-applied."""
    for attempt in range(attempts):
        try:
            return step()
        except Duplicate as dup:
            first = on_duplicate(dup)
            if first is not None:
                return first
        except VersionConflict:
            pass
        time.sleep(random.uniform(0, 0.005 * 2 ** min(attempt, 6)))  # jittered backoff
    raise Transient("too much contention on this member, retry later", code="conflict_retry")
