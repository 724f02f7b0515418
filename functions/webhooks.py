"""POST /v1/tenants/{tenant}/webhooks/standard: signed order events (docs/spec.md §5).

Order of checks: size (413) → signature and freshness (401, one answer for every failure and for an unknown
tenant) → JSON (400) → fields (422, ``paid_at`` within [now − 730 days, now + 5 minutes]) → effect. Nothing is
written before every check passed; a 2xx means the effect is durable.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalice import Blueprint, Response

from functions.http import admit_delivery, api_view, parse_json, raw_body, respond, webhook_tenant
from shared import clock
from shared.api_models import EVENT_TYPES, Envelope, OrderCancelledData, OrderPaidData, OrderRefundedData
from shared.contacts import normalize_email, normalize_phone
from shared.container import container
from shared.errors import Unprocessable
from shared.observability import MetricUnit, logger, metrics
from shared.presenters import order_result
from shared.rules import Cart, lines_from
from shared.services.orders import CustomerIn, OrderResult, PaidOrderIn
from shared.tenants import Tenant
from shared.webhooks import standard
from shared.webhooks.bounds import check_paid_at
from shared.webhooks.signatures import refusals_logged

bp = Blueprint(__name__)


@bp.route("/v1/tenants/{tenant_id}/webhooks/standard", methods=["POST"])
@api_view
def standard_webhook(tenant_id: str) -> Response:
    request = bp.current_request
    body = raw_body(request)
    now = clock.now()
    with refusals_logged(tenant_id):  # one answer for every failure, whatever the tenant (issue 13)
        tenant = webhook_tenant(tenant_id)
        secrets = tenant.webhook_secrets.get("standard", [])
        event_id = standard.verify(request.headers, body, secrets, now, container().settings.webhook_tolerance_seconds)
    admit_delivery(tenant, event_id)
    envelope = Envelope.model_validate(_object(parse_json(body)))
    result = _dispatch(tenant, envelope, event_id, now)
    metrics.add_metric(name=f"Webhook_{result.status}", unit=MetricUnit.Count, value=1)
    logger.info("order event", extra={"type": envelope.type, "order_id": result.order_id, "status": result.status})
    return respond(order_result(result))


def _object(payload: object) -> dict[str, object]:
    if not isinstance(payload, dict):
        raise Unprocessable("body must be a JSON object", code="validation_error")
    return payload


def _dispatch(tenant: Tenant, envelope: Envelope, event_id: str, now: datetime) -> OrderResult:
    orders = container().orders
    order_id = envelope.data.get("order_id")
    if isinstance(order_id, str | int):
        logger.append_keys(order_id=str(order_id))  # on every line of the event, from the services' too
    if envelope.type == "order.paid":
        data = OrderPaidData.model_validate(envelope.data)
        check_paid_at(data.paid_at, now)
        c = data.customer
        customer = CustomerIn(
            c.id,
            _contact(normalize_email, c.email, "e-mail"),
            _contact(normalize_phone, c.phone, "phone"),
            c.name,
            c.birthday.isoformat() if c.birthday else None,
            c.referral_code,
        )
        cart = Cart(data.total_minor, data.shipping_minor, data.tax_minor, lines_from(data.items))
        order = PaidOrderIn(
            data.order_id, customer, data.currency, cart, data.points_redeemed, data.hold_id, data.paid_at
        )
        result = orders.paid(tenant, order, event_id, now)
        if result.status == "applied":
            metrics.add_metric(name="PointsAccrued", unit=MetricUnit.Count, value=result.points_earned)
        return result
    if envelope.type == "order.refunded":
        refund = OrderRefundedData.model_validate(envelope.data)
        items = lines_from(refund.items) if refund.items else None  # returned goods: item bonuses follow them
        return orders.refunded(
            tenant, refund.order_id, refund.refund_id, refund.amount_minor, event_id, now, items=items
        )
    if envelope.type == "order.cancelled":
        cancel = OrderCancelledData.model_validate(envelope.data)
        return orders.refunded(tenant, cancel.order_id, "CANCEL", None, event_id, now)
    raise Unprocessable(f"type must be one of {', '.join(EVENT_TYPES)}", code="unknown_event_type")


def _contact(normalize: Callable[[str], str], value: str | None, what: str) -> str | None:
    """Contact data on an order is best effort: an unusable value must not block the points."""
    try:
        return normalize(value) if value else None
    except Unprocessable:
        logger.warning(f"order carries an invalid {what}; ignored")  # never the value itself
        return None
