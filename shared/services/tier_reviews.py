"""The scheduled tier evaluation of the rolling 12-month basis (docs/spec.md §8): downgrades happen here and only here.

A member is due at local midnight on the 1st while they hold a tier (``tier_review_at``, see
``shared.tier_review``). The new tier is written under the account's version with the next review; a rerun or an
overlapping run recomputes from the stored tier and finds nothing left to lower. The e-mail follows the commit,
claimed first under a key of the downgrade's month, so it is sent at most once (a run that dies between the
commit and the claim loses that e-mail: the tier is right either way).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from shared.notify.program_messages import TIER_DOWNGRADE, downgrade_data
from shared.records import Member, MemberKey
from shared.services.jobs import MemberOutcome
from shared.services.member_write import Change, Loaded, MemberWrite
from shared.services.messenger import Messenger, Outgoing, counted
from shared.services.reminders import Step
from shared.services.store import LedgerStore
from shared.tenants import Tenant
from shared.tier_review import Review, review


class TierReviewService:
    def __init__(self, store: LedgerStore, messenger: Messenger, attempts: int) -> None:
        self.writes = MemberWrite(store, attempts)
        self.messenger = messenger

    def review(self, tenant: Tenant, key: MemberKey, member: Member, now: datetime) -> MemberOutcome:
        outcome, result = self.writes.apply(
            tenant, key.member_id, lambda loaded: self._review(tenant, loaded, now), now, first=member
        )
        if result is None or not result.downgraded:
            return outcome
        return counted(outcome, [self._mail(tenant, member, result, now)])

    @staticmethod
    def _review(tenant: Tenant, loaded: Loaded, now: datetime) -> Change[tuple[MemberOutcome, Review | None]]:
        at = loaded.member.account.wakeups.tier_review_at
        if at is None or at > now:
            return Change(
                result=(MemberOutcome(), None)
            )  # the index was behind: another run reviewed this member already
        result = review(loaded.account.standing, tenant.current.settings, now)
        account = loaded.account.with_standing(tier=result.tier).with_wakeups(tier_review_at=None)
        return Change(result=(MemberOutcome(changed=result.downgraded), result), account=account)

    def _mail(self, tenant: Tenant, member: Member, result: Review, now: datetime) -> Step:
        program = tenant.current.settings
        local = now.astimezone(ZoneInfo(program.timezone)).date()
        name = member.profile.name if member.profile else None
        data = downgrade_data(tenant.tenant_id, name, result.held, result.tier)
        msg = Outgoing(
            topic="tier_downgrade",
            occasion=local.strftime("%Y-%m"),
            channel="email",
            about=local.isoformat(),
            points=0,
            days_before=0,
            template=TIER_DOWNGRADE,
            data=data,
        )
        return self.messenger.send(tenant, member, msg, None, now)
