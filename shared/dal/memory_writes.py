"""The in-memory store's transaction: a commit as writes with the conditions of the DynamoDB one.

Each ``Write`` mirrors one item of ``shared.dal.transactions.commit_writes``: the same partition and sort key (from
``shared.keys``), the same condition (``shared.dal.order_claims`` for the hold claim) and the same duplicate key, so
``MemoryLedgerStore.transact`` fails exactly where TransactWriteItems would. Values are kept as the table gives
them back (``stored``), a profile as a patch of the item there (``merged_profile``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from shared.account import Account
from shared.keys import (
    ACCOUNT,
    HOLD,
    PAID,
    PROFILE,
    business_key,
    hold_claim_key,
    hold_scope,
    member_pk,
    order_scope,
    refund_key,
    tenant_pk,
)
from shared.records import Commit, CounterRecord, OrderHoldClaim, Profile

Condition = Callable[[Any], bool]  # of the item there (None: none)

CHANNELS = ("email", "sms", "call")  # the consent channels a profile stores


@dataclass(frozen=True)
class VoidMark:
    """An order cancelled before payment: it occupies the order's PAID key, like ``OrderVoidItem``."""

    order_id: str


@dataclass(frozen=True)
class CounterValue:
    member_id: str
    value: int


@dataclass(frozen=True)
class Write:
    """One item of a commit: where, what (or how to patch what is there), its condition and duplicate key."""

    pk: str
    sk: str
    value: Callable[[Any], Any]  # the stored value from the one there (None: none), so a patch reads the old item
    condition: Condition | None = None
    duplicate_key: str | None = None


def stored(value: Any) -> Any:
    """``value`` as the table would give it back: every time in UTC, whole seconds (``clock.iso``, epochs)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(microsecond=0)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return replace(value, **{f.name: stored(getattr(value, f.name)) for f in dataclasses.fields(value)})
    if isinstance(value, tuple):
        return tuple(stored(v) for v in value)
    if isinstance(value, list):
        return [stored(v) for v in value]
    if isinstance(value, dict):
        return {k: stored(v) for k, v in value.items()}
    return value


def _absent(old: Any) -> bool:
    return old is None


def put(value: Any) -> Callable[[Any], Any]:
    return lambda _old: value


def merged_profile(old: Profile | None, patch: Profile) -> Profile:
    """``profile_patch``: the fields the patch names, its consent channels; a channel never stored starts on."""
    base = old or Profile(member_id=patch.member_id)
    consent = {c: patch.consent.get(c, base.consent.get(c, True)) for c in CHANNELS}
    return Profile(
        member_id=patch.member_id,
        email=base.email if patch.email is None else patch.email,
        phone=base.phone if patch.phone is None else patch.phone,
        name=base.name if patch.name is None else patch.name,
        birthday=base.birthday if patch.birthday is None else patch.birthday,
        consent=consent,
    )


def claim_condition(claim: OrderHoldClaim, now_epoch: int) -> Condition:
    """``shared.dal.order_claims._condition``: free, or (not captured and takeable); an end only by its hold."""

    def holds(old: OrderHoldClaim | None) -> bool:
        if old is None:
            return True
        if claim.status != "active":
            return old.hold_id == claim.hold_id
        takeable = (
            old.member_id == claim.member_id or old.status == "released" or int(old.expires_at.timestamp()) <= now_epoch
        )
        return old.status != "captured" and takeable

    return holds


def commit_writes(tenant: str, commit: Commit, at: datetime) -> list[Write]:
    """The writes of one member's commit, in the order of the DynamoDB transaction's items."""
    writes = [_account(tenant, commit.account, commit.expected_version)] if commit.account is not None else []
    writes += [_created(tenant_pk(tenant, e.scope), e.key, e, business_key(e.scope, e.key)) for e in commit.entries]
    if commit.refund is not None:
        scope, sk = order_scope(commit.refund.order_id), refund_key(commit.refund.refund_id)
        refund = replace(commit.refund, created_at=at)  # the table stamps the write's time, not the record's
        writes.append(_created(tenant_pk(tenant, scope), sk, refund, business_key(scope, sk)))
    if commit.hold is not None:
        scope = hold_scope(commit.hold.hold_id)
        writes.append(_created(tenant_pk(tenant, scope), HOLD, commit.hold, business_key(scope, HOLD)))
    if commit.void_order is not None:
        scope = order_scope(commit.void_order)
        writes.append(_created(tenant_pk(tenant, scope), PAID, VoidMark(commit.void_order), business_key(scope, PAID)))
    if commit.profile is not None:
        patch = commit.profile
        writes.append(Write(member_pk(tenant, patch.member_id), PROFILE, lambda old: merged_profile(old, patch)))
    if commit.counter is not None:
        writes.append(_counter(tenant, commit.counter))
    if commit.claim is not None:
        claim, condition = commit.claim, claim_condition(commit.claim, int(at.timestamp()))
        pk = tenant_pk(tenant, order_scope(claim.order_id))
        writes.append(Write(pk, HOLD, put(stored(claim)), condition, hold_claim_key(claim.order_id)))
    return writes


def _account(tenant: str, account: Account, expected: int) -> Write:
    """The account under its version: the one it was computed from, or none at all for a new member (0)."""
    condition: Condition = (lambda old: old is not None and old.version == expected) if expected else _absent
    account = account.with_standing(spend_months=tuple(sorted(account.standing.spend_months)))  # read back sorted
    return Write(member_pk(tenant, account.member_id), ACCOUNT, put(stored(account)), condition)


def _created(pk: str, sk: str, value: Any, duplicate_key: str) -> Write:
    """An immutable record, created only if its key is new (its business key names the duplicate)."""
    return Write(pk, sk, put(stored(value)), _absent, duplicate_key)


def _counter(tenant: str, counter: CounterRecord) -> Write:
    """A running total, written only over the total it was computed from (None: over no counter)."""
    previous = counter.previous
    condition: Condition = (
        _absent if previous is None else (lambda old: isinstance(old, CounterValue) and old.value == previous)
    )
    value = CounterValue(counter.member_id, counter.value)
    return Write(member_pk(tenant, counter.member_id), counter.key, put(value), condition)
