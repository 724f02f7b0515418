"""Signature checks shared by the webhook adapters: HMAC-SHA256 over the raw body bytes, constant-time.

Every signature failure answers the same (issue 13): 401 ``invalid_signature``, "signature does not match",
whatever the tenant (unknown, known, suspended) and whatever went wrong (no header, a stale or unreadable timestamp,
a wrong HMAC). The reason is kept on the exception for the log, never put in the answer: a caller without the secret
must not learn which tenants exist, nor that a known tenant was reached.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

from shared.errors import Unauthorized
from shared.observability import logger

MISMATCH = "signature does not match"


class SignatureRefused(Unauthorized):
    """A delivery that is not authentic. ``reason`` (``missing_signature``, ``invalid_timestamp``,
    ``timestamp_out_of_tolerance``, ``invalid_signature``, ``unknown_tenant``) is for the log only."""

    def __init__(self, reason: str) -> None:
        super().__init__(MISMATCH, code="invalid_signature")
        self.reason = reason


@contextmanager
def refusals_logged(tenant_id: str) -> Iterator[None]:
    """Any ``Unauthorized`` raised inside (a signature check, or the unknown tenant of ``webhook_tenant``) leaves
    as the one uniform ``SignatureRefused``, after a log line naming its reason."""
    try:
        yield
    except Unauthorized as exc:
        reason = exc.reason if isinstance(exc, SignatureRefused) else "unknown_tenant"
        logger.warning("webhook signature refused", extra={"reason": reason, "path_tenant_id": tenant_id})
        raise SignatureRefused(reason) from None


def header(headers: Mapping[str, str], *names: str) -> str | None:
    """The first of ``names`` present (case-insensitive), as sent."""
    lowered = {k.lower(): v for k, v in headers.items()}
    return next((lowered[n.lower()] for n in names if lowered.get(n.lower())), None)


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def base64_body_hmac(offered: str | None, body: bytes, secrets: Iterable[str]) -> None:
    """Shopify and WooCommerce: ``base64(HMAC-SHA256(secret, raw body))``; any of the tenant's secrets (rotation)."""
    if not offered:
        raise SignatureRefused("missing_signature")
    try:
        candidate = base64.b64decode(offered.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureRefused("invalid_signature") from exc
    matched = False
    for secret in secrets:  # every secret is tried: the time taken does not tell which one matched
        matched |= hmac.compare_digest(hmac_sha256(secret.encode(), body), candidate)
    if not matched:
        raise SignatureRefused("invalid_signature")
