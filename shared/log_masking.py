"""Defense in depth for the logs: every record is masked before it is written (docs/spec.md §9, issue 6 item 3).

The code never passes a secret or a contact to the logger on purpose; this formatter makes sure that a careless
``logger.info(..., extra={"payload": body, "headers": headers})`` still leaks nothing. It walks the whole record
(message, appended keys, extra keys, nested dicts and lists, exception text) and:

- replaces the value of a secret-named key (authorization, signature, secret, token, api key, HMAC headers) with
  ``***``, of an e-mail-named key with ``<email>``, of a phone-named key with ``<phone ..NN>`` (last 2 digits),
  and of a personal-data key (name, addresses, birthday) with ``***``;
- in any other text, masks e-mail addresses, phone numbers (7 to 15 digits; dates are left alone), Bearer tokens,
  ``whsec_`` secrets, ``lk_`` API keys, ``LC-`` card tokens, Standard Webhooks / Stripe signatures and long hex or
  base64 strings (HMACs, secrets).

Ids needed for debugging (tenant, order, member, webhook, correlation ids: keys ending in ``id``) are not searched
for phone numbers inside their text, since a platform's order or customer id may be a long number. An id whose whole
value is phone-shaped is masked as a phone: written with ``+`` or with a phone's separators (``+7 (999) 123-45-67``),
or bare digits that are a valid number when read as international (``79991234567``; a merchant may identify members
by phone). Bare numbers that are not (``1073339475``), uuids, request and trace ids are kept. E-mail addresses and
secrets are masked there too (a member id that is an e-mail address is personal data). Powertools' own keys (timestamp,
location, X-Ray id, ...) are written as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

MASK = "***"
# Powertools' own keys: never personal data, and a timestamp must not look like a phone number.
POWERTOOLS_KEYS = frozenset(
    {
        "level",
        "location",
        "timestamp",
        "service",
        "sampling_rate",
        "cold_start",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "xray_trace_id",
    }
)
_SECRET_KEY = re.compile(r"authorization|signature|secret|token|password|api_?key|hmac|cookie|credential", re.I)
_EMAIL_KEY = re.compile(r"e_?mail", re.I)
_PHONE_KEY = re.compile(r"phone|mobile|msisdn", re.I)
_PERSONAL_KEY = re.compile(r"^(name|first_?name|last_?name|full_?name|birthday|.*address(es)?|address[12])$", re.I)
_ID_KEY = re.compile(r"(^|_)id$", re.I)

_EMAIL = re.compile(r"[^\s@:;,=<>\"'()\[\]{}]+@[^\s@:;,<>\"'()\[\]{}]+\.[^\s@:;,<>\"'()\[\]{}]+")
_BEARER = re.compile(r"\b(Bearer|Basic)\s+[^\s\"',;]+", re.I)
_WHSEC = re.compile(r"\bwhsec_[A-Za-z0-9+/=_-]+")
_API_KEY = re.compile(r"\blk_[A-Za-z0-9_-]{16,}")
_CARD = re.compile(r"\bLC-[A-Z2-7]{32}\b", re.I)  # a digital card's token (shared.card): it identifies a customer
_SIGNATURE = re.compile(r"\b(v1[,=])[A-Za-z0-9+/=]{16,}")  # Standard Webhooks "v1,<b64>", Stripe "v1=<hex>"
_HEX = re.compile(r"\b[0-9a-fA-F]{40,}\b")  # SHA-1/SHA-256 HMACs in hex, hex secrets
# base64 of 30+ bytes with at least one digit (a path or a word does not qualify): HMACs, secrets, tokens
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/])(?=[A-Za-z+/]*[0-9])[A-Za-z0-9+/]{40,}={0,2}")
# 7 to 15 digits with single separators, not an ISO date (2026-01-31), not inside a longer word or number
_PHONE = re.compile(r"(?<![\w.+/-])(?!\d{4}-\d{2}-\d{2})\+?\d(?:[ ()-]{0,2}\d){6,14}(?![\w/])")
# a whole id value in a phone's shape: optional "+", 7 to 15 digits with single separators, not an ISO date
_PHONE_ID = re.compile(r"^(?!\d{4}-\d{2}-\d{2}$)\+?\(?\d(?:[ ()-]{0,2}\d){6,14}$")


def mask_phone(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    return f"<phone ..{digits[-2:]}>" if len(digits) >= 4 else "<phone>"


@lru_cache(maxsize=4096)
def phone_shaped_id(value: str) -> bool:
    """An id that is a phone number (see the module's docstring): masked even though ids keep long numbers."""
    text = value.strip()
    if not _PHONE_ID.match(text):
        return False
    if not text.isdigit():
        return True  # written as a phone: a "+" or a phone's separators
    import phonenumbers  # lazy, as in shared.contacts: only bare-number ids pay its import

    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse("+" + text, None)))
    except phonenumbers.NumberParseException:
        return False


def mask_text(text: str, phones: bool = True) -> str:
    """Secrets first (their base64 may hold '@' or digits), then e-mail addresses, then phone numbers."""
    text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
    text = _WHSEC.sub(f"whsec_{MASK}", text)
    text = _API_KEY.sub(f"lk_{MASK}", text)
    text = _CARD.sub(f"LC-{MASK}", text)
    text = _SIGNATURE.sub(lambda m: f"{m.group(1)}{MASK}", text)
    text = _HEX.sub(MASK, text)
    text = _BASE64.sub(MASK, text)
    text = _EMAIL.sub("<email>", text)
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), text) if phones else text


def mask_value(value: Any, key: str = "") -> Any:
    """A masked copy of ``value`` found under ``key`` (the caller's objects are never changed)."""
    if key:
        if _SECRET_KEY.search(key):
            return MASK if value not in (None, "", [], {}) else value
        if _EMAIL_KEY.search(key) and isinstance(value, str):
            return "<email>" if value else value
        if _PHONE_KEY.search(key) and isinstance(value, str | int):
            return mask_phone(str(value)) if value else value
        if _PERSONAL_KEY.match(key) and value not in (None, "", [], {}):
            return MASK
    if isinstance(value, Mapping):
        return {str(k): mask_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [mask_value(v, key) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = str(value)
    if _ID_KEY.search(key):
        return mask_phone(text) if phone_shaped_id(text) else mask_text(text, phones=False)
    return mask_text(text)


def mask_record(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v if k in POWERTOOLS_KEYS else mask_value(v, k) for k, v in record.items()}


class MaskingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter with every record masked just before it is serialized."""

    def serialize(self, log: Any) -> str:
        return super().serialize(log=mask_record(log))
