"""Referrals on a first paid order (docs/spec.md §8), safe against farming (issue 13).

A referral pays only for another person's kept first order: the code's owner must not share the referee's e-mail or
phone; the order must reach the minimum check; both bonuses wait for the return window; a referrer is paid at most
``max_per_month`` times a month (a counter in their partition, written under a condition); and a full refund or a
cancellation of the order takes both bonuses back, into debt where they were spent. Every entry is in the order's
scope, so the order's business keys make each step happen once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from shared.account import Account
from shared.entry_details import EntryDetails, RefereeDetails, ReferrerDetails
from shared.keys import REFEREE, REFERRAL_PREFIX, REFERRER, REFUND_PREFIX, order_of, referrals_month_key
from shared.ledger import Ledger, Movement, credit, nothing, reverse
from shared.program import ProgramSettings
from shared.records import CounterRecord, EntryRecord, OrderState
from shared.referral import bonus, contact_key, normalize
from shared.services.member_write import Change, MemberWrite, Partner
from shared.services.store import LedgerStore
from shared.standing import month_key
from shared.tenants import Tenant


@dataclass(frozen=True)
class ReferralIn:
    """A referral code on a paid order, resolved: ``referrer_id`` None means ignored, for ``ignored``."""

    code: str
    referrer_id: str | None
    ignored: str | None
    referrer_points: int = 0
    referee_points: int = 0

    def applies(self, before: Account) -> bool:
        """Only the customer's first paid order earns the referral (``paid_orders`` before this one)."""
        return self.referrer_id is not None and before.standing.paid_orders == 0

    def recorded(self, applied: bool, qualifies: bool = True) -> dict[str, Any]:
        """What the PAID entry keeps about the code."""
        if applied:
            return {
                "code": self.code,
                "referrer_id": self.referrer_id,
                "referrer_points": self.referrer_points,
                "referee_points": self.referee_points,
            }
        reason = self.ignored or ("below_min_check" if not qualifies else "not_first_order")
        return {"code": self.code, "ignored": reason}


@dataclass(frozen=True)
class Referee:
    """The customer of the order: who they are and how to reach them, as the order says."""

    member_id: str
    email: str | None
    phone: str | None


class Referrals:
    def __init__(self, store: LedgerStore, writes: MemberWrite) -> None:
        self.store = store
        self.writes = writes

    def resolve(
        self, tenant: Tenant, given: str | None, referee: Referee, program: ProgramSettings
    ) -> ReferralIn | None:
        """Who a first order's code names. A bad code never fails the order: it is recorded as ignored."""
        if not given:
            return None
        rule = program.referral
        if rule is None:
            return ReferralIn(given, None, "no_referral_program")
        code = normalize(given)
        found = self.store.referred_by(tenant.tenant_id, code) if code else []
        if len(found) != 1:  # unknown, or (rarely) a code two members share: nobody can be credited
            return ReferralIn(given, None, "unknown_code")
        if found[0] == referee.member_id or self._same_person(tenant, found[0], referee):
            return ReferralIn(given, None, "self_referral")
        return ReferralIn(given, found[0], None, rule.referrer_points, rule.referee_points)

    def _same_person(self, tenant: Tenant, owner_id: str, referee: Referee) -> bool:
        """Another member id with the owner's e-mail or phone is the owner again (a throwaway account)."""
        theirs = contact_key(referee.email, referee.phone)
        if not theirs:
            return False
        profile = self.store.load_member(tenant.tenant_id, owner_id).profile
        return bool(profile and theirs & contact_key(profile.email, profile.phone))

    def allowance(
        self, tenant: Tenant, referral: ReferralIn, paid_at: datetime, program: ProgramSettings
    ) -> tuple[ReferralIn, CounterRecord | None]:
        """The referral with the referrer's reward cut to 0 past the monthly cap, and the counter to write."""
        rule = program.referral
        if referral.referrer_id is None or rule is None or not rule.max_per_month or not referral.referrer_points:
            return referral, None
        key = referrals_month_key(month_key(paid_at, program.timezone))
        count = self.store.counter(tenant.tenant_id, referral.referrer_id, key)
        if (count or 0) >= rule.max_per_month:
            return replace(referral, referrer_points=0), None
        return referral, CounterRecord(referral.referrer_id, key, (count or 0) + 1, count)

    def refer(
        self,
        tenant: Tenant,
        referral: ReferralIn,
        counter: CounterRecord | None,
        ledger: Ledger,
        scope: str,
        paid_at: datetime,
        now: datetime,
    ) -> tuple[Ledger, list[EntryRecord], Partner | None]:
        """The referee's bonus (its ledger and entry) and the referrer's change (with the month's counter)."""
        assert referral.referrer_id is not None
        program = tenant.program_at(paid_at).settings
        order_id = order_of(scope)
        entries: list[EntryRecord] = []
        granted = bonus(referral.referee_points, paid_at, program)
        if granted:
            ledger, movement = credit(ledger, "referral", granted, now)
            details = RefereeDetails(referrer_id=referral.referrer_id, code=referral.code)
            entries.append(_entry(scope, REFEREE, ledger.member_id, movement, order_id, now, details))
        reward = bonus(referral.referrer_points, paid_at, program)
        if not reward:
            return ledger, entries, None
        referrer = self.writes.load(tenant, referral.referrer_id, now)
        r_ledger, movement = credit(referrer.account.ledger, "referral", reward, now)
        details_r = ReferrerDetails(referee_id=ledger.member_id, order_id=order_id)
        entry = _entry(scope, REFERRER, referral.referrer_id, movement, order_id, now, details_r)
        change: Change[None] = Change(
            result=None, account=referrer.account.with_ledger(r_ledger), entries=(entry,), counter=counter
        )
        return ledger, entries, Partner(referrer, change)

    def take_back(
        self, tenant: Tenant, state: OrderState, base: str, ledger: Ledger, now: datetime
    ) -> tuple[Ledger, list[EntryRecord], Partner | None]:
        """On the full refund or cancellation of a referee's first order: reverse the referee's bonus (its ledger and
        entry) and the referrer's as a partner change. Once per order, whatever refunds follow."""
        given = {e.key: e for e in state.referral if e.key.startswith(REFERRAL_PREFIX)}
        if not given or any(e.key.startswith(REFUND_PREFIX) for e in state.referral):
            return ledger, [], None
        entries: list[EntryRecord] = []
        referee = given.get(REFEREE)
        if referee is not None:
            ledger, entry = _reversal(ledger, referee, base, now)
            entries.append(entry)
        referrer_entry = given.get(REFERRER)
        if referrer_entry is None:
            return ledger, entries, None
        referrer = self.writes.load(tenant, referrer_entry.member_id, now)
        r_ledger, entry = _reversal(referrer.account.ledger, referrer_entry, base, now)
        change: Change[None] = Change(result=None, account=referrer.account.with_ledger(r_ledger), entries=(entry,))
        return ledger, entries, Partner(referrer, change)


def _entry(
    scope: str, key: str, member_id: str, movement: Movement, order_id: str, now: datetime, details: EntryDetails
) -> EntryRecord:
    return EntryRecord(
        scope=scope,
        key=key,
        member_id=member_id,
        movement=movement,
        reference=order_id,
        created_at=now,
        details=details,
    )


def _reversal(ledger: Ledger, given: EntryRecord, base: str, now: datetime) -> tuple[Ledger, EntryRecord]:
    """Take a referral bonus back from its own lot first, then other points, then as debt. A bonus whose lot has
    expired is not taken again (the member lost it already), like an order's expired points."""
    lot_ids = [change.lot_id for change in given.movement.lots]
    live = [change.change for change in given.movement.lots if change.expires_at > now]
    points = given.movement.delta if len(live) == len(given.movement.lots) else sum(live)
    key = f"{base}#{given.key}"
    if points > 0:
        ledger, movement = reverse(ledger, points, now, lot_ids)
    else:
        ledger, movement = nothing(ledger, "reverse")
    return ledger, EntryRecord(
        scope=given.scope,
        key=key,
        member_id=given.member_id,
        movement=movement,
        reference=given.reference,
        created_at=now,
        event_id=None,
    )
