"""Referral codes (docs/spec.md §8): short, deterministic, resolvable without a Scan.

A member's code is a hash of (tenant, member id), so it needs no write to exist and never changes.
Resolution goes through the ``by_referral`` index: every ACCOUNT and PROFILE item carries
``referral_key = T#<tenant>#<code>``. Ten Crockford base-32 characters are 50 bits: two members of
one tenant share a code with probability ~n²/2⁵¹ (4e-4 at a million members); a shared code is
ambiguous and is ignored, like an unknown one.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime, timedelta

from shared.ledger import Credit, LotSource
from shared.program import ProgramSettings

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
LENGTH = 10
SOURCE: LotSource = "referral"
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0", "-": None, " ": None})


def code_of(tenant: str, member_id: str) -> str:
    digest = int.from_bytes(hashlib.blake2b(f"{tenant}#{member_id}".encode(), digest_size=8).digest(), "big")
    return "".join(ALPHABET[(digest >> (5 * i)) & 31] for i in range(LENGTH))


def normalize(code: str) -> str | None:
    """What a customer typed, as a code: case, dashes and look-alike letters forgiven; None if it cannot be one."""
    value = code.strip().upper().translate(_READ_AS)
    if len(value) != LENGTH or any(ch not in ALPHABET for ch in value):
        return None
    return value


def share_link(template: str, page_url: str, code: str | None) -> str | None:
    """The link a customer shares: the shop's template (``{code}`` where the code goes), else the cabinet page with
    ``?ref=``; None without a code."""
    if not code:
        return None
    return template.replace("{code}", code) if template else f"{page_url}?ref={code}"


def bonus(points: int, paid_at: datetime, program: ProgramSettings) -> list[Credit]:
    """A referral reward as one lot (source "referral"), dated like the order's own lot (no credit for 0 points)."""
    if points <= 0:
        return []
    hold = max(program.pending_days, program.referral.pending_days if program.referral else 0)
    available_at = paid_at + timedelta(days=hold)
    return [Credit(points, SOURCE, available_at, paid_at + timedelta(days=program.lifetime_days))]


def contact_key(email: str | None, phone: str | None) -> set[str]:
    """A person's contacts, compared loosely: e-mail NFKC-casefolded, phone by its digits (self-referral check)."""
    keys = set()
    if email and email.strip():
        keys.add("e:" + unicodedata.normalize("NFKC", email).strip().casefold())
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", phone or ""))
    if digits:
        keys.add("p:" + digits)
    return keys
