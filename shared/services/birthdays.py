"""The birthday bonus (docs/spec.md §8): points on the member's birthday in tenant time, once a year, with an e-mail.

The grant is one commit under the account's version: a ``grant`` entry keyed ``M#<member>``/``BIRTHDAY#<year>``
(created only if new, so reruns and overlapping runs grant once), a lot of source ``birthday`` with the bonus's
lifetime, and ``birthday_year`` on the account so later runs of the day skip the member without a write. The
e-mail follows (claim first, then send); every run of the birthday looks at it again until its record is final,
so a run that died between the grant and the e-mail, or a transient SES error, is made good the same day.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.birthday import is_birthday
from shared.entry_details import BirthdayDetails
from shared.keys import birthday_entry_key, member_scope
from shared.ledger import Credit, credit
from shared.notify.program_messages import BIRTHDAY, birthday_data
from shared.program import BirthdayBonus
from shared.records import EntryRecord, Member, MemberKey
from shared.services.jobs import MemberOutcome
from shared.services.member_write import Change, Loaded, MemberWrite
from shared.services.messenger import Messenger, Outgoing, counted, reachable
from shared.services.reminders import Step
from shared.services.store import LedgerStore
from shared.tenants import Tenant


class BirthdayService:
    def __init__(self, store: LedgerStore, messenger: Messenger, attempts: int) -> None:
        self.writes = MemberWrite(store, attempts)
        self.messenger = messenger

    def grant(self, tenant: Tenant, key: MemberKey, member: Member, now: datetime) -> MemberOutcome:
        program = tenant.current.settings
        bonus, profile = program.birthday_bonus, member.profile
        today = now.astimezone(ZoneInfo(program.timezone)).date()
        if bonus is None or profile is None or not profile.birthday or not is_birthday(profile.birthday, today):
            return MemberOutcome()  # another zone's birthday, or no bonus in this program
        outcome, seq = self.writes.apply(
            tenant, key.member_id, lambda loaded: self._grant(loaded, bonus, today, now), now, first=member
        )
        if seq is not None:  # the member's position after the grant: the e-mail follows it in the history
            member = replace(member, account=member.account.with_ledger(replace(member.account.ledger, seq=seq)))
        return counted(outcome, self._mail(tenant, member, bonus, today, now))

    @staticmethod
    def _grant(
        loaded: Loaded, bonus: BirthdayBonus, today: date, now: datetime
    ) -> Change[tuple[MemberOutcome, int | None]]:
        if loaded.member.account.wakeups.birthday_year == today.year:
            return Change(result=(MemberOutcome(), None))  # granted by an earlier run (or an overlapping one) this year
        lot = Credit(bonus.points, "birthday", now, now + timedelta(days=bonus.lifetime_days))
        ledger, movement = credit(loaded.account.ledger, "grant", [lot], now)
        details = BirthdayDetails(
            rule="birthday", year=today.year, points=bonus.points, lifetime_days=bonus.lifetime_days
        )
        member_id = ledger.member_id
        entry = EntryRecord(
            scope=member_scope(member_id),
            key=birthday_entry_key(today.year),
            member_id=member_id,
            movement=movement,
            reference="birthday",
            created_at=now,
            event_id=None,
            details=details,
        )
        outcome = MemberOutcome(changed=True, lots=1, points=bonus.points)
        account = loaded.account.with_ledger(ledger).with_wakeups(birthday_year=today.year)
        return Change(result=(outcome, ledger.seq), account=account, entries=(entry,))

    def _mail(self, tenant: Tenant, member: Member, bonus: BirthdayBonus, today: date, now: datetime) -> list[Step]:
        """The e-mail of this year's bonus unless its record is final (a Query per run of the day when reachable)."""
        program = tenant.current.settings
        profile = member.profile
        assert profile is not None
        if not reachable(member, "email"):
            return [Step("skipped")]
        expires = (now + timedelta(days=bonus.lifetime_days)).astimezone(ZoneInfo(program.timezone)).date()
        data = birthday_data(tenant.tenant_id, profile.name, bonus.points, expires, program.language)
        msg = Outgoing(
            topic="birthday",
            occasion=str(today.year),
            channel="email",
            about=today.isoformat(),
            points=bonus.points,
            days_before=0,
            template=BIRTHDAY,
            data=data,
        )
        record = self.messenger.records(tenant, member.account.member_id, msg.topic, msg.occasion).get(msg.key)
        return [self.messenger.send(tenant, member, msg, record, now)]
