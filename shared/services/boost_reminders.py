"""The post-purchase boost's end reminder (docs/spec.md §8): ``reminder_days_before_end`` days before ``boost_until``.

A boost that starts with a paid order sets ``boost_remind_at`` on the account (``shared.standing.after_paid``); the
job finds the member through that sparse index. Each channel (e-mail, SMS) is claimed first under a key of the
boost's end, then sent, then recorded, so a boost is reminded once per channel whatever reruns or overlaps happen.
The wake-up is cleared after the messages, or moved to when a message must be looked at again: the SMS quiet
hours, a transient error, an overlapping run's claim. A boost that ended meanwhile is not reminded at all.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from shared.clock import iso
from shared.notify.program_messages import BOOST_ENDING, boost_data, boost_sms
from shared.records import Member, MemberKey
from shared.services.jobs import MemberOutcome
from shared.services.member_write import Change, Loaded, MemberWrite
from shared.services.messenger import Messenger, Outgoing, counted
from shared.services.reminders import Step
from shared.services.store import LedgerStore
from shared.tenants import Tenant

CHANNELS = ("email", "sms")


class BoostReminderService:
    def __init__(self, store: LedgerStore, messenger: Messenger, attempts: int) -> None:
        self.writes = MemberWrite(store, attempts)
        self.messenger = messenger

    def remind(self, tenant: Tenant, key: MemberKey, member: Member, now: datetime) -> MemberOutcome:
        return self.writes.apply(
            tenant, key.member_id, lambda loaded: self._remind(tenant, loaded, now), now, first=member
        )

    def _remind(self, tenant: Tenant, loaded: Loaded, now: datetime) -> Change[MemberOutcome]:
        member = loaded.member
        remind_at, until = member.account.wakeups.boost_remind_at, member.account.standing.boost_until
        if remind_at is None or remind_at > now:
            return Change(result=MemberOutcome())  # the index was behind: another run handled it already
        boost = tenant.current.settings.post_purchase_boost
        running = until is not None and now < until
        steps = self._send(tenant, member, now) if boost and boost.reminder_days_before_end and running else []
        waits = [s.retry_at for s in steps if s.retry_at is not None]
        updated = loaded.account.with_wakeups(boost_remind_at=min(waits, default=None))
        return Change(result=counted(MemberOutcome(changed=bool(steps)), steps), account=updated)

    def _send(self, tenant: Tenant, member: Member, now: datetime) -> list[Step]:
        program = tenant.current.settings
        until = member.account.standing.boost_until
        assert until is not None and program.post_purchase_boost is not None
        days = program.post_purchase_boost.reminder_days_before_end
        local_until = until.astimezone(ZoneInfo(program.timezone)).date()
        name = member.profile.name if member.profile else None
        data = boost_data(tenant.tenant_id, name, local_until, program.language)
        text = boost_sms(tenant.tenant_id, local_until, program.language)
        occasion = iso(until)
        records = self.messenger.records(tenant, member.account.member_id, "boost_ending", occasion)
        steps = []
        for channel in CHANNELS:
            msg = Outgoing(
                topic="boost_ending",
                occasion=occasion,
                channel=channel,
                about=local_until.isoformat(),
                points=0,
                days_before=days,
                template=BOOST_ENDING,
                data=data,
                text=text,
            )
            steps.append(self.messenger.send(tenant, member, msg, records.get(msg.key), now))
        return steps
