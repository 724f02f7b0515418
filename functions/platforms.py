"""POST /v1/tenants/{tenant}/webhooks/{shopify|stripe|woocommerce}: the platforms' own webhooks (issue 4).

Order of checks as for the standard webhook: size (413) → signature (401) → body of a known topic (400) →
suspension (503) → bounds (422: a payment time outside the window, an amount above 10^12 minor units) → effect.
Every signature failure, and an unknown tenant, answers the same 401 body; WooCommerce's unsigned ping answers the
same 200 for every tenant, before the tenant is looked up (issue 13). A platform disables an endpoint that keeps
failing, so what can never succeed is answered 200 with its reason: unknown topics, orders that were never paid
here, and business rejections (another currency, a refund in another currency, too few points), which are logged
and counted (shared/services/webhook_intake.py decides which). A 5xx is left for transient faults only, so that the
platform retries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from chalice import Blueprint, Response

from functions.http import admit_delivery, api_view, raw_body, respond, webhook_tenant
from shared import clock
from shared.container import container
from shared.observability import MetricUnit, logger, metrics
from shared.presenters import order_result
from shared.services.webhook_intake import ignored
from shared.webhooks import shopify, stripe, woocommerce
from shared.webhooks.commands import Delivery, Ignore
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
        pings = [ignored(c) for c in woocommerce.ping().commands if isinstance(c, Ignore)]
        return respond({"topic": "ping", "results": [order_result(r) for r in pings]})
    with refusals_logged(tenant_id):  # one answer for every signature failure, whatever the tenant (issue 13)
        tenant = webhook_tenant(tenant_id)
        delivery = _delivery(platform, request.headers, body, tenant.webhook_secrets.get(platform, []), now)
    admit_delivery(tenant, delivery.key or None, platform=platform)
    results = container().intake.settle(tenant, delivery, f"{platform}:{delivery.key}", now)
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
