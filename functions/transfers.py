"""POST /v1/tenants/{tenant}/transfers: points from one member to another (docs/spec.md §8)."""

from __future__ import annotations

from chalice import Blueprint, Response

from functions.http import api_view, authorized, parse_body, respond
from shared import clock, presenters
from shared.api_models import TransferBody
from shared.container import container
from shared.observability import MetricUnit, metrics
from shared.services.transfers import TransferIn

bp = Blueprint(__name__)


@bp.route("/v1/tenants/{tenant_id}/transfers", methods=["POST"])
@api_view
def create_transfer(tenant_id: str) -> Response:
    tenant = authorized(bp.current_request, tenant_id)
    body = parse_body(bp.current_request, TransferBody)
    request = TransferIn(body.transfer_id, body.from_member_id, body.to_member_id, body.points)
    result = container().transfers.transfer(tenant, request, clock.now())
    if result.status == "applied":
        metrics.add_metric(name="PointsTransferred", unit=MetricUnit.Count, value=result.points)
    return respond(presenters.transfer(result), 201 if result.status == "applied" else 200)
