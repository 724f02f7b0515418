"""The per-member work of the scheduled jobs (docs/spec.md §7) other than reminders: expiry, hold release, activation.

Each job gets a member the sweep already loaded, computes the change with the pure ledger functions and
commits it under the account's version, like every other write. A conflict (an order for the same member
at the same moment) reloads the member and recomputes, so a job never overwrites a concurrent change, and
running a job twice finds nothing left to do: exactly once without any job bookkeeping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shared.account import activated
from shared.entry_details import ActivationDetails
from shared.keys import activate_key, member_scope
from shared.ledger import release_expired_holds
from shared.records import EntryRecord, Member, MemberKey
from shared.services.member_write import Change, Loaded, MemberWrite
from shared.services.store import LedgerStore, with_retries
from shared.tenants import Tenant


@dataclass(frozen=True, kw_only=True)
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
        self.writes = MemberWrite(store, attempts)

    def expire(self, tenant: Tenant, key: MemberKey, member: Member, now: datetime) -> MemberOutcome:
        def step(loaded: Loaded) -> Change[MemberOutcome]:
            if not loaded.expired:
                return Change(result=MemberOutcome())
            movement = loaded.expired[0].movement
            return Change(
                result=MemberOutcome(changed=True, lots=len(movement.lots), points=-movement.delta),
                account=loaded.account,
            )

        return self.writes.apply(tenant, key.member_id, step, now, first=member)

    def release_holds(self, tenant: Tenant, key: MemberKey, member: Member, now: datetime) -> MemberOutcome:
        def step(loaded: Loaded) -> Change[MemberOutcome]:
            ledger, lapsed = release_expired_holds(loaded.account.ledger, now)
            if not lapsed:
                return Change(result=MemberOutcome())
            outcome = MemberOutcome(changed=True, points=sum(h.points for h in lapsed), lots=len(lapsed))
            return Change(result=outcome, account=loaded.account.with_ledger(ledger))

        return self.writes.apply(tenant, key.member_id, step, now, first=member)

    def activate_pending(self, tenant: Tenant, key: MemberKey, member: Member, now: datetime) -> MemberOutcome:
        def step(loaded: Loaded) -> Change[MemberOutcome]:
            before = loaded.member.account
            if before.next_activation is None or before.next_activation > now:
                return Change(result=MemberOutcome())  # the index was behind: someone already did it
            account, movement = activated(loaded.account, now)
            if movement is None:
                return Change(result=MemberOutcome(changed=True), account=account)
            points = sum(
                lot.remaining for lot in account.ledger.lots if lot.lot_id in {c.lot_id for c in movement.lots}
            )
            entry = EntryRecord(
                scope=member_scope(key.member_id),
                key=activate_key(movement.seq),
                member_id=key.member_id,
                movement=movement,
                reference="activation",
                created_at=now,
                details=ActivationDetails(points=points),
            )
            return Change(
                result=MemberOutcome(changed=True, lots=len(movement.lots), points=points),
                account=account,
                entries=(entry,),
            )

        return self.writes.apply(tenant, key.member_id, step, now, first=member)
