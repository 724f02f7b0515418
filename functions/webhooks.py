"""POST /v1/tenants/{tenant}/webhooks/standard: signed order events (docs/spec.md §5).

Order of checks: size (413) → signature and freshness (401, one answer for every failure and for an unknown
tenant) → JSON (400) → fields (422, ``paid_at`` within [now − 730 days, now + 5 minutes]) → effect. Nothing is
written before every check passed; a 2xx means the effect is durable. The event is read into the commands that
the platforms' webhooks produce too (shared/webhooks/standard.py), and applied by the one intake
(shared/services/webhook_intake.py), whose failures this webhook answers as 4xx.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from functions.http import admit_delivery, api_view, parse_json, raw_body, respond, webhook_tenant
from shared import clock
from shared.container import container
from shared.observability import MetricUnit, logger, metrics
from shared.presenters import order_result
from shared.webhooks import standard
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
    delivery = standard.delivery(parse_json(body), event_id, now)
    [result] = container().intake.apply(tenant, delivery, event_id, now)  # one event, one command
    metrics.add_metric(name=f"Webhook_{result.status}", unit=MetricUnit.Count, value=1)
    if result.status == "applied":
        metrics.add_metric(name="PointsAccrued", unit=MetricUnit.Count, value=result.points_earned)
    logger.info("order event", extra={"type": delivery.topic, "order_id": result.order_id, "status": result.status})
    return respond(order_result(result))
