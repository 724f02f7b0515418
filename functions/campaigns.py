"""POST|GET /v1/tenants/{tenant}/campaigns, GET|PUT /v1/tenants/{tenant}/campaigns/{campaign_id}: a tenant's
campaigns as data (issue 17 item 1), validated and versioned like the program."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from functions.http import api_view, authorized, parse_json, raw_body, respond
from shared import clock
from shared.container import container
from shared.errors import Unprocessable

if TYPE_CHECKING:
    from shared.campaigns import CampaignVersion

bp = Blueprint(__name__)
PATH = "/v1/tenants/{tenant_id}/campaigns"


def present(version: CampaignVersion) -> dict[str, Any]:
    """The campaign's fields and its version's (``activated_at`` only once it has been active)."""
    # imported here, as the service is built on first use: the campaigns' models are not loaded in the API's init
    from shared.campaigns import as_json

    served: dict[str, Any] = {"version": version.version, "effective_at": clock.iso(version.effective_at)}
    if version.activated_at is not None:
        served["activated_at"] = clock.iso(version.activated_at)
    return {**as_json(version.campaign), **served}


def _object() -> dict[str, Any]:
    payload = parse_json(raw_body(bp.current_request))
    if not isinstance(payload, dict):
        raise Unprocessable("body must be a JSON object", code="validation_error")
    return payload


def _invalid(field: str, message: str) -> Unprocessable:
    return Unprocessable(
        f"invalid fields: {field}", code="validation_error", details=[{"field": field, "message": message}]
    )


def _version(params: Mapping[str, str] | None) -> int | None:
    raw = (params or {}).get("version")
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 999_999:
        raise _invalid("version", "a version number, 1 or more")
    return int(raw)


@bp.route(PATH, methods=["POST"])
@api_view
def create_campaign(tenant_id: str) -> Response:
    tenant = authorized(bp.current_request, tenant_id)
    version = container().campaigns.create(tenant.tenant_id, _object(), clock.now())
    return respond(present(version), 201)


@bp.route(PATH, methods=["GET"])
@api_view
def list_campaigns(tenant_id: str) -> Response:
    tenant = authorized(bp.current_request, tenant_id)
    return respond({"campaigns": [present(v) for v in container().campaigns.listed(tenant.tenant_id)]})


@bp.route(PATH + "/{campaign_id}", methods=["GET"])
@api_view
def get_campaign(tenant_id: str, campaign_id: str) -> Response:
    tenant = authorized(bp.current_request, tenant_id)
    version = _version(bp.current_request.query_params)
    return respond(present(container().campaigns.get(tenant.tenant_id, campaign_id, version)))


@bp.route(PATH + "/{campaign_id}", methods=["PUT"])
@api_view
def put_campaign(tenant_id: str, campaign_id: str) -> Response:
    tenant = authorized(bp.current_request, tenant_id)
    version = container().campaigns.update(tenant.tenant_id, campaign_id, _object(), clock.now())
    return respond(present(version))
