"""The standard webhook (docs/spec.md §5): Standard Webhooks signatures (https://www.standardwebhooks.com), and its
events read into the command model every order webhook shares (shared/webhooks/commands.py).

``webhook-signature`` holds space-separated ``v1,<base64 HMAC-SHA256>`` values over
``{id}.{timestamp}.{raw body}``, keyed with the base64-decoded ``whsec_`` secret. Any match
against any of the tenant's secrets (rotation) is accepted. Computed with the standard
library's ``hmac`` (no third-party dependency needed) and compared in constant time.

Unlike a platform's, the standard webhook's sender is the merchant's own integration, which can fix what it sends:
a field outside its model, a payment time outside the window or an unknown type is a 422 that says so, never a 200
``ignored``. Its models bound every amount, so ``check_paid_at`` is the only bound left to check here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import datetime

from shared.api_models import EVENT_TYPES, Envelope, OrderCancelledData, OrderPaidData, OrderRefundedData
from shared.errors import Unprocessable
from shared.observability import logger
from shared.rules import Cart, lines_from
from shared.webhooks.bounds import check_paid_at
from shared.webhooks.commands import Cancel, Command, Customer, Delivery, Paid, Refund
from shared.webhooks.signatures import SignatureRefused


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The header value a sender would produce (used by tests, the demo and the README)."""
    digest = hmac.new(_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(
    headers: Mapping[str, str], body: bytes, secrets: Iterable[str], now: datetime, tolerance_seconds: int
) -> str:
    """Return the message id of an authentic, fresh delivery, or raise ``SignatureRefused`` (one answer for every
    failure; its ``reason`` is for the log)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id, stamp, header = (lowered.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not msg_id or not stamp or not header:
        raise SignatureRefused("missing_signature")
    try:
        timestamp = int(stamp)
    except ValueError as exc:
        raise SignatureRefused("invalid_timestamp") from exc
    if abs(now.timestamp() - timestamp) > tolerance_seconds:
        raise SignatureRefused("timestamp_out_of_tolerance")
    offered = []
    for part in header.split():
        version, _, value = part.partition(",")
        if version == "v1":
            try:
                offered.append(base64.b64decode(value, validate=True))
            except (binascii.Error, ValueError):
                continue
    signed = f"{msg_id}.{stamp}.".encode() + body  # the header text as sent, not re-formatted
    matched = False
    for secret in secrets:
        expected = hmac.new(_key(secret), signed, hashlib.sha256).digest()
        for candidate in offered:
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise SignatureRefused("invalid_signature")
    return msg_id


def delivery(payload: object, event_id: str, now: datetime) -> Delivery:
    """An authentic delivery's JSON as commands (one event, one command), or a 422 before anything is applied."""
    if not isinstance(payload, dict):
        raise Unprocessable("body must be a JSON object", code="validation_error")
    envelope = Envelope.model_validate(payload)
    order_id = envelope.data.get("order_id")
    if isinstance(order_id, str | int):
        logger.append_keys(order_id=str(order_id))  # on every line of the event, the services' too
    return Delivery(key=event_id, topic=envelope.type, commands=[command(envelope.type, envelope.data, now)])


def command(kind: str, data: dict[str, object], now: datetime) -> Command:
    if kind == "order.paid":
        return paid(OrderPaidData.model_validate(data), now)
    if kind == "order.refunded":
        refund = OrderRefundedData.model_validate(data)
        return Refund(
            order_id=refund.order_id,
            refund_id=refund.refund_id,
            amount_minor=refund.amount_minor,
            items=lines_from(refund.items),  # returned goods: their item bonuses follow them
        )
    if kind == "order.cancelled":
        return Cancel(order_id=OrderCancelledData.model_validate(data).order_id)
    raise Unprocessable(f"type must be one of {', '.join(EVENT_TYPES)}", code="unknown_event_type")


def paid(data: OrderPaidData, now: datetime) -> Paid:
    c = data.customer
    customer = Customer(
        member_id=c.id,
        email=c.email,
        phone=c.phone,
        name=c.name,
        birthday=c.birthday,
        referral_code=c.referral_code,
    )
    return Paid(
        order_id=data.order_id,
        customer=customer,
        currency=data.currency,
        cart=Cart(total_minor=data.total_minor, shipping_minor=data.shipping_minor, tax_minor=data.tax_minor),
        paid_at=check_paid_at(data.paid_at, now),
        lines=lines_from(data.items),  # as a platform's: the intake puts them in the cart
        points_redeemed=data.points_redeemed,
        hold_id=data.hold_id,
    )
