"""What an order event brings to the order services and what they answer (the webhook routes build and present
these)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.rules import Cart


@dataclass(frozen=True, kw_only=True)
class CustomerIn:
    member_id: str
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    birthday: str | None = None
    referral_code: str | None = None


@dataclass(frozen=True, kw_only=True)
class PaidOrderIn:
    order_id: str
    customer: CustomerIn
    currency: str
    cart: Cart
    points_redeemed: int
    hold_id: str | None
    paid_at: datetime
    hold_code: str | None = None  # a platform order's discount code that may name one of our holds
    code_owner: str | None = None  # set when that hold is another member's (the code was passed on)


@dataclass(frozen=True, kw_only=True)
class OrderResult:
    status: str  # applied | duplicate | ignored
    order_id: str
    member_id: str | None = None
    points_earned: int = 0
    points_redeemed: int = 0
    points_reversed: int = 0
    points_restored: int = 0
    balance: int | None = None
    reason: str | None = None
