"""The ledger table's key schema, built here and nowhere else (issue 15 item 3).

Every item of a tenant lives under a partition key ``T#<tenant>#<scope>``. A scope is a member's partition
(``M#<member>``: ACCOUNT, PROFILE, the member's own entries, messages and counters) or a business record's
(``ORDER#<order>``, ``HOLD#<hold>``, ``GRANT#<grant>``, ``TRANSFER#<transfer>``) or one of the customer cabinet's
(``LOGIN#<contact digest>``: a contact's login code and send counters; ``LOGINIP#<address digest>``: a source
address's send counters; ``SESSION#<token digest>``: a session; ``CARD#<token digest>``: a digital card's look-up; no
contact, address or token in a key). Within it the
sort key names the record; ``<scope>/<key>`` is its business key, unique by construction (a write under a taken key
is a duplicate).
Services name scopes and sort keys with these functions; only the storage (shared/dal) adds the tenant.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class MemberKey:
    tenant: str
    member_id: str


# The due indexes of the scheduled work are sharded by member into this fixed key space (shared/dal/models.py):
# the fan-out of a scheduled run sends one task per shard.
INDEX_SHARDS = 64

# -- scopes --------------------------------------------------------------------------------------------------------


def member_scope(member_id: str) -> str:
    return f"M#{member_id}"


def order_scope(order_id: str) -> str:
    return f"ORDER#{order_id}"


def order_of(scope: str) -> str:
    """``ORDER#<order>`` back to the order id."""
    return scope.removeprefix("ORDER#")


def hold_scope(hold_id: str) -> str:
    return f"HOLD#{hold_id}"


def grant_scope(grant_id: str) -> str:
    return f"GRANT#{grant_id}"


def login_scope(key_digest: str) -> str:
    """A contact's login code and send counters (``shared.cabinet_login.key_digest``: no contact in a key)."""
    return f"LOGIN#{key_digest}"


def login_ip_scope(address_digest: str) -> str:
    """A source address's login send counters."""
    return f"LOGINIP#{address_digest}"


def session_scope(token_digest: str) -> str:
    """A cabinet session, by the digest of its token."""
    return f"SESSION#{token_digest}"


def card_scope(card_digest: str) -> str:
    """A digital card's look-up, by the SHA-256 digest of its token (``shared.card.card_digest``)."""
    return f"CARD#{card_digest}"


def transfer_scope(transfer_id: str) -> str:
    return f"TRANSFER#{transfer_id}"


def cabinet_transfer_scope(member_digest: str) -> str:
    """A cabinet member's counters of transfer attempts (``CABXFER#<digest of tenant and member>``): guessing a
    friend's contact is limited per hour."""
    return f"CABXFER#{member_digest}"


def feedback_month_scope(month: str) -> str:
    """A tenant's feedback of one UTC month (``yyyy-mm``), in time order (``shared.feedback``): the merchant's list."""
    return f"FEEDBACK#{month}"


# -- sort keys -----------------------------------------------------------------------------------------------------

ACCOUNT, PROFILE = "ACCOUNT", "PROFILE"  # a member's two items
PAID, REDEEM, HOLD = "PAID", "REDEEM", "HOLD"  # an order's accrual (or its void), its redemption, its hold claim
REFEREE, REFERRER = "REFERRAL#REFEREE", "REFERRAL#REFERRER"  # an order's referral bonuses
REFERRAL_PREFIX, REFUND_PREFIX = "REFERRAL#", "REFUND#"
CANCEL_RESTORE = "REFUND#CANCEL#RESTORE"  # points captured for an order cancelled before payment, given back
EXPIRE_PREFIX, NOTIFY_PREFIX = "EXPIRE#", "NOTIFY#"
ACTIVATE_PREFIX, BIRTHDAY_PREFIX, GRANT_PREFIX = "ACTIVATE#", "BIRTHDAY#", "GRANT#"  # a member's own entries
TRANSFER_OUT, TRANSFER_IN = "OUT", "IN"  # the two sides of a transfer, under its scope
FEEDBACK, FEEDBACK_REWARD = "FEEDBACK", "FEEDBACK#REWARD"  # an order's rating and the points it earned, under ORDER#
LOGIN_CODE, SESSION, SENDS_PREFIX = "CODE", "SESSION", "SENDS#"  # a cabinet login code, a session, a send counter
CONTACT_CODE = "CODE#CONTACT"  # a code confirming a new contact, under the contact's LOGIN# scope (not a login code)
WELCOME = "WELCOME"  # a member's welcome bonus on joining from the cabinet (once: its business key M#<member>/WELCOME)
CARD = "CARD"  # a member's current card (member partition) and a card's look-up (its ``CARD#`` scope)
LAST = "~"  # sorts after every key of a prefix: the upper bound of a range query


def refund_key(refund_id: str) -> str:
    return f"{REFUND_PREFIX}{refund_id}"


def expire_key(seq: int) -> str:
    return f"{EXPIRE_PREFIX}{seq:010d}"


def activate_key(seq: int) -> str:
    return f"{ACTIVATE_PREFIX}{seq:010d}"


def birthday_entry_key(year: int) -> str:
    return f"{BIRTHDAY_PREFIX}{year}"


def grant_entry_key(grant_id: str) -> str:
    return f"{GRANT_PREFIX}{grant_id}"


def grant_message_key(grant_id: str, channel: str) -> str:
    return f"MSG#GRANT#{grant_id}#{channel}"


def sends_key(window: str) -> str:
    """A login send counter of one hour (``shared.cabinet_login.hour_of``)."""
    return f"{SENDS_PREFIX}{window}"


def transfer_month_key(month: str) -> str:
    """A member's counter of points sent in a month of tenant time (``YYYY-MM``)."""
    return f"TRANSFER#{month}"


def referrals_month_key(month: str) -> str:
    """A referrer's counter of paid referrals in a month of tenant time (``YYYY-MM``)."""
    return f"REFERRALS#{month}"


def reminder_key(expiry_date: str, days_before: int, channel: str) -> str:
    return f"{NOTIFY_PREFIX}{expiry_date}#{days_before:03d}#{channel}"


def program_message_key(topic: str, occasion: str, channel: str = "") -> str:
    """A program message's key; without ``channel`` the prefix of the occasion's messages on every channel."""
    return f"{NOTIFY_PREFIX}{topic.upper()}#{occasion}#{channel}"


def business_key(scope: str, key: str) -> str:
    return f"{scope}/{key}"


def hold_claim_key(order_id: str) -> str:
    """The business key of an order's hold claim (decision 58), as a failed condition on it names it."""
    return business_key(order_scope(order_id), HOLD)


# -- partition keys and index keys (the storage's; services never see the tenant prefix) ---------------------------

# The ABC analysis (VIP) reads a tenant's paid orders from a sparse index sharded by order id, so that one big
# tenant's orders spread over ABC_SHARDS index partitions (docs/decisions.md).
ABC_SHARDS = 4


def tenant_pk(tenant: str, scope: str) -> str:
    """The partition of ``scope`` in ``tenant``."""
    return f"T#{tenant}#{scope}"


def member_pk(tenant: str, member_id: str) -> str:
    return tenant_pk(tenant, member_scope(member_id))


def member_key(pk: str) -> MemberKey:
    """``T#<tenant>#M#<member>`` back to its parts (neither id may contain ``#``)."""
    _, tenant, _, member_id = pk.split("#", 3)
    return MemberKey(tenant, member_id)


def _hash(value: str, buckets: int) -> int:
    return int(hashlib.blake2b(value.encode(), digest_size=4).hexdigest(), 16) % buckets


def shard_of(pk: str) -> str:
    """The member's fixed shard in the due indexes: a stable hash, so it never moves."""
    return f"{_hash(pk, INDEX_SHARDS):02d}"


def shard_pk(tenant: str, shard: str) -> str:
    """A tenant's partition of a due index or of a grant's segment (``shard`` as ``shard_of`` writes it)."""
    return tenant_pk(tenant, shard)


def abc_pk(tenant: str, order_id: str) -> str:
    """The order's partition of the tenant's paid orders in the abc_paid index (a stable hash of the order id)."""
    return tenant_pk(tenant, str(_hash(order_id, ABC_SHARDS)))


def abc_key(tenant: str) -> str:
    """The tenant's VIP (class A) members in the abc_members index."""
    return tenant_pk(tenant, "A")


def birthday_key(month_day: str, shard: str) -> str:
    """The birthday index's hash key: ``BDAY#<MM-DD>#<shard>`` (29 February is ``02-29``)."""
    return f"BDAY#{month_day}#{shard}"


def contact_key(tenant: str, value: str) -> str:
    """An e-mail's or phone's look-up key in the by_email and by_phone indexes."""
    return tenant_pk(tenant, value)


def referral_key(tenant: str, code: str) -> str:
    """A referral code's look-up key in the by_referral index."""
    return tenant_pk(tenant, code)
