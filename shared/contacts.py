"""Contact normalisation: one form per e-mail (NFKC + casefold) and per phone (E.164), so that one customer is one
member however a shop wrote the contact (issue 13)."""

from __future__ import annotations

import re
import unicodedata

from shared.errors import Unprocessable

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def email_identity(value: str) -> str:
    """The one form of an e-mail, without validating it: compatibility-composed (NFKC: fullwidth letters and signs
    become ASCII, decomposed accents composed) and case-folded. NFKC is applied again after case folding, which can
    decompose (the NFKC_Casefold idea of Unicode)."""
    folded = unicodedata.normalize("NFKC", value).strip().casefold()
    return unicodedata.normalize("NFKC", folded)


def normalize_email(value: str) -> str:
    email = email_identity(value)
    if len(email) > 254 or not _EMAIL.match(email):
        raise Unprocessable("e-mail address is not valid", code="invalid_email")
    return email


def normalize_phone(value: str) -> str:
    """E.164 (``+79991234567``). International form only: a national number is ambiguous
    without the customer's country, and a wrong guess would text a stranger."""
    import phonenumbers  # lazy: ~30 ms of import only paid by requests that carry a phone

    try:
        parsed = phonenumbers.parse(unicodedata.normalize("NFKC", value).strip(), None)
    except phonenumbers.NumberParseException as exc:
        raise Unprocessable("phone must be in international form, e.g. +14155550123", code="invalid_phone") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise Unprocessable("phone number is not possible", code="invalid_phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_identity(value: str) -> str | None:
    """The E.164 form of a phone that names a customer (a platform's guest), or None when it cannot: a national
    number, or no number at all. Written forms (``+7 (999) 123-45-67``, ``+7-999-123-45-67``) are one identity."""
    try:
        return normalize_phone(value) if value else None
    except Unprocessable:
        return None


def masked(contact: str) -> str:
    """A normalized contact as the customer who typed it may see it on screen, hiding what a shoulder or a screenshot
    should not: ``+7 *** *** 70 01`` (the country code and the last four digits), ``a***@example.com``."""
    if "@" in contact:
        local, _, domain = contact.rpartition("@")
        return f"{local[:1]}***@{domain}"
    import phonenumbers

    parsed = phonenumbers.parse(contact, None)
    national = str(parsed.national_number)
    return f"+{parsed.country_code} *** *** {national[-4:-2]} {national[-2:]}"
