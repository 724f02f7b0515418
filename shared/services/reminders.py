"""Expiry reminders (docs/spec.md §7): one message per member, stage, expiry date and channel, whatever happens.

For each due message the intent is recorded first (a conditional put of the notification record), then
the message is sent, then the outcome is written on the record. A rerun or an overlapping run finds the
record and sends nothing; a run that died between claim and outcome leaves the record ``sending``, which
a later run marks ``unknown`` and never re-sends (at most once, never twice). Transient provider errors
are retried on the next runs; an invalid address or phone is recorded as ``invalid`` and never retried.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from shared.account import Account
from shared.keys import NOTIFY_PREFIX
from shared.notify.messages import Reminder, email_data, sms_text, staff_call
from shared.observability import logger, metrics, redact
from shared.ports import Delivery, Notifier
from shared.program import ProgramSettings
from shared.records import Commit, Member, MemberKey, NotificationRecord
from shared.reminders import DueMessage, due_messages, next_remind_at, next_sms_window, sms_window_open
from shared.services.jobs import MemberOutcome, retried
from shared.services.store import LedgerStore
from shared.tenants import Tenant

CLAIM_LEASE = timedelta(minutes=20)  # longer than a Lambda can run: an older claim belongs to a dead run
RETRY_DELAY = timedelta(seconds=1)  # "the next run": any later run picks the member up again
FINAL = {"sent", "invalid", "unknown", "gave_up"}


@dataclass(frozen=True)
class MailSettings:
    email_from: str  # the platform's verified sender when the operator bound none to the tenant
    template_prefix: str  # SES template names: <prefix>-<language>
    max_attempts: int
    template_namespace: str = "loyalty"  # the program messages' templates: <namespace>-<kind>-<language>


@dataclass(frozen=True)
class Step:
    """What happened to one due message; ``retry_at`` is set when it must be looked at again."""

    outcome: str  # sent | failed | invalid | skipped | duplicate | deferred | unknown | gave_up
    retry_at: datetime | None = None
    cost: int = 0
    message_id: str | None = None


class ReminderService:
    def __init__(self, store: LedgerStore, notifier: Notifier, mail: MailSettings, attempts: int) -> None:
        self.store = store
        self.notifier = notifier
        self.mail = mail
        self.attempts = attempts

    def remind(self, tenant: Tenant, key: MemberKey, member: Member, now: datetime) -> MemberOutcome:
        return retried(self.store, self.attempts, key, member, lambda m: self._remind(tenant, m, now))

    def _remind(self, tenant: Tenant, member: Member, now: datetime) -> MemberOutcome:
        program = tenant.current.settings
        zone = ZoneInfo(program.timezone)
        due = due_messages(member.account, program.reminders, zone, now)
        steps: list[Step] = []
        if due:
            first = min(m.expiry_date for m in due).isoformat()
            records = self.store.notifications(tenant.tenant_id, member.account.member_id, NOTIFY_PREFIX + first)
            steps = [self._one(tenant, program, member, msg, records.get(msg.key), zone, now) for msg in due]
        self._advance(tenant, member.account, program, zone, steps, now)
        return MemberOutcome(
            changed=bool(steps),
            messages=sum(s.outcome == "sent" for s in steps),
            failed=sum(s.outcome in ("failed", "invalid", "gave_up") for s in steps),
            skipped=sum(s.outcome in ("skipped", "duplicate") for s in steps),
            cost_usd_micros=sum(s.cost for s in steps),
        )

    def _advance(
        self,
        tenant: Tenant,
        account: Account,
        program: ProgramSettings,
        zone: ZoneInfo,
        steps: list[Step],
        now: datetime,
    ) -> None:
        """Move the watermark past what was handled and set the next wake-up (conditional on the version)."""
        waits = [s.retry_at for s in steps if s.retry_at is not None]
        future = next_remind_at(account.with_wakeups(reminded_through=now), program.reminders, zone, now)
        through = account.wakeups.reminded_through if waits else now
        remind_at = min([*waits, *([future] if future else [])], default=None)
        updated = replace(
            account.with_wakeups(reminded_through=through, remind_at=remind_at), version=account.version + 1
        )
        self.store.commit(
            tenant.tenant_id, Commit(member_id=account.member_id, account=updated, expected_version=account.version)
        )

    # -- one message ----------------------------------------------------------------------------

    def _one(
        self,
        tenant: Tenant,
        program: ProgramSettings,
        member: Member,
        msg: DueMessage,
        record: NotificationRecord | None,
        zone: ZoneInfo,
        now: datetime,
    ) -> Step:
        address = self._address(tenant, member, msg.channel)
        if address is None:
            return self._log(member, msg, Step("skipped"), "no consent or no address")
        if record is not None and record.status in FINAL:
            return Step("duplicate")
        if record is not None and record.status == "sending":
            return self._stale_claim(tenant, member, msg, record, now)
        if record is not None and record.attempts >= self.mail.max_attempts:
            claim = replace(record, status="sending", updated_at=now)
            if self.store.claim_notification(tenant.tenant_id, claim, record):
                self._finish(tenant, claim, Delivery("gave_up", error=record.error), now)
            return self._log(member, msg, Step("gave_up"), "too many attempts")
        if msg.channel == "sms" and not sms_window_open(now, zone):
            return Step("deferred", next_sms_window(now, zone))
        claim = self._claim(member, msg, record, now)
        if not self.store.claim_notification(tenant.tenant_id, claim, record):
            return Step("deferred", now + RETRY_DELAY)  # an overlapping run claimed it first
        delivery = self._send(tenant, program, member, msg, address)
        self._finish(tenant, claim, delivery, now)
        retry = now + RETRY_DELAY if delivery.status == "failed" else None
        step = Step(delivery.status, retry, delivery.cost_usd_micros, delivery.message_id)
        return self._log(member, msg, step, delivery.error)

    @staticmethod
    def _address(tenant: Tenant, member: Member, channel: str) -> str | None:
        """The member's address on the channel; for a staff call, the topic the operator bound to the tenant."""
        profile = member.profile
        if profile is None:
            return None
        if channel == "email":
            return profile.email if profile.consent.get("email", True) else None
        if channel == "sms":
            return profile.phone if profile.consent.get("sms", True) else None
        if not profile.consent.get("call", True) or not profile.phone:
            return None
        return tenant.staff_topic_arn

    def _claim(
        self, member: Member, msg: DueMessage, record: NotificationRecord | None, now: datetime
    ) -> NotificationRecord:
        if record is not None:
            return replace(record, status="sending", attempts=record.attempts + 1, points=msg.points, updated_at=now)
        return NotificationRecord(
            member_id=member.account.member_id,
            key=msg.key,
            expiry_date=msg.expiry_date.isoformat(),
            days_before=msg.days_before,
            channel=msg.channel,
            points=msg.points,
            status="sending",
            attempts=1,
            seq=member.account.ledger.seq,
            created_at=now,
            updated_at=now,
        )

    def _stale_claim(
        self, tenant: Tenant, member: Member, msg: DueMessage, record: NotificationRecord, now: datetime
    ) -> Step:
        if now - record.updated_at < CLAIM_LEASE:
            return Step("deferred", record.updated_at + CLAIM_LEASE)  # another run is sending it right now
        # The run that claimed it died before writing the outcome: it may have been sent, so never resend.
        self._finish(
            tenant, record, Delivery("unknown", error="the sending run stopped before recording the outcome"), now
        )
        return self._log(member, msg, Step("unknown"), "claim expired")

    def _send(
        self, tenant: Tenant, program: ProgramSettings, member: Member, msg: DueMessage, address: str
    ) -> Delivery:
        profile = member.profile
        assert profile is not None
        reminder = Reminder(
            tenant_id=tenant.tenant_id,
            member_id=member.account.member_id,
            name=profile.name,
            phone=profile.phone,
            points=msg.points,
            expiry_date=msg.expiry_date,
            language=program.language,
        )
        if msg.channel == "email":
            template = f"{self.mail.template_prefix}-{program.language}"
            return self.notifier.email(
                address, tenant.email_from or self.mail.email_from, template, email_data(reminder)
            )
        if msg.channel == "sms":
            return self.notifier.sms(address, sms_text(reminder), program.sms_sender_id)
        subject, body = staff_call(reminder)
        return self.notifier.staff(address, subject, body)

    def _finish(self, tenant: Tenant, claim: NotificationRecord, delivery: Delivery, now: datetime) -> None:
        self.store.finish_notification(tenant.tenant_id, outcome_of(claim, delivery, now))

    @staticmethod
    def _log(member: Member, msg: DueMessage, step: Step, error: str | None = None) -> Step:
        """One line per message: member, stage, channel, outcome, cost, error (never the address)."""
        logger.info(
            "reminder",
            extra={
                "member_id": member.account.member_id,
                "stage_days": msg.days_before,
                "channel": msg.channel,
                "expiry_date": msg.expiry_date.isoformat(),
                "points": msg.points,
                "outcome": step.outcome,
                "cost_usd_micros": step.cost,
                "message_id": step.message_id,
                "error": redact(error),
            },
        )
        metrics.add_metric(name=f"Reminders_{step.outcome}", unit="Count", value=1)
        return step


def outcome_of(claim: NotificationRecord, delivery: Delivery, now: datetime) -> NotificationRecord:
    """The claimed message's record once the provider answered (costs add up over attempts)."""
    return replace(
        claim,
        status=delivery.status,
        message_id=delivery.message_id,
        error=delivery.error,
        cost_usd_micros=claim.cost_usd_micros + delivery.cost_usd_micros,
        updated_at=now,
    )
