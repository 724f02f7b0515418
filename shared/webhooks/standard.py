"""Standard Webhooks signatures (https://www.standardwebhooks.com), docs/spec.md §5.

``webhook-signature`` holds space-separated ``v1,<base64 HMAC-SHA256>`` values over
``{id}.{timestamp}.{raw body}``, keyed with the base64-decoded ``whsec_`` secret. Any match
against any of the tenant's secrets (rotation) is accepted. Computed with the standard
library's ``hmac`` (no third-party dependency needed) and compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import datetime

from shared.webhooks.signatures import SignatureRefused


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The header value a sender would produce (used by tests, the demo and the README)."""
    digest = hmac.new(_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(
    headers: Mapping[str, str], body: bytes, secrets: Iterable[str], now: datetime, tolerance_seconds: int
) -> str:
    """Return the message id of an authentic, fresh delivery, or raise ``SignatureRefused`` (one answer for every
    failure; its ``reason`` is for the log)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id, stamp, header = (lowered.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not msg_id or not stamp or not header:
        raise SignatureRefused("missing_signature")
    try:
        timestamp = int(stamp)
    except ValueError as exc:
        raise SignatureRefused("invalid_timestamp") from exc
    if abs(now.timestamp() - timestamp) > tolerance_seconds:
        raise SignatureRefused("timestamp_out_of_tolerance")
    offered = []
    for part in header.split():
        version, _, value = part.partition(",")
        if version == "v1":
            try:
                offered.append(base64.b64decode(value, validate=True))
            except (binascii.Error, ValueError):
                continue
    signed = f"{msg_id}.{stamp}.".encode() + body  # the header text as sent, not re-formatted
    matched = False
    for secret in secrets:
        expected = hmac.new(_key(secret), signed, hashlib.sha256).digest()
        for candidate in offered:
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise SignatureRefused("invalid_signature")
    return msg_id
