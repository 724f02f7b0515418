"""The customer cabinet (issue 16): passwordless login by a code sent to the customer's e-mail or phone, the session
it opens, and what the customer sees of their own account.

Every login request is answered the same way whether or not the contact belongs to a member (no enumeration): the
limits count unknown contacts too, and an unknown contact gets a code record that can never be verified (no member
behind it), only no message. A login code is a transactional message the customer asked for: it is sent at any hour
and whatever the marketing consent, and never written to a log (``shared.log_masking``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.cabinet_login import (
    CODE_TTL,
    IP_SENDS_PER_HOUR,
    MAX_ATTEMPTS,
    SENDS_PER_HOUR,
    LoginCode,
    Session,
    channel_of,
    code_matches,
    contact_digest,
    hour_of,
    issued,
    new_code,
    new_session_token,
    opened,
    resend_at,
    sms_allowed,
    source_of,
    token_digest,
)
from shared.errors import TooManyRequests, Unauthorized, Unprocessable
from shared.keys import login_ip_scope, login_scope
from shared.notify.cabinet_messages import LOGIN_CODE, login_code_data, login_code_sms
from shared.observability import MetricUnit, logger, metrics
from shared.ports import CabinetStore, Notifier
from shared.services.reminders import MailSettings
from shared.services.store import LedgerStore
from shared.tenants import Tenant


@dataclass(frozen=True, kw_only=True)
class Opened:
    """A session just opened: the token goes to the customer (once), the session is stored by its digest."""

    token: str
    session: Session


class CabinetService:
    def __init__(self, store: CabinetStore, ledger: LedgerStore, notifier: Notifier, mail: MailSettings) -> None:
        self.store = store
        self.ledger = ledger
        self.notifier = notifier
        self.mail = mail

    # -- login ------------------------------------------------------------------------------------------------------

    def request_code(self, tenant: Tenant, contact: str, source: str, now: datetime) -> None:
        """Send a code to ``contact`` (normalized) if it is a member's; the same outcome to the caller either way."""
        tid, program = tenant.tenant_id, tenant.current.settings
        if channel_of(contact) == "sms" and not sms_allowed(contact, tuple(program.cabinet.sms_calling_codes)):
            raise Unprocessable("login codes are not sent by SMS to this country; use e-mail", code="sms_not_available")
        window = hour_of(now)
        if not self.store.count(tid, login_ip_scope(contact_digest(tid, source_of(source))), window, IP_SENDS_PER_HOUR,
                                now):  # fmt: skip
            raise TooManyRequests("too many login requests from here; try later", retry_after_seconds=3600)
        previous = self.store.code(tid, contact)
        wait = resend_at(previous)
        if wait is not None and wait > now:
            raise TooManyRequests(
                "a code was just sent", code="resend_too_soon", retry_after_seconds=_seconds(wait, now)
            )
        if not self.store.count(tid, login_scope(contact_digest(tid, contact)), window, SENDS_PER_HOUR, now):
            raise TooManyRequests("too many codes for this contact; try later", code="too_many_codes",
                                  retry_after_seconds=3600)  # fmt: skip
        code = new_code()
        record = issued(tid, contact, self._member_of(tid, contact) or "", code, now)
        if not self.store.replace_code(tid, record, previous):  # a concurrent request sent one first
            raise TooManyRequests("a code was just sent", code="resend_too_soon", retry_after_seconds=60)
        if record.member_id:
            self._send(tenant, contact, code)

    def verify(self, tenant: Tenant, contact: str, code: str, now: datetime) -> Opened:
        """Open a session with the code sent to ``contact``; every failure changes nothing but the tries left."""
        tid = tenant.tenant_id
        stored = self.store.code(tid, contact)
        if stored is None or stored.expires_at <= now:
            raise Unauthorized("no valid code for this contact; ask for a new one", code="code_expired")
        if stored.attempts >= MAX_ATTEMPTS:
            raise TooManyRequests("too many wrong codes; ask for a new one", code="too_many_attempts",
                                  retry_after_seconds=_seconds(resend_at(stored) or now, now))  # fmt: skip
        if not stored.member_id or not code_matches(stored, tid, code):
            self.store.add_attempt(tid, stored)
            raise Unauthorized("the code does not match", code="invalid_code")
        token = new_session_token()
        session = opened(token, stored.member_id, now)
        if not self.store.consume(tid, stored, session):
            raise Unauthorized("the code was used already; ask for a new one", code="code_expired")
        return Opened(token=token, session=session)

    def session(self, tenant: Tenant, token: str | None, now: datetime) -> Session:
        """The live session of this tenant that ``token`` opens (a token of another tenant opens none here)."""
        found = self.store.session(tenant.tenant_id, token_digest(token)) if token else None
        if found is None or not found.live(now):
            raise Unauthorized("log in to the cabinet", code="not_logged_in")
        return found

    def log_out(self, tenant: Tenant, token: str | None) -> None:
        if token:
            self.store.end_session(tenant.tenant_id, token_digest(token))

    # -- helpers ----------------------------------------------------------------------------------------------------

    def _member_of(self, tenant_id: str, contact: str) -> str | None:
        """The member whose contact this is; none when no member or (rarely) several share it."""
        email, phone = (None, contact) if channel_of(contact) == "sms" else (contact, None)
        found = self.ledger.find_members(tenant_id, email=email, phone=phone)
        return found[0] if len(found) == 1 else None

    def _send(self, tenant: Tenant, contact: str, code: str) -> None:
        program = tenant.current.settings
        minutes = int(CODE_TTL.total_seconds() // 60)
        if channel_of(contact) == "sms":
            delivery = self.notifier.sms(
                contact, login_code_sms(tenant.tenant_id, code, minutes, program.language), program.sms_sender_id
            )
        else:
            template = f"{self.mail.template_namespace}-{LOGIN_CODE}-{program.language}"
            data = login_code_data(tenant.tenant_id, code, minutes, program.language)
            delivery = self.notifier.email(contact, tenant.email_from or self.mail.email_from, template, data)
        if delivery.status != "sent":  # answered as any other request (no member shows): the customer asks again
            logger.warning("login code not sent", extra={"status": delivery.status, "channel": channel_of(contact)})
            metrics.add_metric(name="CabinetCodeNotSent", unit=MetricUnit.Count, value=1)


def _seconds(until: datetime, now: datetime) -> int:
    return max(1, int((until - now).total_seconds()) + 1)


__all__ = ["CabinetService", "LoginCode", "Opened"]
