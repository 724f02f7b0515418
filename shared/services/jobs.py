"""The per-member work of the scheduled jobs (SPEC §7) other than reminders: expiry, hold release, activation.

Each job gets a member the sweep already loaded, computes the change with the pure ledger functions and
commits it under the account's version, like every other write. A conflict (an order for the same member
at the same moment) reloads the member and recomputes, so a job never overwrites a concurrent change, and
running a job twice finds nothing left to do: exactly once without any job bookkeeping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shared.keys import activate_key, member_scope
from shared.ledger import Account, activate, release_expired_holds
from shared.records import Commit, EntryRecord, Member, MemberKey
from shared.services.store import LedgerStore, bumped, expire_due, with_retries
from shared.tenants import Tenant


@dataclass(frozen=True)
class MemberOutcome:
    changed: bool = False
    lots: int = 0
    points: int = 0
    messages: int = 0  # reminders sent
    failed: int = 0  # reminders that failed (retried later) or were rejected as invalid
    skipped: int = 0  # reminders not sent: no consent, no address, or already sent
    cost_usd_micros: int = 0


MemberJob = Callable[[Tenant, MemberKey, Member, datetime], MemberOutcome]


def retried(
    store: LedgerStore, attempts: int, key: MemberKey, first: Member, work: Callable[[Member], MemberOutcome]
) -> MemberOutcome:
    """Run ``work`` on the preloaded member, then on fresh reads after each version conflict."""
    loads = iter([first])

    def step() -> MemberOutcome:
        member = next(loads, None) or store.load_member(key.tenant, key.member_id)
        return work(member)

    return with_retries(attempts, step, lambda _: None)


class Upkeep:
    def __init__(self, store: LedgerStore, attempts: int) -> None:
        self.store = store
        self.attempts = attempts

    def expire(self, tenant: Tenant, key: MemberKey, member: Member, now: datetime) -> MemberOutcome:
        def work(m: Member) -> MemberOutcome:
            account, entries = expire_due(m.account, now)
            if not entries:
                return MemberOutcome()
            self._commit(tenant, m, account, entries, now)
            movement = entries[0].movement
            return MemberOutcome(True, lots=len(movement.lots), points=-movement.delta)

        return retried(self.store, self.attempts, key, member, work)

    def release_holds(self, tenant: Tenant, key: MemberKey, member: Member, now: datetime) -> MemberOutcome:
        def work(m: Member) -> MemberOutcome:
            account, entries = expire_due(m.account, now)
            account, lapsed = release_expired_holds(account, now)
            if not lapsed:
                return MemberOutcome()
            self._commit(tenant, m, account, entries, now)
            return MemberOutcome(True, points=sum(h.points for h in lapsed), lots=len(lapsed))

        return retried(self.store, self.attempts, key, member, work)

    def activate_pending(self, tenant: Tenant, key: MemberKey, member: Member, now: datetime) -> MemberOutcome:
        def work(m: Member) -> MemberOutcome:
            if m.account.next_activation is None or m.account.next_activation > now:
                return MemberOutcome()  # the index was behind: someone already did it
            account, entries = expire_due(m.account, now)
            account, movement = activate(account, now)
            points = 0
            if movement is not None:
                points = sum(lot.remaining for lot in account.lots if lot.lot_id in {c.lot_id for c in movement.lots})
                entry_key = activate_key(movement.seq)
                entries.append(
                    EntryRecord(
                        member_scope(key.member_id),
                        entry_key,
                        key.member_id,
                        movement,
                        "activation",
                        now,
                        None,
                        {"points": points},
                    )
                )
            self._commit(tenant, m, account, entries, now)
            return MemberOutcome(True, lots=len(movement.lots) if movement else 0, points=points)

        return retried(self.store, self.attempts, key, member, work)

    def _commit(
        self, tenant: Tenant, before: Member, account: Account, entries: list[EntryRecord], now: datetime
    ) -> None:
        account = bumped(account, tenant.current.settings, now)
        commit = Commit(account.member_id, account, before.account.version, tuple(entries))
        self.store.commit(tenant.tenant_id, commit)
