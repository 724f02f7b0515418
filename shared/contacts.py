"""Contact normalisation: e-mail compared case-insensitively, phones stored as E.164."""

from __future__ import annotations

import re

from shared.errors import Unprocessable

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def normalize_email(value: str) -> str:
    email = value.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise Unprocessable("e-mail address is not valid", code="invalid_email")
    return email


def normalize_phone(value: str) -> str:
    """E.164 (``+79991234567``). International form only: a national number is ambiguous
    without the customer's country, and a wrong guess would text a stranger."""
    import phonenumbers  # lazy: ~30 ms of import only paid by requests that carry a phone

    try:
        parsed = phonenumbers.parse(value.strip(), None)
    except phonenumbers.NumberParseException as exc:
        raise Unprocessable("phone must be in international form, e.g. +14155550123", code="invalid_phone") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise Unprocessable("phone number is not possible", code="invalid_phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
