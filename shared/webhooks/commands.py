"""What a platform's webhook asks the ledger to do, in platform-neutral form (issue 4).

Each adapter (``shopify``, ``stripe``, ``woocommerce``) turns one verified delivery into a ``Delivery``: the
platform's deduplication key and a list of commands. The route then applies them with the same services as the
standard webhook, so a platform's retry meets the same business keys (order id, refund id) and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shared.rules import Cart, Line


@dataclass(frozen=True)
class Customer:
    member_id: str
    email: str | None = None
    phone: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Paid:
    """order.paid. ``total_minor`` is what the platform charged (after its discounts); when ``hold_code``
    names one of our holds, the points it stands for are added back and redeemed (SPEC §2: totals are before
    points)."""

    order_id: str
    customer: Customer
    currency: str
    cart: Cart
    paid_at: datetime
    hold_codes: tuple[str, ...] = ()  # the order's discount codes; one of them may name a hold
    lines: tuple[Line, ...] = ()


@dataclass(frozen=True)
class Refund:
    """order.refunded by ``amount_minor`` of cash; or, with ``cumulative_minor``, up to that much in all
    (platforms that report the running total, like Stripe's ``amount_refunded``)."""

    order_id: str
    refund_id: str
    amount_minor: int | None = None
    cumulative_minor: int | None = None


@dataclass(frozen=True)
class Cancel:
    order_id: str


@dataclass(frozen=True)
class Ignore:
    """A delivery that is authentic but asks for nothing (unknown topic, unpaid order, ping): 200, no effect."""

    reason: str


Command = Paid | Refund | Cancel | Ignore


@dataclass(frozen=True)
class Delivery:
    key: str  # the platform's deduplication key, recorded as the event id of what it applies
    topic: str
    commands: list[Command] = field(default_factory=list)
