"""GET|PUT /v1/tenants/{tenant}/program: the tenant's program settings, validated and versioned."""

from __future__ import annotations

import json

from chalice import Blueprint, Response

from functions.http import api_view, authorized, parse_json, raw_body, respond
from shared import clock, presenters
from shared.container import container
from shared.errors import Unprocessable
from shared.program import ProgramSettings
from shared.tenants import refuse_operator_settings

bp = Blueprint(__name__)


@bp.route("/v1/tenants/{tenant_id}/program", methods=["GET"])
@api_view
def get_program(tenant_id: str) -> Response:
    tenant = authorized(bp.current_request, tenant_id)
    return respond(presenters.program(tenant.current))


@bp.route("/v1/tenants/{tenant_id}/program", methods=["PUT"])
@api_view
def put_program(tenant_id: str) -> Response:
    tenant = authorized(bp.current_request, tenant_id)
    payload = parse_json(raw_body(bp.current_request))
    if not isinstance(payload, dict):
        raise Unprocessable("body must be a JSON object", code="validation_error")
    payload = {k: v for k, v in payload.items() if k not in ("version", "effective_at")}
    refuse_operator_settings(tenant, payload)  # the sender and staff topic are the operator's: 403 operator_setting
    merged = {**tenant.current.settings.model_dump(mode="json"), **payload}  # PUT of a subset keeps the rest
    # JSON-mode strict validation: "5" is not an int, yet ISO-8601 strings are datetimes, as on the wire
    settings = ProgramSettings.model_validate_json(json.dumps(merged), strict=True)
    version = container().tenants.update_program(tenant, settings, clock.now())
    return respond(presenters.program(version))
