"""Holiday / bulk grants (docs/spec.md §8): POST answers 202 at once, the sweep worker does the rest; GET shows progress."""

from __future__ import annotations

from chalice import Blueprint, Response
from pydantic import TypeAdapter, ValidationError

from functions.http import api_view, authorized, parse_body, respond
from shared import clock, presenters
from shared.api_models import GrantId, GrantIn
from shared.container import container
from shared.errors import Unprocessable
from shared.grants import GrantRequest

bp = Blueprint(__name__)
PREFIX = "/v1/tenants/{tenant_id}/grants"
MAX_GRANT_BODY = 2 * 1024 * 1024  # 10,000 member ids of up to 128 characters fit
_GRANT_ID = TypeAdapter(GrantId)


def _request(body: GrantIn) -> GrantRequest:
    segment = body.segment
    kind = "all" if segment.all else "tier" if segment.tier is not None else "member_ids"
    ids = tuple(dict.fromkeys(segment.member_ids or ()))  # distinct, in the order given
    return GrantRequest(
        grant_id=body.grant_id,
        segment=kind,
        tier=segment.tier,
        member_ids=ids,
        points=body.points,
        expires_at=body.expires_at,
        lifetime_days=body.lifetime_days,
        reason=body.reason,
        notify=tuple(dict.fromkeys(body.notify)),
    )


@bp.route(PREFIX, methods=["POST"])
@api_view
def create_grant(tenant_id: str) -> Response:
    tenant = authorized(bp.current_request, tenant_id)
    body = parse_body(bp.current_request, GrantIn, MAX_GRANT_BODY)
    grant = container().grants.create(tenant, _request(body), clock.now())
    return respond(presenters.grant(grant), 202)


@bp.route(PREFIX + "/{grant_id}", methods=["GET"])
@api_view
def get_grant(tenant_id: str, grant_id: str) -> Response:
    authorized(bp.current_request, tenant_id)
    try:
        _GRANT_ID.validate_python(grant_id)
    except ValidationError as exc:
        detail = [{"field": "grant_id", "message": "1-64 of A-Z a-z 0-9 . _ : -"}]
        raise Unprocessable("invalid grant_id", code="validation_error", details=detail) from exc
    return respond(presenters.grant(container().grants.get(tenant_id, grant_id)))
