"""Stripe webhooks (issue 4): ``checkout.session.completed`` (and its delayed-payment twin
``checkout.session.async_payment_succeeded``) earn, ``charge.refunded`` reverses.

Signature, exactly as Stripe signs: ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`` with
``v1 = hex(HMAC-SHA256(key = the whole "whsec_…" secret as UTF-8, msg = "<t>." + raw body))``. Any ``v1`` may match
any of the tenant's secrets (rotation); every pair is compared in constant time, and all are tried. Other schemes
(``v0``) are ignored. The deduplication key is the event id (``evt_…``); every effect also sits on a business key
(the order id, and the event id as the refund id), so a retry after success changes nothing.

Order id: Checkout's ``client_reference_id`` and the session's ``metadata`` do not reach the charge that is refunded
later, and ``client_reference_id`` is often a customer or cart id (Stripe suggests both), which would merge a
customer's orders into one. The PaymentIntent id is on the session, the charge and the refund alike, and is unique
per payment, so it is the order id on both sides: ``payment_intent``, else ``metadata.order_id``, else the
session's (or charge's) own id. See ``order_id_of_session`` and ``order_id_of_charge``.

Amounts are integers in Stripe's unit for the currency, which is the ISO-4217 minor unit except where Stripe says
otherwise (MGA is zero-decimal at Stripe and has 2 ISO digits; ISK has 0 ISO digits and stays two-decimal at
Stripe): ``minor`` converts, exactly, and a fraction the currency cannot have is a malformed payload.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from shared.money import exponent
from shared.rules import Cart
from shared.webhooks.commands import Command, Customer, Delivery, Ignore, Paid, Refund, member_id_of
from shared.webhooks.payloads import Malformed, json_object, text
from shared.webhooks.signatures import SignatureRefused, header, hmac_sha256

PAID_TYPES = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
REFUND_TYPES = ("charge.refunded",)
HOLD_CODE_KEY = "loyalty_hold_code"  # the session's metadata key that carries a hold's checkout code
TIMESTAMP = re.compile(r"[0-9]{1,12}")

# https://docs.stripe.com/currencies: amounts are integers in the currency's smallest unit, as Stripe counts it
ZERO_DECIMAL = frozenset(
    ["BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"]
)
THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])


def receive(headers: Mapping[str, str], body: bytes, secrets: Sequence[str], now: datetime, tolerance: int) -> Delivery:
    verify(header(headers, "Stripe-Signature"), body, secrets, now, tolerance)
    event = json_object(body)
    kind = str(event.get("type") or "")
    if kind not in PAID_TYPES + REFUND_TYPES:  # including bodies that are no event at all
        key = str(event.get("id") or "") if event.get("object") == "event" else ""
        return Delivery(key, kind, [Ignore(f"event type {kind or 'missing'} is not used")])
    key = text(event, "id")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise Malformed("data.object is missing")
    expected = "checkout.session" if kind in PAID_TYPES else "charge"
    if obj.get("object") != expected:
        raise Malformed(f"data.object of {kind} must be a {expected}")
    command = paid(obj, event) if kind in PAID_TYPES else refunded(obj, key)
    return Delivery(key, kind, [command])


# -- signature -------------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Stripe-Signature`` value Stripe would send (tests and local demos)."""
    return f"t={timestamp},v1={hmac_sha256(secret.encode(), f'{timestamp}.'.encode() + body).hex()}"


def verify(value: str | None, body: bytes, secrets: Sequence[str], now: datetime, tolerance: int) -> int:
    """The signed timestamp of an authentic, fresh delivery, or ``SignatureRefused`` (one answer for every failure).

    Freshness is checked after the signature, as Stripe's libraries do: only a sender holding the secret learns
    that its clock is off. A timestamp more than ``tolerance`` ahead of our clock is rejected too, unlike
    stripe-python (which checks only ``t < now - tolerance``). The timestamp is signed, so a future one comes from
    Stripe with a wrong clock or from someone holding the secret; accepted, it would stretch the replay window of a
    captured delivery to ``t + tolerance``. Stripe signs every retry with a fresh ``t``, so an honest delivery never
    meets this limit unless a clock is more than 5 minutes wrong, and then the past check would misfire as well.
    The window is the same ±5 minutes as our Standard Webhooks endpoint (docs/spec.md §5)."""
    if not value:
        raise SignatureRefused("missing_signature")
    stamp: str | None = None
    offered: list[bytes] = []
    for item in value.split(","):
        scheme, _, signature = item.strip().partition("=")
        if scheme == "t" and stamp is None:
            stamp = signature.strip()
        elif scheme == "v1":
            offered.append(signature.strip().encode())
    if stamp is None or not TIMESTAMP.fullmatch(stamp) or not offered:
        raise SignatureRefused("invalid_signature")  # needs t=<unix seconds> and at least one v1
    signed = stamp.encode() + b"." + body  # the timestamp as sent, like Stripe
    matched = False
    for secret in secrets:  # every pair is compared: the time taken tells nothing about which matched
        expected = hmac_sha256(secret.encode(), signed).hex().encode()
        for candidate in offered:
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise SignatureRefused("invalid_signature")
    timestamp = int(stamp)
    if abs(now.timestamp() - timestamp) > tolerance:
        raise SignatureRefused("timestamp_out_of_tolerance")
    return timestamp


# -- mapping ---------------------------------------------------------------------------------------


def paid(session: dict[str, Any], event: dict[str, Any]) -> Command:
    """A Checkout Session that is paid: ``payment_status`` ``paid``. ``unpaid`` (a delayed method such as SEPA:
    ``checkout.session.async_payment_succeeded`` follows) and ``no_payment_required`` earn nothing."""
    status = session.get("payment_status")
    if status != "paid":
        return Ignore(f"the checkout session is not paid ({status or 'no payment_status'})")
    customer = customer_of(session)
    if customer is None:
        return Ignore("the checkout session has no customer id, e-mail or international phone")
    currency = text(session, "currency").upper()
    totals = session.get("total_details") or {}
    cart = Cart(
        minor(session.get("amount_total"), currency),
        _shipping(session, currency),
        minor(totals.get("amount_tax") or 0, currency),
    )
    code = (session.get("metadata") or {}).get(HOLD_CODE_KEY)
    return Paid(
        order_id=order_id_of_session(session),
        customer=customer,
        currency=currency,
        cart=cart,
        paid_at=datetime.fromtimestamp(_seconds(event.get("created")), UTC),
        hold_codes=(str(code),) if code else (),
    )


def refunded(charge: dict[str, Any], event_id: str) -> Command:
    """``amount_refunded`` is the charge's running total: the service refunds what it adds to what was recorded,
    from fresh state on every attempt, so a retry, a concurrent or an older delivery never refunds twice. The
    event id is the refund id: one effect per delivery."""
    currency = text(charge, "currency").upper()
    cumulative = minor(charge.get("amount_refunded"), currency)
    if cumulative <= 0:
        return Ignore("the charge has nothing refunded")
    return Refund(
        order_id=order_id_of_charge(charge), refund_id=event_id, cumulative_minor=cumulative, currency=currency
    )


def order_id_of_session(session: dict[str, Any]) -> str:
    """The PaymentIntent (what the charge carries), else ``metadata.order_id``, else the session id.
    ``client_reference_id`` is never the order id (see the module's docstring)."""
    return _reference(session.get("payment_intent")) or _metadata_order(session) or text(session, "id")


def order_id_of_charge(charge: dict[str, Any]) -> str:
    """The same key as ``order_id_of_session``: the PaymentIntent, else ``metadata.order_id`` (charges made without
    a PaymentIntent), else the charge id."""
    return _reference(charge.get("payment_intent")) or _metadata_order(charge) or text(charge, "id")


def customer_of(session: dict[str, Any]) -> Customer | None:
    """The Stripe customer (``cus_…``), else the e-mail (NFKC + casefold), else the phone (E.164)."""
    details = session.get("customer_details") or {}
    email = details.get("email") or session.get("customer_email")
    phone = details.get("phone")
    member_id = member_id_of(_reference(session.get("customer")), email, phone)
    if not member_id:
        return None
    return Customer(member_id=member_id, email=email or None, phone=phone or None, name=details.get("name") or None)


def minor(amount: Any, currency: str) -> int:
    """A Stripe integer amount in ISO-4217 minor units, exactly (``ValueError`` otherwise: a 400)."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise ValueError(f"not a Stripe amount: {amount!r}")
    stripe_digits = 0 if currency in ZERO_DECIMAL else 3 if currency in THREE_DECIMAL else 2
    shift = exponent(currency) - stripe_digits
    if shift >= 0:
        return amount * 10**shift
    unit = 10**-shift
    if amount % unit:
        raise ValueError(f"{amount} is a fraction of {currency} that the currency does not have")
    return amount // unit


def _shipping(session: dict[str, Any], currency: str) -> int:
    """Shipping without its tax: ``total_details.amount_tax`` already counts the tax on shipping, and subtracting it
    twice would shrink what earns."""
    cost = session.get("shipping_cost")
    if isinstance(cost, dict) and cost.get("amount_total") is not None:
        shipping = minor(cost["amount_total"], currency) - minor(cost.get("amount_tax") or 0, currency)
        if shipping < 0:
            raise ValueError("shipping_cost.amount_tax exceeds its amount_total")
        return shipping
    return minor((session.get("total_details") or {}).get("amount_shipping") or 0, currency)


def _metadata_order(obj: dict[str, Any]) -> str | None:
    value = (obj.get("metadata") or {}).get("order_id")
    return str(value) if value not in (None, "") else None


def _reference(value: Any) -> str | None:
    """An id field that Stripe sends as a string, or as the object when it is expanded."""
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if isinstance(value, str) and value else None


def _seconds(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 10**11:
        raise Malformed("created must be Unix seconds")
    return value
