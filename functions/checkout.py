"""Checkout redemption routes (docs/spec.md §4): quote, hold, capture, release."""

from __future__ import annotations

from chalice import Blueprint, Response

from functions.http import api_view, authorized, parse_body, respond
from shared import clock, presenters
from shared.api_models import CaptureIn, HoldIn, QuoteIn
from shared.container import container
from shared.errors import Unprocessable
from shared.observability import MetricUnit, logger, metrics
from shared.rules import Cart, lines_from

bp = Blueprint(__name__)
PREFIX = "/v1/tenants/{tenant_id}"


@bp.route(PREFIX + "/checkout/quote", methods=["POST"])
@api_view
def quote(tenant_id: str) -> Response:
    tenant = authorized(bp.current_request, tenant_id)
    body = parse_body(bp.current_request, QuoteIn)
    cart = Cart(body.total_minor, body.shipping_minor, body.tax_minor, lines_from(body.items))
    result = container().checkout.quote(tenant, body.member_id, body.currency, cart, clock.now())
    return respond(presenters.quote(result))


@bp.route(PREFIX + "/holds", methods=["POST"])
@api_view
def create_hold(tenant_id: str) -> Response:
    tenant = authorized(bp.current_request, tenant_id)
    body = parse_body(bp.current_request, HoldIn)
    logger.append_keys(order_id=body.order_id)
    now = clock.now()
    if body.currency and body.currency != tenant.program_at(now).settings.currency:
        raise Unprocessable(f"carts must be in {tenant.program_at(now).settings.currency}", code="currency_mismatch")
    cart = Cart(body.total_minor, body.shipping_minor, body.tax_minor) if body.total_minor else None
    result = container().checkout.hold(tenant, body.member_id, body.order_id, body.points, cart, now)
    return respond(presenters.hold(result), 201)


@bp.route(PREFIX + "/holds/{hold_id}/capture", methods=["POST"])
@api_view
def capture_hold(tenant_id: str, hold_id: str) -> Response:
    tenant = authorized(bp.current_request, tenant_id)
    body = parse_body(bp.current_request, CaptureIn) if bp.current_request.raw_body else CaptureIn()
    result = container().checkout.capture(tenant, hold_id, body.points, clock.now())
    metrics.add_metric(name="PointsRedeemed", unit=MetricUnit.Count, value=result.points)
    return respond(presenters.hold(result))


@bp.route(PREFIX + "/holds/{hold_id}/release", methods=["POST"])
@api_view
def release_hold(tenant_id: str, hold_id: str) -> Response:
    tenant = authorized(bp.current_request, tenant_id)
    result = container().checkout.release(tenant, hold_id, clock.now())
    return respond(presenters.hold(result))
