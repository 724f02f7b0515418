"""Signature checks shared by the platform adapters: HMAC-SHA256 over the raw body bytes, constant-time."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping

from shared.errors import Unauthorized


def header(headers: Mapping[str, str], *names: str) -> str | None:
    """The first of ``names`` present (case-insensitive), as sent."""
    lowered = {k.lower(): v for k, v in headers.items()}
    return next((lowered[n.lower()] for n in names if lowered.get(n.lower())), None)


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def base64_body_hmac(offered: str | None, body: bytes, secrets: Iterable[str]) -> None:
    """Shopify and WooCommerce: ``base64(HMAC-SHA256(secret, raw body))``; any of the tenant's secrets (rotation)."""
    if not offered:
        raise Unauthorized("the signature header is missing", code="missing_signature")
    try:
        candidate = base64.b64decode(offered.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Unauthorized("signature does not match", code="invalid_signature") from exc
    matched = False
    for secret in secrets:  # every secret is tried: the time taken does not tell which one matched
        matched |= hmac.compare_digest(hmac_sha256(secret.encode(), body), candidate)
    if not matched:
        raise Unauthorized("signature does not match", code="invalid_signature")
