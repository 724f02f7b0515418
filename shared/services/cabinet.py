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
    Purpose,
    Session,
    channel_of,
    code_matches,
    contact_fields,
    hour_of,
    issued,
    key_digest,
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
from shared.notify.cabinet_messages import CONTACT_CODE, LOGIN_CODE, contact_code_sms, login_code_data, login_code_sms
from shared.observability import MetricUnit, logger, metrics
from shared.ports import CabinetStore, Notifier
from shared.records import Member
from shared.services.cabinet_enrolment import Enrolment
from shared.services.member_write import MemberWrite
from shared.services.reminders import MailSettings
from shared.services.store import LedgerStore
from shared.tenants import Tenant


@dataclass(frozen=True, kw_only=True)
class Opened:
    """A session just opened: the token goes to the customer (once), the session is stored by its digest."""

    token: str
    session: Session


class CabinetService:
    def __init__(
        self, store: CabinetStore, ledger: LedgerStore, notifier: Notifier, mail: MailSettings, attempts: int = 3
    ) -> None:
        self.store = store
        self.ledger = ledger
        self.notifier = notifier
        self.mail = mail
        self.enrolment = Enrolment(MemberWrite(ledger, attempts))

    # -- login ------------------------------------------------------------------------------------------------------

    def request_code(self, tenant: Tenant, contact: str, source: str, now: datetime) -> None:
        """Send a code to ``contact`` (normalized) if it is a member's, or no member's in a shop that lets customers
        join from the cabinet; the same outcome to the caller either way."""
        found = self._members_of(tenant.tenant_id, contact)
        member_id = found[0] if len(found) == 1 else ""
        code = self.issue(tenant, contact, source, member_id, "login", now)
        if member_id or (not found and tenant.current.settings.cabinet.self_enrolment):
            self.send(tenant, contact, code)

    def issue(self, tenant: Tenant, contact: str, source: str, member_id: str, purpose: Purpose, now: datetime) -> str:
        """Store a new code of ``purpose`` for ``contact`` under every send limit; the code, for the caller to send.

        Both purposes count against the same limits of the contact and of the source address (one phone gets at
        most ``SENDS_PER_HOUR`` codes an hour, whatever they are for)."""
        tid, program = tenant.tenant_id, tenant.current.settings
        if channel_of(contact) == "sms" and not sms_allowed(contact, tuple(program.cabinet.sms_calling_codes)):
            raise Unprocessable("codes are not sent by SMS to this country; use e-mail", code="sms_not_available")
        window = hour_of(now)
        if not self.store.count(tid, login_ip_scope(key_digest(tid, source_of(source))), window, IP_SENDS_PER_HOUR,
                                now):  # fmt: skip
            raise TooManyRequests("too many code requests from here; try later", retry_after_seconds=3600)
        previous = self.store.code(tid, contact, purpose)
        wait = resend_at(previous)
        if wait is not None and wait > now:
            raise TooManyRequests(
                "a code was just sent", code="resend_too_soon", retry_after_seconds=_seconds(wait, now)
            )
        if not self.store.count(tid, login_scope(key_digest(tid, contact)), window, SENDS_PER_HOUR, now):
            raise TooManyRequests("too many codes for this contact; try later", code="too_many_codes",
                                  retry_after_seconds=3600)  # fmt: skip
        code = new_code()
        record = issued(tid, contact, member_id, code, now, purpose)
        if not self.store.replace_code(tid, record, previous):  # a concurrent request sent one first
            raise TooManyRequests("a code was just sent", code="resend_too_soon", retry_after_seconds=60)
        return code

    def verify(self, tenant: Tenant, contact: str, code: str, now: datetime) -> Opened:
        """Open a session with the code sent to ``contact``; every failure changes nothing but the tries left. A code
        of a contact that is no member's opens a new member if the shop lets customers join (``enrolment``)."""
        tid = tenant.tenant_id
        stored = self.usable(tid, contact, "login", now)
        joining = not stored.member_id and tenant.current.settings.cabinet.self_enrolment
        if not (stored.member_id or joining) or not code_matches(stored, tid, code):
            self.store.add_attempt(tid, stored)
            raise Unauthorized("the code does not match", code="invalid_code")
        member_id = stored.member_id or self._enrolled(tenant, stored, now)
        token = new_session_token()
        session = opened(token, member_id, now)
        if not self.store.consume(tid, stored, session):
            raise Unauthorized("the code was used already; ask for a new one", code="code_expired")
        return Opened(token=token, session=session)

    def usable(self, tenant_id: str, contact: str, purpose: Purpose, now: datetime) -> LoginCode:
        """The contact's live code of ``purpose`` with tries left, or the refusal of a verify without one."""
        stored = self.store.code(tenant_id, contact, purpose)
        if stored is None or stored.expires_at <= now:
            raise Unauthorized("no valid code for this contact; ask for a new one", code="code_expired")
        if stored.attempts >= MAX_ATTEMPTS:
            raise TooManyRequests("too many wrong codes; ask for a new one", code="too_many_attempts",
                                  retry_after_seconds=_seconds(resend_at(stored) or now, now))  # fmt: skip
        return stored

    def session(self, tenant: Tenant, token: str | None, now: datetime) -> Session:
        """The live session of this tenant that ``token`` opens (a token of another tenant opens none here)."""
        found = self.store.session(tenant.tenant_id, token_digest(token)) if token else None
        if found is None or not found.live(now):
            raise Unauthorized("log in to the cabinet", code="not_logged_in")
        return found

    def signed_in(self, tenant: Tenant, token: str | None, member_id: str | None, now: datetime) -> Member:
        """The member of the live session ``token`` opens, read with the session in one request when the cookie
        names the member (``member_id``, a hint only: the session must be that member's); else two reads."""
        if not token or not member_id:
            return self.ledger.load_member(tenant.tenant_id, self.session(tenant, token, now).member_id)
        found, member = self.store.session_and_member(tenant.tenant_id, token_digest(token), member_id)
        if found is None or not found.live(now) or found.member_id != member_id:
            raise Unauthorized("log in to the cabinet", code="not_logged_in")
        return member

    def log_out(self, tenant: Tenant, token: str | None) -> None:
        if token:
            self.store.end_session(tenant.tenant_id, token_digest(token))

    # -- helpers ----------------------------------------------------------------------------------------------------

    def _members_of(self, tenant_id: str, contact: str) -> list[str]:
        """The members whose contact this is: normally one or none (a code goes to one member only, never to a
        contact several members share)."""
        email, phone = contact_fields(contact)
        return self.ledger.find_members(tenant_id, email=email, phone=phone)

    def _enrolled(self, tenant: Tenant, stored: LoginCode, now: datetime) -> str:
        """The member a self-enrolment code opens: the one whose contact it became meanwhile (the code proves the
        contact is the customer's), else a new member (``Enrolment``); none when several share it."""
        found = self._members_of(tenant.tenant_id, stored.contact)
        if len(found) > 1:
            raise Unauthorized("the code does not match", code="invalid_code")
        return found[0] if found else self.enrolment.enrol(tenant, stored, now)

    def send(self, tenant: Tenant, contact: str, code: str, purpose: Purpose = "login") -> None:
        """The code by SMS or e-mail, worded for its purpose (a login, or a new contact's confirmation)."""
        program = tenant.current.settings
        minutes = int(CODE_TTL.total_seconds() // 60)
        if channel_of(contact) == "sms":
            text = (login_code_sms if purpose == "login" else contact_code_sms)(
                tenant.tenant_id, code, minutes, program.language
            )
            delivery = self.notifier.sms(contact, text, program.sms_sender_id)
        else:
            kind = LOGIN_CODE if purpose == "login" else CONTACT_CODE
            template = f"{self.mail.template_namespace}-{kind}-{program.language}"
            data = login_code_data(tenant.tenant_id, code, minutes, program.language)
            delivery = self.notifier.email(contact, tenant.email_from or self.mail.email_from, template, data)
        if delivery.status != "sent":  # answered as any other request (no member shows): the customer asks again
            logger.warning("login code not sent", extra={"status": delivery.status, "channel": channel_of(contact)})
            metrics.add_metric(name="CabinetCodeNotSent", unit=MetricUnit.Count, value=1)


def _seconds(until: datetime, now: datetime) -> int:
    return max(1, int((until - now).total_seconds()) + 1)


__all__ = ["CabinetService", "LoginCode", "Opened"]
