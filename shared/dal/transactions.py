"""One member's commit as the items of one TransactWriteItems, and how its failures read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from shared.dal.account_codec import account_item
from shared.dal.models import (
    AccountItem,
    CounterItem,
    EntryItem,
    HoldItem,
    LedgerTable,
    OrderVoidItem,
    ProfileItem,
    RefundItem,
)
from shared.dal.order_claims import claim_write
from shared.dal.record_codecs import (
    entry_item,
    hold_item,
    refund_item,
)
from shared.keys import (
    HOLD,
    PAID,
    PROFILE,
    birthday_key,
    business_key,
    contact_key,
    hold_scope,
    member_pk,
    order_scope,
    referral_key,
    refund_key,
    shard_of,
    tenant_pk,
)
from shared.ports import Duplicate, StoreUnavailable, VersionConflict
from shared.records import (
    Commit,
    CounterRecord,
    Profile,
)
from shared.referral import code_of

RETRYABLE_REASONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
Write = tuple["Model | Patch", Any, str | None]  # (item or patch, condition, duplicate key)


@dataclass(frozen=True)
class Patch:
    """An UpdateItem of ``item``'s key that SETs only ``actions`` (a transaction's ``tx.update``)."""

    item: Model
    actions: list[Action]


def profile_patch(tenant: str, profile: Profile, at: datetime) -> Patch:
    """A profile write as a patch: the contact fields ``profile`` names (with their look-up keys) and the consent
    channels it names; a channel never stored starts on. Nothing else on the item is touched, so writers of
    different fields (an order's contact data, a merchant's opt-out) never undo each other, whatever they read."""
    pk = member_pk(tenant, profile.member_id)
    actions: list[Action] = [
        LedgerTable.type.set(ProfileItem),
        ProfileItem.member_id.set(profile.member_id),
        ProfileItem.referral_key.set(referral_key(tenant, code_of(tenant, profile.member_id))),
        ProfileItem.updated_at.set(at),
    ]
    if profile.email is not None:
        actions += [ProfileItem.email.set(profile.email), ProfileItem.email_key.set(contact_key(tenant, profile.email))]
    if profile.phone is not None:
        actions += [ProfileItem.phone.set(profile.phone), ProfileItem.phone_key.set(contact_key(tenant, profile.phone))]
    if profile.name is not None:
        actions.append(ProfileItem.name.set(profile.name))
    if profile.birthday is not None:
        bday = birthday_key(profile.birthday[5:10], shard_of(pk))
        actions += [ProfileItem.birthday.set(profile.birthday), ProfileItem.bday_key.set(bday)]
    for channel, attribute in (
        ("email", ProfileItem.consent_email),
        ("sms", ProfileItem.consent_sms),
        ("call", ProfileItem.consent_call),
    ):
        given = profile.consent.get(channel)
        actions.append(attribute.set(attribute | True if given is None else given))
    return Patch(ProfileItem(pk, PROFILE), actions)


def counter_write(tenant: str, counter: CounterRecord, at: datetime) -> tuple[Model, Any, str | None]:
    item = CounterItem(
        member_pk(tenant, counter.member_id),
        counter.key,
        member_id=counter.member_id,
        value=counter.value,
        updated_at=at,
    )
    if counter.previous is None:
        return item, CounterItem.pk.does_not_exist(), None
    return item, CounterItem.value == counter.previous, None


def commit_writes(tenant: str, commit: Commit, at: datetime) -> list[tuple[Model | Patch, Any, str | None]]:
    """The items of one member's commit: (item or patch, condition, duplicate key)."""
    writes: list[tuple[Model | Patch, Any, str | None]] = []
    if commit.account is not None:
        acc = account_item(tenant, commit.account, at)
        cond = (
            AccountItem.version == commit.expected_version
            if commit.expected_version
            else AccountItem.pk.does_not_exist()
        )
        writes.append((acc, cond, None))
    for entry in commit.entries:
        writes.append((entry_item(tenant, entry), EntryItem.pk.does_not_exist(), business_key(entry.scope, entry.key)))
    if commit.refund is not None:
        writes.append(
            (
                refund_item(tenant, commit.refund, at),
                RefundItem.pk.does_not_exist(),
                business_key(order_scope(commit.refund.order_id), refund_key(commit.refund.refund_id)),
            )
        )
    if commit.hold is not None:
        writes.append(
            (
                hold_item(tenant, commit.hold),
                HoldItem.pk.does_not_exist(),
                business_key(hold_scope(commit.hold.hold_id), HOLD),
            )
        )
    if commit.void_order is not None:
        void = OrderVoidItem(
            tenant_pk(tenant, order_scope(commit.void_order)), PAID, order_id=commit.void_order, created_at=at
        )
        writes.append((void, OrderVoidItem.pk.does_not_exist(), business_key(order_scope(commit.void_order), PAID)))
    if commit.profile is not None:
        writes.append((profile_patch(tenant, commit.profile, at), None, None))  # a patch: see profile_patch
    if commit.counter is not None:
        writes.append(counter_write(tenant, commit.counter, at))
    if commit.claim is not None:
        pk = tenant_pk(tenant, order_scope(commit.claim.order_id))
        writes.append(claim_write(pk, commit.claim, int(at.timestamp())))
    return writes


def transact(writes: list[tuple[Model | Patch, Any, str | None]]) -> None:
    # PynamoDB sends the puts before the updates; the cancellation reasons follow that order
    writes = [w for w in writes if not isinstance(w[0], Patch)] + [w for w in writes if isinstance(w[0], Patch)]
    try:
        with TransactWrite(connection=LedgerTable._get_connection().connection) as tx:
            for item, condition, _ in writes:
                if isinstance(item, Patch):
                    tx.update(item.item, actions=item.actions, condition=condition)
                else:
                    tx.save(item, condition=condition)
    except TransactWriteError as exc:
        reasons = [r.code if r else None for r in exc.cancellation_reasons]
        for (_, _, dup_key), code in zip(writes, reasons, strict=False):
            if code == "ConditionalCheckFailed" and dup_key:
                raise Duplicate(dup_key) from exc
        if "ConditionalCheckFailed" in reasons or RETRYABLE_REASONS & set(reasons):
            raise VersionConflict() from exc
        raise StoreUnavailable(f"storage failed: {exc.cause_response_code or 'unknown'}") from exc


CONDITION_FAILED = frozenset({"ConditionalCheckFailed"})
LOST_RACE = frozenset({"ConditionalCheckFailed", "TransactionConflict"})  # another write to these items came first


def conditional_transaction(write: Callable[[TransactWrite], None], lost: frozenset[str] = CONDITION_FAILED) -> bool:
    """Run one TransactWriteItems that ``write`` fills: False when a cancellation reason is one of ``lost`` (a
    condition failed; with ``LOST_RACE`` also a concurrent transaction on the same items), ``StoreUnavailable``
    when the storage failed."""
    try:
        with TransactWrite(connection=LedgerTable._get_connection().connection) as tx:
            write(tx)
    except TransactWriteError as exc:
        reasons = {r.code for r in exc.cancellation_reasons or [] if r is not None}
        if reasons & lost:
            return False
        raise StoreUnavailable(f"storage failed: {exc.cause_response_code or 'unknown'}") from exc
    return True


def guard(call: Any) -> Any:
    try:
        return call()
    except PynamoDBException as exc:
        if isinstance(exc, Model.DoesNotExist):
            raise
        raise StoreUnavailable(f"storage failed: {type(exc).__name__}") from exc


def condition_failed(exc: Exception) -> bool:
    cause = exc.__cause__
    return getattr(cause, "cause_response_code", None) == "ConditionalCheckFailedException"
