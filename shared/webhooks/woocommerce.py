"""WooCommerce webhooks (issue 4): ``order.created`` and ``order.updated`` carry the whole order (REST v3 shape);
``order.deleted`` (an order trashed or deleted) carries only its id.

Signature: ``X-WC-Webhook-Signature`` is ``base64(HMAC-SHA256(secret, raw body))``. WooCommerce signs
``wp_json_encode`` output, which escapes ``/`` as ``\\/``: the raw bytes are checked, never a re-encoded body.

WooCommerce has no refund or payment topic: an order's delivery says everything at once, so one delivery may carry
several commands, each on its own business key, applied in order:
- a paid order → order.paid, once per order. A status is no proof of payment (issue 13): cash on delivery
  (``cod``) is ``processing`` from checkout with nothing paid, so it earns once completed (``date_completed_gmt``,
  when the cash was collected); any other gateway earns in a paid status (``processing``, ``completed``,
  ``refunded``) once ``date_paid_gmt`` is set, or once completed without it (imports, manual changes);
- every entry of ``refunds[]`` (negative ``total``) → order.refunded with the refund's id; entries seen before are
  duplicates of their refund id, so only new ones change anything;
- status ``cancelled`` or ``refunded`` → cancellation of what is left (a cancelled order never paid here is
  voided, so a late payment of it earns nothing);
- status ``failed`` or ``trash``, or ``order.deleted`` → cancellation of what the order earned, if it earned: an
  order that never earned is left free to earn (a failed payment may be retried), so no tombstone is written.

The deduplication key is (order id, topic, ``date_modified_gmt``): the delivery id is new on every attempt.
Timestamps ending in ``_gmt`` are UTC without an offset. When a webhook is created, WooCommerce sends an unsigned
ping (form body ``webhook_id=<id>``, no topic): it is answered 200 and does nothing, or the webhook stays pending.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from shared.money import to_minor
from shared.rules import Cart
from shared.webhooks.commands import Cancel, Command, Customer, Delivery, Ignore, Line, Paid, Refund, member_id_of
from shared.webhooks.payloads import Malformed, json_object, text
from shared.webhooks.signatures import base64_body_hmac, header

TOPICS = ("order.created", "order.updated", "order.deleted")
PAID_STATUSES = ("processing", "completed", "refunded")
ENDED_STATUSES = ("cancelled", "refunded")
UNDONE_STATUSES = ("failed", "trash")  # a cancellation of what was earned, if anything was
PAID_ON_COMPLETION = ("cod",)  # gateways whose `processing` means "to be paid": cash on delivery
PING = re.compile(rb"webhook_id=[0-9]+")


def is_ping(headers: Mapping[str, str], body: bytes) -> bool:
    """WooCommerce's creation ping: no topic, a form body ``webhook_id=<id>``. Unsigned by design."""
    return header(headers, "X-WC-Webhook-Topic") is None and PING.fullmatch(body.strip()) is not None


def ping() -> Delivery:
    """The answer to a ping changes nothing and is the same for every tenant, known or not, suspended or not."""
    return Delivery("", "ping", [Ignore("webhook created (ping)")])


def receive(headers: Mapping[str, str], body: bytes, secrets: Sequence[str], now: datetime, tolerance: int) -> Delivery:
    topic = header(headers, "X-WC-Webhook-Topic")
    if is_ping(headers, body):
        return ping()
    base64_body_hmac(header(headers, "X-WC-Webhook-Signature"), body, secrets)
    if topic not in TOPICS:
        return Delivery("", topic or "", [Ignore(f"topic {topic or 'missing'} is not used")])
    order = json_object(body)
    order_id = text(order, "id")
    if topic == "order.deleted":  # the body is only {"id": …}; trashed or deleted, it happens once
        return Delivery(f"{order_id}:{topic}", topic, [Cancel(order_id, only_if_earned=True)])
    modified = order.get("date_modified_gmt") or text(order, "date_modified")
    return Delivery(f"{order_id}:{topic}:{modified}", topic, commands(order))


def commands(order: dict[str, Any]) -> list[Command]:
    status = text(order, "status")
    found: list[Command] = []
    if is_paid(order, status):
        found.append(paid(order))
    found += [_refund(order, entry) for entry in order.get("refunds") or []]
    if status in ENDED_STATUSES:
        found.append(Cancel(text(order, "id")))
    if status in UNDONE_STATUSES:
        found.append(Cancel(text(order, "id"), only_if_earned=True))
    return found or [Ignore(f"the order is {status}: not paid")]


def is_paid(order: dict[str, Any], status: str) -> bool:
    """Paid, not merely in a paid status: see the module's docstring."""
    if status not in PAID_STATUSES:
        return False
    if order.get("payment_method") in PAID_ON_COMPLETION:
        return bool(order.get("date_completed_gmt"))
    return bool(order.get("date_paid_gmt") or order.get("date_completed_gmt"))


def paid(order: dict[str, Any]) -> Command:
    customer = customer_of(order)
    if customer is None:
        return Ignore("the order has no customer id, e-mail or international phone")
    currency = text(order, "currency")
    cart = Cart(
        to_minor(text(order, "total"), currency),
        to_minor(order.get("shipping_total") or "0", currency),
        to_minor(order.get("total_tax") or "0", currency),
    )
    codes = tuple(str(c["code"]) for c in order.get("coupon_lines") or [] if c.get("code"))
    return Paid(
        order_id=text(order, "id"),
        customer=customer,
        currency=currency,
        cart=cart,
        paid_at=paid_at(order),
        hold_codes=codes,
        lines=tuple(_line(item, currency) for item in order.get("line_items") or []),
    )


def customer_of(order: dict[str, Any]) -> Customer | None:
    """The registered customer (``customer_id`` > 0), else the billing e-mail (NFKC + casefold), else the billing
    phone (E.164)."""
    billing = order.get("billing") or {}
    email = billing.get("email") or None
    phone = billing.get("phone") or None
    registered = order.get("customer_id")
    member_id = member_id_of(str(registered) if registered not in (None, 0, "0", "") else None, email, phone)
    if not member_id:
        return None
    name = " ".join(str(p) for p in (billing.get("first_name"), billing.get("last_name")) if p) or None
    return Customer(member_id=member_id, email=email, phone=phone, name=name)


def paid_at(order: dict[str, Any]) -> datetime:
    """``date_paid_gmt``; orders marked paid without it (imports, manual status changes) fall back to completion,
    then creation. Cash on delivery is paid when completed (its ``date_paid_gmt`` may be the checkout's)."""
    keys = ("date_paid_gmt", "date_completed_gmt", "date_created_gmt")
    if order.get("payment_method") in PAID_ON_COMPLETION:
        keys = ("date_completed_gmt", "date_paid_gmt", "date_created_gmt")
    for key in keys:
        if order.get(key):
            stamp = datetime.fromisoformat(str(order[key]))
            return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
    raise Malformed("date_created_gmt is missing")


def _refund(order: dict[str, Any], entry: dict[str, Any]) -> Refund:
    total = text(entry, "total")  # WooCommerce lists refunds as negative amounts
    if not total.startswith("-"):
        raise Malformed("a refund's total must be negative")
    currency = text(order, "currency")
    amount = to_minor(total[1:], currency)
    if amount == 0:
        raise Malformed("a refund's total must be negative")
    return Refund(order_id=text(order, "id"), refund_id=text(entry, "id"), amount_minor=amount, currency=currency)


def _line(item: dict[str, Any], currency: str) -> Line:
    quantity = int(item.get("quantity") or 1)
    sku = str(item.get("sku") or item.get("variation_id") or item.get("product_id") or item.get("id"))
    return Line(sku, None, quantity, to_minor(item.get("total") or "0", currency))
