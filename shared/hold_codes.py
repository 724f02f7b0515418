"""One-time checkout codes of holds (issue 4): the code a shopper's cart carries to a platform's order.

A merchant that shows points at checkout creates a platform discount code equal to the hold's discount and names
it after the hold's ``code``. When the platform's paid order carries that code (Shopify ``discount_codes``,
WooCommerce ``coupon_lines``, Stripe ``metadata.loyalty_hold_code``), the order captures the hold. The code *is*
the hold id without its prefix, so no look-up table is needed; it is case-insensitive (WooCommerce lower-cases
coupon codes) and avoids characters that read alike (0/O, 1/I).
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
PREFIX = "LOY"
CODE = re.compile(rf"^{PREFIX}[{ALPHABET}]{{10}}$")


def new_hold_id() -> str:
    """``h_LOY…``: 50 random bits after the prefix; a collision fails the hold's conditional write, never merges."""
    return "h_" + PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(10))


def code_of(hold_id: str) -> str | None:
    code = hold_id.removeprefix("h_")
    return code if CODE.match(code) else None


def hold_id_for(code: str) -> str | None:
    """The hold a code names, or None when the text is not one of our codes (another discount)."""
    normalized = code.strip().upper()
    return "h_" + normalized if CODE.match(normalized) else None
