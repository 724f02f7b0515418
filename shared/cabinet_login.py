"""Passwordless login to the customer cabinet (issue 16 item 1) as pure functions: codes, sessions, limits.

A customer asks for a code by e-mail or phone; a known member gets a 6-digit code that lives ``CODE_TTL``, allows
``MAX_ATTEMPTS`` tries, can be sent again after ``RESEND_AFTER``; at most ``SENDS_PER_HOUR`` sends per contact and
``IP_SENDS_PER_HOUR`` requests per source address and hour. Only digests are stored: the code's with a random salt
(SHA-256 of salt, tenant, contact and code), the session token's (SHA-256 of a 256-bit random token, like the API
keys). A correct code opens a session bound to one tenant and one member (decision 66).

The same codes serve two more purposes (issue 16 item 3): a ``login`` code of a contact that is no member's opens a
new member when the shop allows self-enrolment (its id derived from the code's random salt, so that a retried verify
of the same code finds the member it made), and a ``contact`` code, kept apart from the login code (its own record),
confirms a new e-mail or phone for the logged-in member it is bound to. The questionnaire's rules are here too.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
RESEND_AFTER = timedelta(seconds=60)
SENDS_PER_HOUR = 5  # per contact
IP_SENDS_PER_HOUR = 30  # per source address: one shop's Wi-Fi serves many customers
SESSION_TTL = timedelta(hours=24)

Channel = Literal["email", "sms"]
Purpose = Literal["login", "contact"]  # a login code (or a self-enrolment's), or a new contact's confirmation
ENROLLED_PREFIX = "cab-"  # the id of a member who joined from the cabinet: cab- and 24 hex digits
OLDEST_BIRTHDAY = date(1900, 1, 1)


@dataclass(frozen=True, kw_only=True)
class LoginCode:
    """A code sent to one contact of one member: its salted digest, when it was sent, until when it holds, and how
    many wrong tries it has had."""

    contact: str  # the normalized e-mail or E.164 phone it was sent to
    member_id: str
    salt: str
    digest: str
    sent_at: datetime
    expires_at: datetime
    attempts: int = 0
    purpose: Purpose = "login"


@dataclass(frozen=True, kw_only=True)
class Session:
    token_digest: str
    member_id: str
    created_at: datetime
    expires_at: datetime

    def live(self, now: datetime) -> bool:
        return now < self.expires_at


def channel_of(contact: str) -> Channel:
    """A normalized contact is an e-mail (it has an ``@``; it may start with ``+``) or an E.164 phone."""
    return "email" if "@" in contact else "sms"


def source_of(address: str) -> str:
    """What the per-address limit counts: an IPv4 address, or an IPv6 address's /64 (one subscriber's prefix: its
    2^64 addresses are one source)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    return str(ipaddress.ip_network(f"{ip}/64", strict=False)) if ip.version == 6 else str(ip)


def sms_allowed(phone: str, calling_codes: tuple[str, ...]) -> bool:
    """Whether the tenant sends login codes by SMS to this number's country: its E.164 number starts with one of the
    calling codes the tenant lists (no list: no SMS; against SMS pumping to premium-rate ranges)."""
    return any(phone.startswith("+" + code) for code in calling_codes)


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def code_digest(salt: str, tenant: str, contact: str, code: str) -> str:
    return hashlib.sha256(f"{salt}\0{tenant}\0{contact}\0{code}".encode()).hexdigest()


def issued(
    tenant: str, contact: str, member_id: str, code: str, now: datetime, purpose: Purpose = "login"
) -> LoginCode:
    """The stored form of a code just generated for ``contact``."""
    salt = secrets.token_hex(16)
    return LoginCode(
        contact=contact,
        member_id=member_id,
        salt=salt,
        digest=code_digest(salt, tenant, contact, code),
        sent_at=now,
        expires_at=now + CODE_TTL,
        purpose=purpose,
    )


def spent(stored: LoginCode, now: datetime) -> LoginCode:
    """A code after it did its work: its life ended now and a new salt, so that no code matches it again and a
    second spend of the code as read fails its condition (the send time stays: the resend wait still counts)."""
    return LoginCode(
        contact=stored.contact,
        member_id=stored.member_id,
        salt=secrets.token_hex(16),
        digest="",
        sent_at=stored.sent_at,
        expires_at=now,
        attempts=MAX_ATTEMPTS,
        purpose=stored.purpose,
    )


def code_matches(stored: LoginCode, tenant: str, code: str) -> bool:
    """Constant-time comparison of the code's digest (a wrong length or non-digit code simply does not match)."""
    return hmac.compare_digest(stored.digest, code_digest(stored.salt, tenant, stored.contact, code))


def resend_at(stored: LoginCode | None) -> datetime | None:
    """When a new code may be sent to the contact (None: now)."""
    return stored.sent_at + RESEND_AFTER if stored is not None else None


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def opened(token: str, member_id: str, now: datetime) -> Session:
    return Session(token_digest=token_digest(token), member_id=member_id, created_at=now, expires_at=now + SESSION_TTL)


def hour_of(now: datetime) -> str:
    """The counting window of the send limits (UTC hour)."""
    return now.strftime("%Y%m%d%H")


def key_digest(tenant: str, value: str) -> str:
    """What names a contact, a source address or a member in the cabinet's keys and ids: a digest, so that no e-mail,
    phone or address (a member id may be an e-mail) is in a key or a log line."""
    return hashlib.sha256(f"{tenant}\0{value}".encode()).hexdigest()[:40]


# -- self-enrolment and the questionnaire (item 3) -----------------------------------------------------------------


def enrolled_member_id(stored: LoginCode) -> str:
    """The member a self-enrolment code opens: derived from the code's random salt, so it is unguessable, and a verify
    retried with the same code (the member made, the session not yet) finds the member made, never a second one."""
    return ENROLLED_PREFIX + hashlib.sha256(f"member\0{stored.salt}".encode()).hexdigest()[:24]


def contact_fields(contact: str) -> tuple[str | None, str | None]:
    """``(email, phone)`` of a normalized contact: the profile field it goes into."""
    return (contact, None) if channel_of(contact) == "email" else (None, contact)


def birthday_problem(day: date, today: date) -> str | None:
    """Why a birthday cannot be a customer's (None: it can): before 1900, or after today in the shop's time zone."""
    if day < OLDEST_BIRTHDAY:
        return "birthday is before 1900"
    if day > today:
        return "birthday is in the future"
    return None


def birthday_change_allowed(stored: str | None, given: str) -> bool:
    """A customer sets their birthday once (the birthday bonus is paid by it: a date moved to today would pay it
    now); the same date again is no change. Once set, only the merchant changes it (``PUT /members/{id}``)."""
    return stored is None or stored == given
