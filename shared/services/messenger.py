"""One program message (birthday, tier downgrade, boost ending) to one member on one channel, at most once.

The pattern of the expiry reminders (shared/services/reminders.py): the intent is recorded first (a conditional
put of the notification record keyed by the occasion), then the message is sent, then the outcome is written.
A rerun or an overlapping run finds the record and sends nothing; a claim left ``sending`` by a dead run becomes
``unknown`` and is never re-sent; consent, a missing address and the SMS quiet hours are respected.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from shared.keys import program_message_key
from shared.observability import logger, metrics, redact
from shared.ports import Delivery, Notifier
from shared.records import Member, NotificationRecord
from shared.reminders import next_sms_window, sms_window_open
from shared.services.jobs import MemberOutcome
from shared.services.reminders import CLAIM_LEASE, FINAL, RETRY_DELAY, MailSettings, Step, outcome_of
from shared.services.store import LedgerStore
from shared.tenants import Tenant


@dataclass(frozen=True, kw_only=True)
class Outgoing:
    """A message to send: ``occasion`` makes its key unique per member (a year, a month, a boost's end)."""

    topic: str  # birthday | tier_downgrade | boost_ending
    occasion: str
    channel: str  # email | sms
    about: str  # the date the message is about (YYYY-MM-DD), kept as the record's expiry_date
    points: int = 0
    days_before: int = 0
    template: str = ""  # SES template kind (e-mail)
    data: dict[str, str] | None = None  # SES template data (e-mail)
    text: str = ""  # SMS text

    @property
    def key(self) -> str:
        return program_message_key(self.topic, self.occasion, self.channel)


class Messenger:
    def __init__(self, store: LedgerStore, notifier: Notifier, mail: MailSettings) -> None:
        self.store = store
        self.notifier = notifier
        self.mail = mail

    def records(self, tenant: Tenant, member_id: str, topic: str, occasion: str) -> dict[str, NotificationRecord]:
        """The member's records of this occasion (one Query), to pass back to ``send``."""
        return self.store.notifications(tenant.tenant_id, member_id, program_message_key(topic, occasion))

    def send(
        self, tenant: Tenant, member: Member, msg: Outgoing, record: NotificationRecord | None, now: datetime
    ) -> Step:
        program = tenant.current.settings
        address = _address(member, msg.channel)
        if address is None:
            return _log(member, msg, Step("skipped"), "no consent or no address")
        if record is not None and record.status in FINAL:
            return Step("duplicate")
        if record is not None and record.status == "sending":
            if now - record.updated_at < CLAIM_LEASE:
                return Step("deferred", record.updated_at + CLAIM_LEASE)  # another run is sending it right now
            self._finish(tenant, record, Delivery("unknown", error="the sending run stopped before its outcome"), now)
            return _log(member, msg, Step("unknown"), "claim expired")
        if record is not None and record.attempts >= self.mail.max_attempts:
            claim = replace(record, status="sending", updated_at=now)
            if self.store.claim_notification(tenant.tenant_id, claim, record):
                self._finish(tenant, claim, Delivery("gave_up", error=record.error), now)
            return _log(member, msg, Step("gave_up"), "too many attempts")
        zone = ZoneInfo(program.timezone)
        if msg.channel == "sms" and not sms_window_open(now, zone):
            return Step("deferred", next_sms_window(now, zone))
        claim = _claim(member, msg, record, now)
        if not self.store.claim_notification(tenant.tenant_id, claim, record):
            return Step("deferred", now + RETRY_DELAY)  # an overlapping run claimed it first
        delivery = self._deliver(tenant, msg, address)
        self._finish(tenant, claim, delivery, now)
        retry = now + RETRY_DELAY if delivery.status == "failed" else None
        return _log(member, msg, Step(delivery.status, retry, delivery.cost_usd_micros, delivery.message_id))

    def _deliver(self, tenant: Tenant, msg: Outgoing, address: str) -> Delivery:
        """E-mail from the sender the operator bound to the tenant (else the platform's), never a program value."""
        program = tenant.current.settings
        if msg.channel == "email":
            template = f"{self.mail.template_namespace}-{msg.template}-{program.language}"
            return self.notifier.email(address, tenant.email_from or self.mail.email_from, template, msg.data or {})
        return self.notifier.sms(address, msg.text, program.sms_sender_id)

    def _finish(self, tenant: Tenant, claim: NotificationRecord, delivery: Delivery, now: datetime) -> None:
        self.store.finish_notification(tenant.tenant_id, outcome_of(claim, delivery, now))


def reachable(member: Member, channel: str) -> bool:
    """The member has an address on ``channel`` and consents to it (no need to look at records otherwise)."""
    return _address(member, channel) is not None


def _address(member: Member, channel: str) -> str | None:
    profile = member.profile
    if profile is None or not profile.consent.get(channel, True):
        return None
    return profile.email if channel == "email" else profile.phone


def _claim(member: Member, msg: Outgoing, record: NotificationRecord | None, now: datetime) -> NotificationRecord:
    if record is not None:
        return replace(record, status="sending", attempts=record.attempts + 1, updated_at=now)
    account = member.account
    return NotificationRecord(
        member_id=account.member_id,
        key=msg.key,
        expiry_date=msg.about,
        days_before=msg.days_before,
        channel=msg.channel,
        points=msg.points,
        status="sending",
        attempts=1,
        seq=account.ledger.seq,
        created_at=now,
        updated_at=now,
        topic=msg.topic,
    )


def _log(member: Member, msg: Outgoing, step: Step, error: str | None = None) -> Step:
    """One line per message: member, topic, channel, outcome, cost, error (never the address)."""
    logger.info(
        "program message",
        extra={
            "member_id": member.account.member_id,
            "topic": msg.topic,
            "occasion": msg.occasion,
            "channel": msg.channel,
            "outcome": step.outcome,
            "cost_usd_micros": step.cost,
            "message_id": step.message_id,
            "error": redact(error),
        },
    )
    metrics.add_metric(name=f"ProgramMessages_{step.outcome}", unit="Count", value=1)
    return step


def counted(outcome: MemberOutcome, steps: list[Step]) -> MemberOutcome:
    """``outcome`` with the message counters of ``steps``."""
    return replace(
        outcome,
        messages=outcome.messages + sum(s.outcome == "sent" for s in steps),
        failed=outcome.failed + sum(s.outcome in ("failed", "invalid", "gave_up") for s in steps),
        skipped=outcome.skipped + sum(s.outcome in ("skipped", "duplicate") for s in steps),
        cost_usd_micros=outcome.cost_usd_micros + sum(s.cost for s in steps),
    )
