"""A transfer to a friend from the customer cabinet (issue 16 item 5): by the friend's phone, e-mail or referral code,
under the program's transfer rules (``shared.services.transfers``), idempotent by the page's id.

The friend is one member found by the contact look-up the merchant's API offers (``find_members``) or by the referral
code's index: none and several are one answer, 404 ``recipient_not_found``. So that the route is no cheaper oracle of
who is a member than that look-up, attempts are counted per member and hour (a conditional counter, as the login's)
and refused past ``TRIES_PER_HOUR``; and a shop whose transfers are off answers that before any look-up.

The page's id is namespaced by the sender (``cab:<digest of tenant and member>:<id>``), so that one customer's id can
never name another's transfer: a retry with the same id answers the first transfer (the service's duplicate), and
the same id from another customer is another transfer. The answer names the friend only as masked on screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.cabinet_login import hour_of, key_digest
from shared.contacts import masked, normalize_email, normalize_phone
from shared.errors import Forbidden, NotFound, TooManyRequests, Unprocessable
from shared.keys import cabinet_transfer_scope
from shared.observability import MetricUnit, metrics
from shared.ports import CabinetStore
from shared.referral import normalize as referral_code
from shared.services.store import LedgerStore
from shared.services.transfers import TransferIn, TransferService
from shared.tenants import Tenant

TRIES_PER_HOUR = 20  # a customer sends to a few friends; a guesser of contacts is stopped after this many tries


@dataclass(frozen=True)
class FriendTransfer:
    """What the customer asked: the page's id, the friend as typed, the points."""

    client_id: str
    to: str
    points: int


@dataclass(frozen=True)
class Recipient:
    """The friend as the look-up reads it: ``kind`` email | phone | code, the normalized value, and what the page
    may show of it."""

    kind: str
    value: str
    display: str


@dataclass(frozen=True, kw_only=True)
class Sent:
    status: str  # applied | duplicate
    transfer_id: str  # the page's id
    points: int
    to: str  # the friend, masked
    balance: int  # the sender's balance after the transfer


def recipient_of(text: str) -> Recipient:
    """The friend as typed: an e-mail (has ``@``), a phone in international form (starts with ``+``) or a referral
    code; anything else is 422 ``invalid_recipient`` (a phone without its country code is ambiguous)."""
    text = text.strip()
    if "@" in text:
        email = normalize_email(text)
        return Recipient("email", email, masked(email))
    if text.startswith("+"):
        phone = normalize_phone(text)
        return Recipient("phone", phone, masked(phone))
    code = referral_code(text)
    if code is None:
        raise Unprocessable(
            "give the friend's phone in international form (+...), e-mail or referral code", code="invalid_recipient"
        )
    return Recipient("code", code, code)


def cabinet_transfer_id(tenant_id: str, member_id: str, client_id: str) -> str:
    """The service's transfer id of a cabinet transfer: the sender's digest keeps each customer's ids apart."""
    return f"cab:{key_digest(tenant_id, member_id)[:16]}:{client_id}"


class CabinetTransfers:
    def __init__(self, transfers: TransferService, ledger: LedgerStore, counters: CabinetStore) -> None:
        self.transfers = transfers
        self.ledger = ledger
        self.counters = counters

    def send(self, tenant: Tenant, member_id: str, request: FriendTransfer, now: datetime) -> Sent:
        tid = tenant.tenant_id
        if not tenant.program_at(now).settings.transfer.enabled:  # before any look-up: no oracle in a closed shop
            raise Forbidden("transfers are not enabled in this program", code="transfers_disabled")
        friend = recipient_of(request.to)
        scope = cabinet_transfer_scope(key_digest(tid, member_id))
        if not self.counters.count(tid, scope, hour_of(now), TRIES_PER_HOUR, now):
            metrics.add_metric(name="CabinetTransferTriesRefused", unit=MetricUnit.Count, value=1)
            raise TooManyRequests(
                "too many transfers tried this hour; try later",
                code="too_many_transfers",
                retry_after_seconds=_to_next_hour(now),
            )
        to_member = self._member_of(tid, friend)
        if to_member == member_id:
            raise Unprocessable("you cannot send points to yourself", code="self_transfer")
        transfer_id = cabinet_transfer_id(tid, member_id, request.client_id)
        result = self.transfers.transfer(tenant, TransferIn(transfer_id, member_id, to_member, request.points), now)
        return Sent(
            status=result.status,
            transfer_id=request.client_id,
            points=result.points,
            to=friend.display,
            balance=result.from_balance,
        )

    def _member_of(self, tenant_id: str, friend: Recipient) -> str:
        """The one member the friend names; none or several: 404, one answer for both."""
        if friend.kind == "code":
            found = self.ledger.referred_by(tenant_id, friend.value)
        elif friend.kind == "email":
            found = self.ledger.find_members(tenant_id, email=friend.value)
        else:
            found = self.ledger.find_members(tenant_id, phone=friend.value)
        if len(found) != 1:
            raise NotFound("no member has this phone, e-mail or referral code", code="recipient_not_found")
        return found[0]


def _to_next_hour(now: datetime) -> int:
    next_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return max(1, int((next_hour - now).total_seconds()))
