"""Merchant reports: ``GET /v1/tenants/{tenant}/reports/abc``, the VIP (ABC) classes of a period (docs/spec.md §8)."""

from __future__ import annotations

from chalice import Blueprint, Response

from functions.http import api_view, authorized, respond
from shared import clock, presenters
from shared.api_models import AbcQuery
from shared.container import container

bp = Blueprint(__name__)


@bp.route("/v1/tenants/{tenant_id}/reports/abc", methods=["GET"])
@api_view
def abc_report(tenant_id: str) -> Response:
    tenant = authorized(bp.current_request, tenant_id)
    query = AbcQuery.model_validate(bp.current_request.query_params or {})
    report = container().abc.report(tenant, query.metric, query.period_days, clock.now())
    return respond(presenters.abc_report(report, query.member_id, query.limit, int(query.cursor or 0)))
