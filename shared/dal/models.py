"""PynamoDB models of the two tables. Schemas must match ``infra/resources.json`` (a test checks).

Every item carries a readable ``type`` (the discriminator) and plain attribute names so an
operator can filter items in the console (docs/spec.md §9). Key layout: docs in ``infra/ACCESS_PATTERNS.md``.
"""

from __future__ import annotations

import types
from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.constants import STRING
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from shared.clock import iso, parse_ts
from shared.settings import Settings


class IsoTime(Attribute[datetime]):
    """UTC timestamp stored as ``2026-11-25T10:00:00Z``: sortable and readable in the console."""

    attr_type = STRING

    def serialize(self, value: datetime) -> str:
        return iso(value)

    def deserialize(self, value: str) -> datetime:
        return parse_ts(value)


# --- tenants table ------------------------------------------------------------------------------


class TenantsTable(Model):
    class Meta:
        table_name = "loyalty-tenants"
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    type = DiscriminatorAttribute()


class TenantItem(TenantsTable, discriminator="tenant"):
    tenant_id = UnicodeAttribute()
    status = UnicodeAttribute(default="active")  # active | suspended (scripts/ops.py suspend-tenant)
    status_reason = UnicodeAttribute(null=True)  # the operator's note on the last suspension
    status_changed_at = IsoTime(null=True)
    api_key_hashes = ListAttribute(of=UnicodeAttribute)  # sha256 hex of each valid key
    retiring_api_keys = MapAttribute[str, Any](null=True)  # sha256 hex -> end of its grace period (ops rotate-key)
    webhook_secrets = MapAttribute[str, Any]()  # platform -> [secret, ...] (newest first)
    email_from = UnicodeAttribute(null=True)  # the SES sender bound by the operator (ops set-sender)
    staff_topic_arn = UnicodeAttribute(null=True)  # the managers' topic bound by the operator (ops set-staff-topic)
    created_at = IsoTime()


class SenderClaimItem(TenantsTable, discriminator="sender_claim"):
    """A sender domain (or an address in the platform's domain) bound to one tenant (pk ``SENDER#<claim>``, sk
    ``SENDER``), written in the same transaction as the tenant's ``email_from``."""

    tenant_id = UnicodeAttribute()
    claimed_at = IsoTime()


class ProgramItem(TenantsTable, discriminator="program"):
    version = NumberAttribute()
    effective_at = IsoTime()
    settings = MapAttribute[str, Any]()
    created_at = IsoTime()


class VipTenantItem(TenantsTable, discriminator="vip_tenant"):
    """Registry of the tenants the VIP classification runs for (pk ``REGISTRY#vip``, sk ``T#<tenant>``), written
    with each program version that has ``vip`` or had it before: ``active`` false means "clear the VIPs once"."""

    tenant_id = UnicodeAttribute()
    active = BooleanAttribute()
    updated_at = IsoTime()


class CampaignItem(TenantsTable, discriminator="campaign"):
    """A campaign's current version (pk ``T#<tenant>#CAMPAIGNS``, sk ``CAMPAIGN#<id>``; shared/dal/campaign_store.py),
    replaced only over the version it was read at; ``body`` is the campaign as its API's JSON."""

    campaign_id = UnicodeAttribute()
    version = NumberAttribute()
    effective_at = IsoTime()
    activated_at = IsoTime(null=True)
    body = UnicodeAttribute()


class CampaignVersionItem(TenantsTable, discriminator="campaign_version"):
    """Every version of a campaign, kept (sk ``VERSION#<id>#<version:06d>``), written with the current one."""

    campaign_id = UnicodeAttribute()
    version = NumberAttribute()
    effective_at = IsoTime()
    activated_at = IsoTime(null=True)
    body = UnicodeAttribute()


class CampaignSlotItem(TenantsTable, discriminator="campaign_slot"):
    """One of a tenant's ``MAX_CAMPAIGNS`` places (sk ``SLOT#<nnn>``), taken with the campaign's creation, so that
    concurrent creations cannot pass the limit."""

    campaign_id = UnicodeAttribute()
    created_at = IsoTime()


# --- ledger table -------------------------------------------------------------------------------


class HistoryIndex(GlobalSecondaryIndex["LedgerTable"]):
    """A member's history, newest first: ledger entries and notifications (both carry ``hist_pk``)."""

    class Meta:
        index_name = "history"
        projection = AllProjection()

    hist_pk = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)


# The ABC analysis (VIP) reads a tenant's paid orders of a period from this sparse index: PAID entries and refund
# records carry ``abc_pk`` = ``T#<tenant>#<order shard>`` and ``abc_at`` = the order's paid time, nothing else does.
# Sharded by order id over shared.keys.ABC_SHARDS index partitions (docs/decisions.md).


class AbcPaidIndex(GlobalSecondaryIndex["LedgerTable"]):
    class Meta:
        index_name = "abc_paid"
        projection = IncludeProjection(["type", "member_id", "cash_minor", "refund_id", "refunded_minor"])

    abc_pk = UnicodeAttribute(hash_key=True)
    abc_at = IsoTime(range_key=True)


class ReferralIndex(GlobalSecondaryIndex["LedgerTable"]):
    """A referral code to its member (ACCOUNT and PROFILE items carry ``referral_key``, see shared/referral.py)."""

    class Meta:
        index_name = "by_referral"
        projection = IncludeProjection(["member_id", "type"])

    referral_key = UnicodeAttribute(hash_key=True)


class LedgerTable(Model):
    class Meta:
        table_name = "loyalty-ledger"
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    type = DiscriminatorAttribute()
    history = HistoryIndex()
    abc_paid = AbcPaidIndex()
    by_referral = ReferralIndex()


# An open lot in the ACCOUNT item, positional to keep the item small (every balance change
# rewrites it; 2 WCU per started KB): [lot_id, points, remaining, source, earned_at,
# available_at, expires_at] with times in Unix seconds, ~41 bytes a lot instead of ~140 as a map.
# The readable form of each lot is in its entry and in the member API.
LOT_FIELDS = ("lot_id", "points", "remaining", "source", "earned_at", "available_at", "expires_at")


class HoldMap(MapAttribute[str, Any]):
    hold_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    points = NumberAttribute()
    expires_at = IsoTime()


class LotChangeMap(MapAttribute[str, Any]):
    lot_id = UnicodeAttribute()
    change = NumberAttribute()
    expires_at = IsoTime()


# The due indexes of the scheduled work (docs/spec.md §7). Hash key: the member's shard (a fixed key space, so the
# fan-out knows every value and no index partition gets hot); range key: when the job is next due for that
# member. Sparse: an account without anything due lacks the range attribute and is not in the index.


def _due_index(index_name: str, range_attribute: str) -> GlobalSecondaryIndex[Any]:
    """A due index: hash ``shard``, range the job's time attribute of the account (keys and ``type`` projected,
    because PynamoDB filters every query on the discriminator)."""
    meta = type("Meta", (), {"index_name": index_name, "projection": IncludeProjection(["type"])})
    body = {"Meta": meta, "shard": UnicodeAttribute(hash_key=True), range_attribute: IsoTime(range_key=True)}
    index_class = types.new_class(f"{index_name}_index", (GlobalSecondaryIndex,), exec_body=lambda ns: ns.update(body))
    return index_class()  # type: ignore[no-any-return]


class AbcMembersIndex(GlobalSecondaryIndex["AccountItem"]):
    """The tenant's current VIP (class A) members: accounts with ``abc_key`` = ``T#<tenant>#A`` (sparse)."""

    class Meta:
        index_name = "abc_members"
        projection = IncludeProjection(["type"])

    abc_key = UnicodeAttribute(hash_key=True)


class TenantMembersIndex(GlobalSecondaryIndex["AccountItem"]):
    """Every member of one tenant, in 64 shards (bulk grants, docs/spec.md §8): hash ``T#<tenant>#<shard>``, range the
    member id. ``tier`` is projected so a tier segment is filtered without reading the accounts; it is the only
    non-key attribute, so an account write touches the index only when the tier changes."""

    class Meta:
        index_name = "by_tenant"
        projection = IncludeProjection(["type", "tier"])

    tenant_shard = UnicodeAttribute(hash_key=True)
    member_id = UnicodeAttribute(range_key=True)


class AccountItem(LedgerTable, discriminator="account"):
    """The member's spendable state; every balance change rewrites it under ``version``."""

    member_id = UnicodeAttribute()
    version = NumberAttribute()
    seq = NumberAttribute(default=0)
    debt = NumberAttribute(default=0)
    lifetime_spend_minor = NumberAttribute(default=0)
    lots: ListAttribute[Any] = ListAttribute(default=list)  # open lots, positional: see LOT_FIELDS
    holds = ListAttribute(of=HoldMap, default=list)
    shard = UnicodeAttribute()  # "00".."63": hash key of the due indexes
    tenant_shard = UnicodeAttribute(null=True)  # T#<tenant>#<shard>: hash key of by_tenant
    next_expiry = IsoTime(null=True)  # the soonest lot expiry (expiry job)
    remind_at = IsoTime(null=True)  # the next reminder stage to look at (reminder job)
    reminded_through = IsoTime(null=True)
    hold_expiry = IsoTime(null=True)  # the soonest open hold's TTL (hold release job)
    next_available = IsoTime(null=True)  # the next pending lot to announce (activation job)
    activated_through = IsoTime(null=True)
    # standing under the program rules; absent while at the default, to keep the item small
    tier = UnicodeAttribute(null=True)
    spend_months = MapAttribute[str, Any](null=True)  # "YYYY-MM" -> cash minus refunds
    paid_orders = NumberAttribute(null=True)
    boost_until = IsoTime(null=True)
    boost_open = BooleanAttribute(null=True)
    abc_class = UnicodeAttribute(null=True)
    abc_key = UnicodeAttribute(null=True)  # T#<tenant>#A while abc_class is "A": the abc_members index
    birthday_year = NumberAttribute(null=True)  # the last year the birthday bonus was granted
    tier_review_at = IsoTime(null=True)  # the next downgrade evaluation (tier review job)
    boost_remind_at = IsoTime(null=True)  # the boost's end reminder (boost reminder job)
    referral_key = UnicodeAttribute(null=True)  # T#<tenant>#<referral code>: the by_referral index
    updated_at = IsoTime()
    expiry_due = _due_index("expiry_due", "next_expiry")
    remind_due = _due_index("remind_due", "remind_at")
    holds_due = _due_index("holds_due", "hold_expiry")
    pending_due = _due_index("pending_due", "next_available")
    abc_members = AbcMembersIndex()
    tier_review_due = _due_index("tier_review_due", "tier_review_at")
    boost_remind_due = _due_index("boost_remind_due", "boost_remind_at")
    by_tenant = TenantMembersIndex()


class EmailIndex(GlobalSecondaryIndex["ProfileItem"]):
    class Meta:
        index_name = "by_email"
        projection = IncludeProjection(["member_id", "type"])

    email_key = UnicodeAttribute(hash_key=True)


class PhoneIndex(GlobalSecondaryIndex["ProfileItem"]):
    class Meta:
        index_name = "by_phone"
        projection = IncludeProjection(["member_id", "type"])

    phone_key = UnicodeAttribute(hash_key=True)


class BirthdayIndex(GlobalSecondaryIndex["ProfileItem"]):
    """Profiles by birthday: ``BDAY#<MM-DD>#<shard>`` (sparse: only profiles with a birthday). The birthday job
    queries the days that are "today" somewhere on Earth at its run's time, shard by shard."""

    class Meta:
        index_name = "birthday_due"
        projection = IncludeProjection(["type"])

    bday_key = UnicodeAttribute(hash_key=True)


class ProfileItem(LedgerTable, discriminator="profile"):
    member_id = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    birthday = UnicodeAttribute(null=True)
    consent_email = BooleanAttribute(default=True)
    consent_sms = BooleanAttribute(default=True)
    consent_call = BooleanAttribute(default=True)
    email_key = UnicodeAttribute(null=True)  # T#<tenant>#<email>: look-up by e-mail
    phone_key = UnicodeAttribute(null=True)
    bday_key = UnicodeAttribute(null=True)  # BDAY#<MM-DD>#<shard>: the birthday index
    referral_key = UnicodeAttribute(null=True)  # as on the account: a member with only a profile can refer
    updated_at = IsoTime()
    by_email = EmailIndex()
    by_phone = PhoneIndex()
    birthday_due = BirthdayIndex()


class EntryItem(LedgerTable, discriminator="entry"):
    """An append-only ledger entry; its key is the business key of its effect."""

    member_id = UnicodeAttribute()
    hist_pk = UnicodeAttribute()  # T#<tenant>#M#<member>: the history index
    seq = NumberAttribute()
    kind = UnicodeAttribute()
    delta = NumberAttribute()
    balance_after = NumberAttribute()
    debt_change = NumberAttribute(default=0)
    reference = UnicodeAttribute()
    lots = ListAttribute(of=LotChangeMap, default=list)
    event_id = UnicodeAttribute(null=True)
    details = MapAttribute[str, Any](null=True)
    created_at = IsoTime()
    # PAID entries only: the abc_paid index (the order's cash paid, in a top-level attribute to be projected)
    abc_pk = UnicodeAttribute(null=True)
    abc_at = IsoTime(null=True)
    cash_minor = NumberAttribute(null=True)


class RefundItem(LedgerTable, discriminator="refund"):
    member_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    refund_id = UnicodeAttribute()
    amount_minor = NumberAttribute(null=True)
    refunded_minor = NumberAttribute()
    reversed_points = NumberAttribute()
    restored_points = NumberAttribute()
    event_id = UnicodeAttribute(null=True)
    created_at = IsoTime()
    abc_pk = UnicodeAttribute(null=True)  # the abc_paid index, at the refunded order's paid time
    abc_at = IsoTime(null=True)
    returned = UnicodeAttribute(null=True)  # JSON [[sku, quantity, amount_minor], ...]: items returned so far


class HoldItem(LedgerTable, discriminator="hold"):
    member_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    points = NumberAttribute()
    discount_minor = NumberAttribute()
    expires_at = IsoTime()
    created_at = IsoTime()
    ttl = NumberAttribute(null=True)  # epoch seconds: DynamoDB removes the record a month after expiry


class NotificationItem(LedgerTable, discriminator="notification"):
    """One reminder message (member, expiry date, stage, channel), written *before* it is sent.

    ``status``: sending (claimed) -> sent | failed (transient, retried) | invalid (bad address, final) |
    unknown (a run died between claim and outcome: never re-sent). In the member's history at ``seq``.
    """

    member_id = UnicodeAttribute()
    hist_pk = UnicodeAttribute()
    seq = NumberAttribute()  # the member's ledger position when it was first claimed
    expiry_date = UnicodeAttribute()
    days_before = NumberAttribute()
    channel = UnicodeAttribute()
    points = NumberAttribute()
    status = UnicodeAttribute()
    attempts = NumberAttribute()
    cost_usd_micros = NumberAttribute(default=0)
    message_id = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    topic = UnicodeAttribute(null=True)  # absent: an expiry reminder; birthday | tier_downgrade | boost_ending
    grant_id = UnicodeAttribute(null=True)  # set on a bulk grant's message (then days_before is 0)
    created_at = IsoTime()
    updated_at = IsoTime()


class CounterItem(LedgerTable, discriminator="counter"):
    """A running total of a member (``TRANSFER#<YYYY-MM>``: points sent in that month of tenant time), replaced
    under the condition that it still holds the total it was computed from."""

    member_id = UnicodeAttribute()
    value = NumberAttribute()
    updated_at = IsoTime()


class OrderVoidItem(LedgerTable, discriminator="order_void"):
    """Cancellation seen before payment: occupies the order's PAID key so it never accrues."""

    order_id = UnicodeAttribute()
    created_at = IsoTime()
    event_id = UnicodeAttribute(null=True)


class OrderHoldItem(LedgerTable, discriminator="order_hold"):
    """ORDER#<id>/HOLD: the order's one open hold (see ``shared.records.OrderHoldClaim``)."""

    hold_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    status = UnicodeAttribute()  # active | captured | released
    expires_epoch = NumberAttribute()  # the hold's TTL as epoch seconds, compared in the next hold's condition
    ttl = NumberAttribute(null=True)  # DynamoDB removes the claim a month after the hold's TTL


class GrantItem(LedgerTable, discriminator="grant"):
    """A bulk grant (pk ``T#<tenant>#GRANT#<id>``, sk ``GRANT``): what to grant and its progress counters.

    The counters only grow, by the parts' results (``GrantPartItem``) in the transaction that records a part."""

    grant_id = UnicodeAttribute()
    fingerprint = UnicodeAttribute()  # sha256 of the request: the same id with another body is a conflict
    segment = UnicodeAttribute()  # all | tier | member_ids
    tier = UnicodeAttribute(null=True)  # the tier of a tier segment
    member_count = NumberAttribute(default=0)  # distinct ids of a member_ids segment
    points = NumberAttribute()
    expires_at = IsoTime()
    reason = UnicodeAttribute()
    notify = ListAttribute(of=UnicodeAttribute, default=list)
    chains = NumberAttribute()  # independent task chains (64 shards, or member id chunks)
    chains_done = NumberAttribute(default=0)
    parts_done = NumberAttribute(default=0)
    targeted = NumberAttribute(default=0)
    granted = NumberAttribute(default=0)
    skipped = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    notified = NumberAttribute(default=0)
    enqueued = BooleanAttribute(default=False)  # every chain's first task was sent
    started_at = IsoTime(null=True)
    created_at = IsoTime()
    updated_at = IsoTime()


class GrantPartItem(LedgerTable, discriminator="grant_part"):
    """One finished part of a grant chain (sk ``PART#<chain>#<part:05d>``), written once with its counts and
    the cursor the next part starts from: a redelivered part finds it and only re-sends its successor."""

    next_cursor = UnicodeAttribute(null=True)  # JSON of the index cursor; absent: the chain is done
    targeted = NumberAttribute()
    granted = NumberAttribute()
    skipped = NumberAttribute()
    failed = NumberAttribute()
    notified = NumberAttribute()
    created_at = IsoTime()


class LoginCodeItem(LedgerTable, discriminator="login_code"):
    """A contact's current cabinet login code (pk ``T#<tenant>#LOGIN#<contact digest>``, sk ``CODE``; sk
    ``CODE#CONTACT``: a code confirming it as a member's new contact, bound to that member): only the
    salted digest of the code, no contact; replaced under the condition of the salt it replaces, spent (its life ended) when it opens a session."""

    member_id = UnicodeAttribute(null=True)  # none: an unknown contact's code, which never opens a session
    salt = UnicodeAttribute()
    digest = UnicodeAttribute()
    sent_at = IsoTime()
    expires_at = IsoTime()
    attempts = NumberAttribute(default=0)
    ttl = NumberAttribute()  # epoch seconds: DynamoDB removes the code a day after it expires


class LoginCounterItem(LedgerTable, discriminator="login_counter"):
    """Login codes sent in one hour (sk ``SENDS#<YYYYMMDDHH>``) to a contact (``LOGIN#``) or from a source address
    (``LOGINIP#``): one UpdateItem ADD under the condition that it is below the limit."""

    value = NumberAttribute()
    ttl = NumberAttribute()  # epoch seconds: DynamoDB removes the counter two hours after its hour


class SessionItem(LedgerTable, discriminator="session"):
    """A cabinet session (pk ``T#<tenant>#SESSION#<token digest>``, sk ``SESSION``): bound to one member."""

    member_id = UnicodeAttribute()
    created_at = IsoTime()
    expires_at = IsoTime()
    ttl = NumberAttribute()  # epoch seconds: DynamoDB removes the session a day after it expires


class MemberCardItem(LedgerTable, discriminator="member_card"):
    """A member's current digital card (pk ``T#<tenant>#M#<member>``, sk ``CARD``): the token itself, which the
    cabinet shows again as a QR code (it identifies, it spends nothing: docs/decisions.md), and its digest, the
    condition a rotation replaces it under."""

    token = UnicodeAttribute()
    digest = UnicodeAttribute()
    issued_at = IsoTime()  # the first issue or the last rotation


class CardItem(LedgerTable, discriminator="card"):
    """A card's look-up (pk ``T#<tenant>#CARD#<token digest>``, sk ``CARD``): no token, only its digest in the key.
    A rotation ends it (``ended_at``; the API's role deletes nothing) and gives it a ``ttl``."""

    member_id = UnicodeAttribute()
    issued_at = IsoTime()
    ended_at = IsoTime(null=True)
    ttl = NumberAttribute(null=True)  # epoch seconds, once ended: DynamoDB removes the look-up later


class FeedbackItem(LedgerTable, discriminator="feedback"):
    """A customer's rating of a paid order (issue 16 item 6): the order's record (pk ``T#<tenant>#ORDER#<order>``, sk
    ``FEEDBACK``, created only if absent) and its copy in the tenant's list of the month (pk
    ``T#<tenant>#FEEDBACK#<yyyy-mm>``, sk ``<created_at>#<order>``), written in one transaction."""

    tenant_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    score = NumberAttribute()
    comment = UnicodeAttribute(null=True)  # none: no comment
    created_at = IsoTime()
    reward_points = NumberAttribute(default=0)


def bind(settings: Settings) -> None:
    """Point the models at the configured tables and endpoint (called once at start-up)."""
    for base, table in ((TenantsTable, settings.tenants_table), (LedgerTable, settings.ledger_table)):
        base.Meta.table_name = table
        base.Meta.region = settings.region
        base.Meta.host = settings.endpoint_url  # type: ignore[union-attr]
        for model in (base, *base.__subclasses__()):
            model._connection = None
