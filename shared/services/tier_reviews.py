"""The scheduled tier evaluation of the rolling 12-month basis (SPEC §8): downgrades happen here and only here.

A member is due at local midnight on the 1st while they hold a tier (``tier_review_at``, see
``shared.tier_review``). The new tier is written under the account's version with the next review; a rerun or an
overlapping run recomputes from the stored tier and finds nothing left to lower. The e-mail follows the commit,
claimed first under a key of the downgrade's month, so it is sent at most once (a run that dies between the
commit and the claim loses that e-mail: the tier is right either way).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from shared.notify.program_messages import TIER_DOWNGRADE, downgrade_data
from shared.records import Commit, Member, MemberKey
from shared.services.jobs import MemberOutcome, retried
from shared.services.messenger import Messenger, Outgoing, counted
from shared.services.reminders import Step
from shared.services.store import LedgerStore, bumped, expire_due
from shared.tenants import Tenant
from shared.tier_review import Review, review


class TierReviewService:
    def __init__(self, store: LedgerStore, messenger: Messenger, attempts: int) -> None:
        self.store = store
        self.messenger = messenger
        self.attempts = attempts

    def review(self, tenant: Tenant, key: MemberKey, member: Member, now: datetime) -> MemberOutcome:
        done: list[Review] = []
        outcome = retried(self.store, self.attempts, key, member, lambda m: self._review(tenant, m, now, done))
        if not done:
            return outcome
        return counted(outcome, [self._mail(tenant, member, done[-1], now)])

    def _review(self, tenant: Tenant, member: Member, now: datetime, done: list[Review]) -> MemberOutcome:
        if member.account.tier_review_at is None or member.account.tier_review_at > now:
            return MemberOutcome()  # the index was behind: another run reviewed this member already
        program = tenant.current.settings
        account, entries = expire_due(member.account, now)
        result = review(account, program, now)
        account = bumped(replace(account, tier=result.tier, tier_review_at=None), program, now)
        self.store.commit(tenant.tenant_id, Commit(account.member_id, account, member.account.version, tuple(entries)))
        if result.downgraded:
            done.append(result)
        return MemberOutcome(changed=result.downgraded)

    def _mail(self, tenant: Tenant, member: Member, result: Review, now: datetime) -> Step:
        program = tenant.current.settings
        local = now.astimezone(ZoneInfo(program.timezone)).date()
        name = member.profile.name if member.profile else None
        data = downgrade_data(tenant.tenant_id, name, result.held, result.tier)
        msg = Outgoing(
            "tier_downgrade", local.strftime("%Y-%m"), "email", local.isoformat(), 0, 0, TIER_DOWNGRADE, data
        )
        return self.messenger.send(tenant, member, msg, None, now)
