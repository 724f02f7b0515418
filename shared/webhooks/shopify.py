"""Shopify webhooks (issue 4): ``orders/paid``, ``refunds/create``, ``orders/cancelled``.

Signature: ``X-Shopify-Hmac-Sha256`` (or the unprefixed ``shopify-hmac-sha256`` of Events deliveries) is
``base64(HMAC-SHA256(secret, raw body))``. Shopify signs no timestamp, so replays are stopped by deduplication:
the key is ``X-Shopify-Event-Id`` when present, else ``X-Shopify-Webhook-Id``, and every effect also sits on a
business key (order id, refund id). Ids stay strings: Shopify's exceed 2^53. An order's amounts are decimal
strings in the shop's currency, converted with the currency's ISO-4217 exponent. A refund's transactions are in
the customer's (presentment) currency: their shop money is used when given, and a refund that cannot be valued in
the shop's currency is rejected (see ``refund``). A customer without a Shopify id is its e-mail (NFKC + casefold),
else its phone in E.164.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from shared.clock import parse_ts
from shared.money import to_minor
from shared.rules import Cart
from shared.webhooks.commands import (
    Cancel,
    Command,
    Customer,
    Delivery,
    Ignore,
    Line,
    Paid,
    Refund,
    Reject,
    member_id_of,
)
from shared.webhooks.payloads import Malformed, json_object, text
from shared.webhooks.signatures import base64_body_hmac, header

TOPICS = ("orders/paid", "refunds/create", "orders/cancelled")
NOT_CASH = {"gift_card"}  # a refund to a gift card gives no cash back


def receive(headers: Mapping[str, str], body: bytes, secrets: Sequence[str], now: datetime, tolerance: int) -> Delivery:
    base64_body_hmac(header(headers, "shopify-hmac-sha256", "X-Shopify-Hmac-Sha256"), body, secrets)
    topic = header(headers, "shopify-topic", "X-Shopify-Topic") or ""
    key = header(headers, "shopify-event-id", "X-Shopify-Event-Id", "shopify-webhook-id", "X-Shopify-Webhook-Id")
    if topic not in TOPICS:
        return Delivery(key or "", topic, [Ignore(f"topic {topic or 'missing'} is not used")])
    if not key:
        raise Malformed("X-Shopify-Webhook-Id is missing")
    payload = json_object(body)
    return Delivery(key, topic, [_command(topic, payload)])


def _command(topic: str, order: dict[str, Any]) -> Command:
    if topic == "orders/paid":
        return paid(order)
    if topic == "refunds/create":
        return refund(order)
    return Cancel(text(order, "id"))


def paid(order: dict[str, Any]) -> Command:
    currency = text(order, "currency")
    customer = customer_of(order)
    if customer is None:
        return Ignore("the order has no customer id, e-mail or international phone")
    total = to_minor(order.get("current_total_price") or text(order, "total_price"), currency)
    cart = Cart(total, _shipping(order, currency), to_minor(order.get("current_total_tax") or "0", currency))
    codes = tuple(str(d.get("code")) for d in order.get("discount_codes") or [] if d.get("code"))
    return Paid(
        order_id=text(order, "id"),
        customer=customer,
        currency=currency,
        cart=cart,
        paid_at=parse_ts(text(order, "processed_at")),
        hold_codes=codes,
        lines=tuple(_line(item, currency) for item in order.get("line_items") or []),
    )


def customer_of(order: dict[str, Any]) -> Customer | None:
    person = order.get("customer") or {}
    email = order.get("email") or order.get("contact_email") or person.get("email")
    phone = order.get("phone") or person.get("phone")
    member_id = member_id_of(str(person["id"]) if person.get("id") is not None else None, email, phone)
    if not member_id:
        return None
    name = " ".join(str(p) for p in (person.get("first_name"), person.get("last_name")) if p) or None
    return Customer(member_id=member_id, email=email, phone=phone, name=name)


def _shipping(order: dict[str, Any], currency: str) -> int:
    shop = (order.get("total_shipping_price_set") or {}).get("shop_money") or {}
    if shop.get("amount") is not None:
        return to_minor(shop["amount"], currency)
    return sum(to_minor(line.get("price", "0"), currency) for line in order.get("shipping_lines") or [])


def _line(item: dict[str, Any], currency: str) -> Line:
    quantity = int(item.get("quantity") or 1)
    amount = to_minor(item.get("price", "0"), currency) * quantity
    sku = str(item.get("sku") or item.get("variant_id") or item.get("id"))
    return Line(sku, item.get("product_type") or None, quantity, amount)


def refund(payload: dict[str, Any]) -> Command:
    """The cash given back: successful ``refund`` transactions, gift cards excluded, in the shop's currency.

    A transaction's ``amount`` is in the currency the customer paid (``currency``), which for a multi-currency shop
    is not the shop's. Its ``amount_set.shop_money`` is used when Shopify gives it; otherwise the amount is taken in
    its own currency, and a refund whose parts are not all in one currency, or not in the shop's (checked against
    the tenant's when applied), is rejected rather than read as the order's currency (issue 13)."""
    parts = [_cash(t, payload) for t in payload.get("transactions") or [] if _is_cash(t)]
    currencies = {currency for currency, _ in parts}
    if len(currencies) > 1:
        return Reject(text(payload, "order_id"), "refund_currency_mismatch")
    cash = sum(minor for _, minor in parts)
    if cash <= 0:
        return Ignore("the refund gives no cash back")
    currency = currencies.pop()
    items = tuple(_returned(line, currency) for line in payload.get("refund_line_items") or [] if line.get("line_item"))
    return Refund(
        order_id=text(payload, "order_id"),
        refund_id=text(payload, "id"),
        amount_minor=cash,
        currency=currency,
        items=items,
    )


def _returned(line: dict[str, Any], currency: str) -> Line:
    """A refund line as the order line it returns (same SKU rule as ``_line``), for its refunded quantity."""
    item = line["line_item"]
    quantity = int(line.get("quantity") or 1)
    return replace(
        _line(item, currency), quantity=quantity, amount_minor=to_minor(item.get("price", "0"), currency) * quantity
    )


def _is_cash(t: dict[str, Any]) -> bool:
    return t.get("kind") == "refund" and t.get("status") in (None, "success") and t.get("gateway") not in NOT_CASH


def _cash(t: dict[str, Any], payload: dict[str, Any]) -> tuple[str, int]:
    """(currency, minor units) of a refund transaction: its shop money if given, else its own amount."""
    shop = (t.get("amount_set") or {}).get("shop_money") or {}
    code = shop.get("currency_code") or shop.get("currency")
    if shop.get("amount") is not None and code:
        return str(code), to_minor(shop["amount"], str(code))
    currency = text(t, "currency") if t.get("currency") else _currency(payload)
    return currency, to_minor(t.get("amount", ""), currency)


def _currency(payload: dict[str, Any]) -> str:
    for line in payload.get("refund_line_items") or []:
        code = (((line.get("subtotal_set") or {}).get("shop_money")) or {}).get("currency_code")
        if code:
            return str(code)
    raise Malformed("the refund names no currency")
