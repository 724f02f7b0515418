"""The digital card instead of plastic (issue 16 item 4) as pure functions: the card token, its digest, its QR code.

A card token identifies a customer at the till as a plastic card's number does: the till scans it and asks
``GET members/by-card/{token}`` with the merchant's API key; the token spends nothing by itself (a redemption is the
merchant's call, with the key). It is random and opaque: no phone number or member id is in it or in its QR code.
``LC-`` and 32 base32 characters (160 random bits): the prefix tells a till's scanner a loyalty card from a product's
barcode; base32 is one case, so a cashier may type it and a QR code holds it in its compact alphanumeric mode (a
version 2 symbol, 25 modules a side). The look-up item is keyed by the token's SHA-256 digest; the member's current
card keeps the token itself, so the cabinet shows the same QR code again until the customer rotates it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

TOKEN_PREFIX = "LC-"
TOKEN_BYTES = 20  # 160 random bits
TOKEN = re.compile(r"LC-[A-Z2-7]{32}")  # what new_token makes (base32 of 20 bytes has no padding)
TOKEN_PATTERN = r"^[Ll][Cc]-[A-Za-z2-7]{32}$"  # what the by-card route accepts (case-insensitive), for the API doc

# The QR code's accessible name (the SVG's <title>), in the tenant's language: never the token or who holds it
QR_TITLES = {
    "en": "Your loyalty card: show this code at the till",
    "ru": "Ваша карта лояльности: покажите этот код на кассе",
}


@dataclass(frozen=True, kw_only=True)
class Card:
    """A member's current card: the token the QR code holds, its digest (the look-up key), and when it was issued
    (the card's first issue or its last rotation)."""

    member_id: str
    token: str
    digest: str
    issued_at: datetime


def new_token() -> str:
    return TOKEN_PREFIX + base64.b32encode(secrets.token_bytes(TOKEN_BYTES)).decode()


def normalized(value: str) -> str | None:
    """A token as the till sent it (any case, blanks around it) in its issued form; None when it is not one."""
    token = value.strip().upper()
    return token if TOKEN.fullmatch(token) else None


def card_digest(token: str) -> str:
    """The look-up key of a token: no token in a key (a random 160-bit token needs no salt)."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue(member_id: str, now: datetime) -> Card:
    """A new card for ``member_id``: a first one, or the one that replaces a lost one."""
    token = new_token()
    return Card(member_id=member_id, token=token, digest=card_digest(token), issued_at=now)


def qr_svg(token: str, language: str) -> str:
    """The token's QR code as an SVG element to put inline in a page: no XML declaration, scalable (a ``viewBox``,
    no fixed size), ``role="img"`` with a ``<title>`` as its accessible name. Error correction M (15%) survives a
    scratched or glare-struck phone screen at the size a version 2 symbol needs."""
    import segno  # the card routes' only: the other routes never load it

    title = QR_TITLES.get(language, QR_TITLES["en"])
    svg = segno.make(token, error="m", micro=False, boost_error=False).svg_inline(
        scale=1, border=4, title=title, omitsize=True, dark="#000", light="#fff"
    )
    return svg.replace("<svg ", '<svg role="img" ', 1)
