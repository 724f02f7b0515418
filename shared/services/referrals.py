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

from shared.keys import REFEREE, REFERRAL_PREFIX, REFERRER, REFUND_PREFIX, order_of, referrals_month_key
from shared.ledger import Account, Movement, credit, reverse
from shared.program import ProgramSettings
from shared.records import Commit, CounterRecord, EntryRecord, OrderState
from shared.referral import bonus, contact_key, normalize
from shared.services.store import LedgerStore, bumped, expire_born, expire_due
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
        return self.referrer_id is not None and before.paid_orders == 0

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
    def __init__(self, store: LedgerStore) -> None:
        self.store = store

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
        account: Account,
        entries: list[EntryRecord],
        scope: str,
        paid_at: datetime,
        now: datetime,
    ) -> tuple[Account, Commit | None]:
        """The referee's bonus (appended to ``entries``) and the referrer's commit (with the month's counter)."""
        assert referral.referrer_id is not None
        program = tenant.program_at(paid_at).settings
        order_id = order_of(scope)
        granted = bonus(referral.referee_points, paid_at, program)
        if granted:
            account, movement = credit(account, "referral", granted, now)
            details = {"referrer_id": referral.referrer_id, "code": referral.code}
            entries.append(EntryRecord(scope, REFEREE, account.member_id, movement, order_id, now, None, details))
        reward = bonus(referral.referrer_points, paid_at, program)
        if not reward:
            return account, None
        referrer = self.store.load_member(tenant.tenant_id, referral.referrer_id)
        r_account, r_entries = expire_due(referrer.account, now)
        r_account, movement = credit(r_account, "referral", reward, now)
        details = {"referee_id": account.member_id, "order_id": order_id}
        r_entries.append(EntryRecord(scope, REFERRER, referral.referrer_id, movement, order_id, now, None, details))
        r_account = bumped(expire_born(r_account, r_entries, now), tenant.current.settings, now)
        commit = Commit(referral.referrer_id, r_account, referrer.account.version, tuple(r_entries), counter=counter)
        return account, commit

    def take_back(
        self, tenant: Tenant, state: OrderState, base: str, account: Account, entries: list[EntryRecord], now: datetime
    ) -> tuple[Account, Commit | None]:
        """On the full refund or cancellation of a referee's first order: reverse the referee's bonus (appended to
        ``entries``) and return the referrer's reversal as a commit. Once per order, whatever refunds follow."""
        given = {e.key: e for e in state.referral if e.key.startswith(REFERRAL_PREFIX)}
        if not given or any(e.key.startswith(REFUND_PREFIX) for e in state.referral):
            return account, None
        referee = given.get(REFEREE)
        if referee is not None:
            account, entry = _reversal(account, referee, base, now)
            entries.append(entry)
        referrer_entry = given.get(REFERRER)
        if referrer_entry is None:
            return account, None
        referrer = self.store.load_member(tenant.tenant_id, referrer_entry.member_id)
        r_account, r_entries = expire_due(referrer.account, now)
        r_account, entry = _reversal(r_account, referrer_entry, base, now)
        r_entries.append(entry)
        r_account = bumped(r_account, tenant.current.settings, now)
        return account, Commit(referrer_entry.member_id, r_account, referrer.account.version, tuple(r_entries))


def _reversal(account: Account, given: EntryRecord, base: str, now: datetime) -> tuple[Account, EntryRecord]:
    """Take a referral bonus back from its own lot first, then other points, then as debt. A bonus whose lot has
    expired is not taken again (the member lost it already), like an order's expired points."""
    lot_ids = [change.lot_id for change in given.movement.lots]
    live = [change.change for change in given.movement.lots if change.expires_at > now]
    points = given.movement.delta if len(live) == len(given.movement.lots) else sum(live)
    key = f"{base}#{given.key}"
    if points > 0:
        account, movement = reverse(account, points, now, lot_ids)
    else:
        account, movement = _nothing(account)
    return account, EntryRecord(given.scope, key, given.member_id, movement, given.reference, now, None)


def _nothing(account: Account) -> tuple[Account, Movement]:
    seq = account.seq + 1
    return replace(account, seq=seq), Movement("reverse", 0, seq, account.balance)
