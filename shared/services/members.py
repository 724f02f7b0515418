"""Member look-ups and contact data (docs/spec.md §6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.errors import NotFound
from shared.ledger import Balances, Lot
from shared.program import ProgramSettings
from shared.records import HistoryPage, Member, Profile
from shared.referral import code_of
from shared.rules import next_tier, tier_for
from shared.services.store import LedgerStore
from shared.standing import spend_for_tiers, standing_of


@dataclass(frozen=True, kw_only=True)
class MemberView:
    member_id: str
    balances: Balances
    lifetime_spend_minor: int
    lots: list[Lot]
    profile: Profile | None
    tier: str | None = None
    tier_spend_minor: int = 0  # the spend the tier is measured on (lifetime or the rolling 12 months)
    vip: bool = False
    boost_until: datetime | None = None
    referral_code: str | None = None
    next_tier: str | None = None  # the tier above, and the spend still needed to reach it
    next_tier_spend_needed_minor: int = 0


@dataclass(frozen=True)
class ContactUpdate:
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    birthday: str | None = None
    consent: dict[str, bool] | None = None


class MemberService:
    def __init__(self, store: LedgerStore) -> None:
        self.store = store

    def view(self, tenant_id: str, member_id: str, program: ProgramSettings, now: datetime) -> MemberView:
        return self.view_of(tenant_id, self.store.load_member(tenant_id, member_id), program, now)

    def view_of(self, tenant_id: str, member: Member, program: ProgramSettings, now: datetime) -> MemberView:
        """The view of a member already read (the cabinet reads it with the session)."""
        member_id = member.account.ledger.member_id
        if not member.exists:
            raise NotFound("no such member", code="member_not_found")
        ledger, stored = member.account.ledger, member.account.standing
        standing = standing_of(stored, program, now)
        tier = tier_for(program, standing)
        above = next_tier(program, standing)
        return MemberView(
            member_id=member_id,
            balances=ledger.balances(now),
            lifetime_spend_minor=stored.lifetime_spend_minor,
            lots=ledger.open_lots(now),
            profile=member.profile,
            tier=tier.name if tier else None,
            tier_spend_minor=spend_for_tiers(stored, program, now),
            vip=standing.vip,
            boost_until=stored.boost_until if standing.boost_active else None,
            referral_code=code_of(tenant_id, member_id),
            next_tier=above[0].name if above else None,
            next_tier_spend_needed_minor=above[1] if above else 0,
        )

    def history(self, tenant_id: str, member_id: str, limit: int, cursor: str | None) -> HistoryPage:
        return self.store.history(tenant_id, member_id, limit, cursor)

    def find(self, tenant_id: str, email: str | None, phone: str | None) -> list[str]:
        return self.store.find_members(tenant_id, email=email, phone=phone)

    def update_contact(self, tenant_id: str, member_id: str, update: ContactUpdate) -> Profile:
        """Fields present in the request replace the stored ones; absent fields and consent channels stay.

        Only the named fields are written (one UpdateItem, not a put of the profile read before), so an order's
        contact data written meanwhile is kept; the answer is the profile read back after the write."""
        patch = Profile(
            member_id=member_id,
            email=update.email,
            phone=update.phone,
            name=update.name,
            birthday=update.birthday,
            consent=dict(update.consent or {}),
        )
        self.store.save_profile(tenant_id, patch)
        return self.store.load_member(tenant_id, member_id).profile or patch
