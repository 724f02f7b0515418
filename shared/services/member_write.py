"""The one way to change a member (issue 15 item 1): load, expire what is due, the domain step, the wake-ups, the
commit under the version read, and the bounded retry on a conflict.

A service states only its domain step: ``step(loaded) -> Change``. It sees the member as read and its account with
the lots past their expiry already taken out (every write expires first, so each entry's ``balance_after`` is what
the member view shows); it returns the account after its change, the records of the same transaction and its
answer, or no account when there is nothing to write. ``MemberWrite`` adds the expire entries, expires the lots the
step created already past their expiry (an order reported after its points' lifetime, a restore with no grace),
sets the scheduler's wake-ups on the account (``bumped``, last, from the account as it will be written), commits,
and on a version conflict reloads and runs the step again.

A step that changes a second member in the same transaction (a transfer's recipient, a referrer's bonus or its
reversal) names it as the change's ``partner``: ``MemberWrite.load`` gives its ``Loaded`` and the partner's change
is committed with the same rules, both in one transaction or neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from shared.account import Account
from shared.ports import Duplicate
from shared.records import (
    Commit,
    CounterRecord,
    EntryRecord,
    HoldRecord,
    Member,
    OrderHoldClaim,
    Profile,
    RefundRecord,
)
from shared.services.store import LedgerStore, bumped, expire_due, with_retries
from shared.tenants import Tenant

T = TypeVar("T")


@dataclass(frozen=True)
class Loaded:
    """A member as read, and its account with the lots due at ``now`` expired (``expired``: their entries)."""

    member: Member
    account: Account
    expired: tuple[EntryRecord, ...]


@dataclass(frozen=True, kw_only=True)
class Change(Generic[T]):
    """What a domain step does: its answer, and the account after it (None: nothing to write) with the records that
    go into the same transaction."""

    result: T
    account: Account | None = None
    entries: tuple[EntryRecord, ...] = ()
    hold: HoldRecord | None = None
    refund: RefundRecord | None = None
    profile: Profile | None = None
    void_order: str | None = None
    counter: CounterRecord | None = None
    claim: OrderHoldClaim | None = None
    partner: Partner | None = None


@dataclass(frozen=True)
class Partner:
    """A second member changed in the same transaction: as loaded (``MemberWrite.load``), and its change."""

    loaded: Loaded
    change: Change[None]


Step = Callable[[Loaded], Change[T]]


class MemberWrite:
    def __init__(self, store: LedgerStore, attempts: int) -> None:
        self.store = store
        self.attempts = attempts

    def apply(
        self,
        tenant: Tenant,
        member_id: str,
        step: Step[T],
        now: datetime,
        *,
        first: Member | None = None,
        on_duplicate: Callable[[Duplicate], T | None] | None = None,
    ) -> T:
        """Run ``step`` on the member (``first`` when the caller read it already) until its change commits.

        ``on_duplicate`` answers a lost race on a business key with the first result (None: run the step again)."""
        loads = iter([first] if first is not None else [])

        def attempt() -> T:
            member = next(loads, None) or self.store.load_member(tenant.tenant_id, member_id)
            loaded = self.loaded(member, now)
            return self.commit(tenant, loaded, step(loaded), now)

        return self.retrying(attempt, on_duplicate)

    def retrying(self, attempt: Callable[[], T], on_duplicate: Callable[[Duplicate], T | None] | None = None) -> T:
        """Run ``attempt`` (which loads, computes and ``commit``s) until it commits, within the attempts budget: for a
        write whose member is known only from another record read in the same attempt (a refund's order)."""
        return with_retries(self.attempts, attempt, on_duplicate or _recompute)

    def commit(self, tenant: Tenant, loaded: Loaded, change: Change[T], now: datetime) -> T:
        """Commit ``change`` to the member as ``loaded`` (and its partner's, in the same transaction); its answer."""
        if change.account is None:
            return change.result
        commit = self.commit_of(tenant, loaded, change, now)
        if change.partner is None:
            self.store.commit(tenant.tenant_id, commit)
        else:  # both members in one transaction, each under its own version, or neither
            partner = self.commit_of(tenant, change.partner.loaded, change.partner.change, now)
            self.store.commit_pair(tenant.tenant_id, commit, partner)
        return change.result

    def load(self, tenant: Tenant, member_id: str, now: datetime) -> Loaded:
        """A partner as a step sees the member it writes: read now, its due lots expired."""
        return self.loaded(self.store.load_member(tenant.tenant_id, member_id), now)

    @staticmethod
    def loaded(member: Member, now: datetime) -> Loaded:
        account, expired = expire_due(member.account, now)
        return Loaded(member=member, account=account, expired=tuple(expired))

    @staticmethod
    def commit_of(tenant: Tenant, loaded: Loaded, change: Change[T], now: datetime) -> Commit:
        """The commit of ``change`` to the member as ``loaded`` (under the version read): the expire entries first,
        the step's entries, the expiry of lots it created past their expiry, the account with its wake-ups set."""
        assert change.account is not None
        account, born_expired = expire_due(change.account, now)
        return Commit(
            member_id=loaded.member.account.member_id,
            account=bumped(account, tenant.current.settings, now),
            expected_version=loaded.member.account.version,
            entries=(*loaded.expired, *change.entries, *born_expired),
            hold=change.hold,
            refund=change.refund,
            profile=change.profile,
            void_order=change.void_order,
            counter=change.counter,
            claim=change.claim,
        )


def _recompute(_: Duplicate) -> None:
    return None
