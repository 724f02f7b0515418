"""POST /v1/tenants/{tenant}/webhooks/{shopify|stripe|woocommerce}: the platforms' own webhooks (issue 4).

Order of checks as for the standard webhook: size (413) → signature (401) → body of a known topic (400) →
suspension (503) → bounds (422: a payment time outside the window, an amount above 10^12 minor units) → effect.
Every signature failure, and an unknown tenant, answers the same 401 body; WooCommerce's unsigned ping answers the
same 200 for every tenant, before the tenant is looked up (issue 13). A platform disables an endpoint that keeps
failing, so what can never succeed is answered 200 with its reason: unknown topics, orders that were never paid
here, and business rejections (another currency, a refund in another currency, too few points), which are logged
and counted. A 5xx is left for transient faults only, so that the platform retries.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from chalice import Blueprint, Response

from functions.http import admit_delivery, api_view, raw_body, respond, webhook_tenant
from shared import clock
from shared.contacts import normalize_email, normalize_phone
from shared.container import container
from shared.errors import AppError, NotFound, Unprocessable
from shared.hold_codes import hold_id_for
from shared.observability import MetricUnit, logger, metrics
from shared.presenters import order_result
from shared.services.orders import CustomerIn, OrderResult, PaidOrderIn
from shared.tenants import Tenant
from shared.webhooks import shopify, stripe, woocommerce
from shared.webhooks.bounds import check_command
from shared.webhooks.commands import Cancel, Command, Delivery, Ignore, Paid, Refund, Reject
from shared.webhooks.payloads import Malformed
from shared.webhooks.signatures import refusals_logged

bp = Blueprint(__name__)
Receiver = Callable[[Mapping[str, str], bytes, Sequence[str], datetime, int], Delivery]
ADAPTERS: dict[str, Receiver] = {
    "shopify": shopify.receive,
    "stripe": stripe.receive,
    "woocommerce": woocommerce.receive,
}
FORM_AND_JSON = ["application/json", "application/x-www-form-urlencoded"]
MEMBER_ID = re.compile(r"^[A-Za-z0-9._:@+\-]{1,128}$")  # as shared/api_models.MemberId


@bp.route("/v1/tenants/{tenant_id}/webhooks/shopify", methods=["POST"], content_types=FORM_AND_JSON)
@api_view
def shopify_webhook(tenant_id: str) -> Response:
    return receive("shopify", tenant_id)


@bp.route("/v1/tenants/{tenant_id}/webhooks/stripe", methods=["POST"], content_types=FORM_AND_JSON)
@api_view
def stripe_webhook(tenant_id: str) -> Response:
    return receive("stripe", tenant_id)


@bp.route("/v1/tenants/{tenant_id}/webhooks/woocommerce", methods=["POST"], content_types=FORM_AND_JSON)
@api_view
def woocommerce_webhook(tenant_id: str) -> Response:
    return receive("woocommerce", tenant_id)


def receive(platform: str, tenant_id: str) -> Response:
    request = bp.current_request
    body = raw_body(request)
    now = clock.now()
    if platform == "woocommerce" and woocommerce.is_ping(request.headers, body):
        # before the tenant is looked up: the same 200 for every tenant, known or not, suspended or not (issue 13)
        logger.info("woocommerce ping", extra={"path_tenant_id": tenant_id})
        return respond({"topic": "ping", "results": [order_result(_ignored(c)) for c in woocommerce.ping().commands]})
    with refusals_logged(tenant_id):  # one answer for every signature failure, whatever the tenant (issue 13)
        tenant = webhook_tenant(tenant_id)
        delivery = _delivery(platform, request.headers, body, tenant.webhook_secrets.get(platform, []), now)
    admit_delivery(tenant, delivery.key or None, platform=platform)
    for command in delivery.commands:  # all of a delivery is within bounds, or none of it is applied (422)
        check_command(command, now)
    results = [_apply(tenant, command, f"{platform}:{delivery.key}", now) for command in delivery.commands]
    for result in results:
        metrics.add_metric(name=f"Webhook_{result.status}", unit=MetricUnit.Count, value=1)
        if result.status == "applied" and (result.reason or "").startswith("hold_code_"):
            metrics.add_metric(name="HoldCodeCharged", unit=MetricUnit.Count, value=1)  # alarmed: codes reused
        logger.info(
            "platform event",
            extra={
                "topic": delivery.topic,
                "order_id": result.order_id,
                "status": result.status,
                "reason": result.reason,
            },
        )
    return respond({"topic": delivery.topic, "results": [order_result(r) for r in results]})


def _delivery(
    platform: str, headers: Mapping[str, str], body: bytes, secrets: Sequence[str], now: datetime
) -> Delivery:
    try:
        return ADAPTERS[platform](headers, body, secrets, now, container().settings.webhook_tolerance_seconds)
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:  # a field of the wrong shape
        raise Malformed(f"the {platform} payload is not valid: {type(exc).__name__}") from exc


def _apply(tenant: Tenant, command: Command, event_id: str, now: datetime) -> OrderResult:
    orders = container().orders
    logger.append_keys(order_id=_order_id(command) or None)  # a delivery may carry several orders' commands
    try:
        if isinstance(command, Paid):
            return orders.paid(tenant, _order(command), event_id, now)
        if isinstance(command, Refund):
            return _refund(tenant, command, event_id, now)
        if isinstance(command, Cancel):
            if command.only_if_earned and not _earned(tenant, command.order_id):
                return OrderResult("ignored", command.order_id, reason="order_not_earned")
            return orders.refunded(tenant, command.order_id, "CANCEL", None, event_id, now)
        if isinstance(command, Reject):
            raise Unprocessable("the delivery cannot be applied", code=command.reason)
    except NotFound as exc:
        return OrderResult("ignored", _order_id(command), reason=exc.code)
    except AppError as exc:
        if exc.status >= 500:
            raise
        logger.warning("platform event rejected", extra={"code": exc.code})
        return OrderResult("rejected", _order_id(command), reason=exc.code)
    return _ignored(command)


def _refund(tenant: Tenant, command: Refund, event_id: str, now: datetime) -> OrderResult:
    """A refund in the tenant's currency; one in another currency is refused, never read as the order's."""
    if command.currency is not None and command.currency != tenant.current.settings.currency:
        raise Unprocessable(
            f"the refund is in {command.currency}, the orders in {tenant.current.settings.currency}",
            code="refund_currency_mismatch",
        )
    return container().orders.refunded(
        tenant,
        command.order_id,
        command.refund_id,
        command.amount_minor,
        event_id,
        now,
        command.cumulative_minor,
        items=command.items or None,
    )


def _ignored(command: Command) -> OrderResult:
    assert isinstance(command, Ignore)
    return OrderResult("ignored", "", reason=command.reason)


def _earned(tenant: Tenant, order_id: str) -> bool:
    """Whether the order was paid here (or voided: the service then answers ``order_cancelled``). A PAID entry is
    never removed, so a cancellation applied after this read cannot meet an order that has not earned."""
    state = container().store.load_order(tenant.tenant_id, order_id)
    return state.paid is not None or state.voided


def _order_id(command: Command) -> str:
    return str(getattr(command, "order_id", ""))


def _order(paid: Paid) -> PaidOrderIn:
    c = paid.customer
    customer = CustomerIn(c.member_id, _contact(normalize_email, c.email), _contact(normalize_phone, c.phone), c.name)
    if not MEMBER_ID.match(c.member_id):
        raise Unprocessable("the platform's customer id cannot be a member id", code="invalid_member_id")
    hold_code = next((code for code in paid.hold_codes if hold_id_for(code)), None)
    cart = replace(paid.cart, lines=paid.lines)  # lines carry the categories and SKUs the rules weigh
    return PaidOrderIn(paid.order_id, customer, paid.currency, cart, 0, None, paid.paid_at, hold_code)


def _contact(normalize: Callable[[str], str], value: Any) -> str | None:
    try:
        return normalize(str(value)) if value else None
    except Unprocessable:
        return None  # contact data on an order is best effort; never logged
