"""What an order webhook asks the ledger to do, in sender-neutral form (issue 4; issue 15 item 6).

Each sender's module (``standard``, ``shopify``, ``stripe``, ``woocommerce``) turns one verified delivery into a
``Delivery``: its deduplication key and a list of commands. One service (shared/services/webhook_intake.py) maps
the commands to the order use cases, so every sender meets the same business keys (order id, refund id) and a
retry changes nothing. Fields only the standard webhook carries (birthday, referral code, points redeemed, hold id)
have defaults: a platform never sends them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from shared.contacts import email_identity, phone_identity
from shared.rules import Cart, Line


@dataclass(frozen=True, kw_only=True)
class Customer:
    member_id: str
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    birthday: date | None = None
    referral_code: str | None = None  # only a member's first order uses it


def member_id_of(platform_id: str | None, email: Any, phone: Any) -> str | None:
    """Who a platform's customer is: the platform's customer id, else the e-mail in its one form (NFKC + casefold),
    else the phone in E.164 (issue 13: one customer, one member, however the shop wrote the contact). A phone
    without its country names nobody."""
    if platform_id:
        return platform_id
    if email:
        return email_identity(str(email))
    return phone_identity(str(phone)) if phone else None


@dataclass(frozen=True, kw_only=True)
class Paid:
    """order.paid. ``total_minor`` is what the platform charged (after its discounts); when ``hold_code``
    names one of our holds, the points it stands for are added back and redeemed (docs/spec.md §2: totals are before
    points)."""

    order_id: str
    customer: Customer
    currency: str
    cart: Cart
    paid_at: datetime
    hold_codes: tuple[str, ...] = ()  # the order's discount codes; one of them may name a hold
    lines: tuple[Line, ...] = ()
    points_redeemed: int = 0  # the standard webhook's redemption at checkout (docs/spec.md §5)
    hold_id: str | None = None  # ... and the hold it captures


@dataclass(frozen=True, kw_only=True)
class Refund:
    """order.refunded by ``amount_minor`` of cash; or, with ``cumulative_minor``, up to that much in all
    (platforms that report the running total, like Stripe's ``amount_refunded``)."""

    order_id: str
    refund_id: str
    amount_minor: int | None = None
    cumulative_minor: int | None = None
    currency: str | None = None  # the amounts' currency: the order's (the tenant's), or the refund is rejected
    items: tuple[Line, ...] = ()  # the goods returned, when the platform says (their bonuses go with them)


@dataclass(frozen=True)
class Cancel:
    """order.cancelled. With ``only_if_earned`` (WooCommerce's ``failed``, trashed, deleted), an order that never
    earned here is left alone (ignored, no tombstone), so that a payment retried later still earns."""

    order_id: str
    only_if_earned: bool = False


@dataclass(frozen=True)
class Ignore:
    """A delivery that is authentic but asks for nothing (unknown topic, unpaid order, ping): 200, no effect."""

    reason: str


@dataclass(frozen=True)
class Reject:
    """A delivery that is authentic but can never be applied (a refund that cannot be valued in the shop's
    currency): 200 ``rejected`` with ``reason``, logged and counted, nothing written."""

    order_id: str
    reason: str


Command = Paid | Refund | Cancel | Ignore | Reject


@dataclass(frozen=True)
class Delivery:
    key: str  # the platform's deduplication key, recorded as the event id of what it applies
    topic: str
    commands: list[Command] = field(default_factory=list)
