"""Member routes (docs/spec.md §6): view with every lot, history, look-up by contact, contact update."""

from __future__ import annotations

from chalice import Blueprint, Response
from pydantic import TypeAdapter, ValidationError

from functions.http import api_view, authorized, parse_body, respond
from shared import clock, presenters
from shared.api_models import HistoryQuery, MemberId, MemberUpdateIn
from shared.contacts import normalize_email, normalize_phone
from shared.container import container
from shared.errors import Unprocessable
from shared.services.members import ContactUpdate

bp = Blueprint(__name__)
PREFIX = "/v1/tenants/{tenant_id}/members"


_MEMBER_ID = TypeAdapter(MemberId)


def _member_id(value: str) -> str:
    try:
        return _MEMBER_ID.validate_python(value)
    except ValidationError as exc:
        detail = [{"field": "member_id", "message": "1-128 of A-Z a-z 0-9 . _ : @ + -"}]
        raise Unprocessable("invalid member_id", code="validation_error", details=detail) from exc


@bp.route(PREFIX, methods=["GET"])
@api_view
def find_members(tenant_id: str) -> Response:
    authorized(bp.current_request, tenant_id)
    params = dict(bp.current_request.query_params or {})
    email, phone = params.get("email"), params.get("phone")
    if bool(email) == bool(phone):
        raise Unprocessable("give exactly one of ?email= or ?phone=", code="validation_error")
    found = container().members.find(
        tenant_id, normalize_email(email) if email else None, normalize_phone(phone) if phone else None
    )
    return respond({"members": [{"member_id": m} for m in found]})


@bp.route(PREFIX + "/{member_id}", methods=["GET"])
@api_view
def get_member(tenant_id: str, member_id: str) -> Response:
    tenant = authorized(bp.current_request, tenant_id)
    now = clock.now()
    view = container().members.view(tenant_id, _member_id(member_id), tenant.program_at(now).settings, now)
    return respond(presenters.member(view))


@bp.route(PREFIX + "/{member_id}/history", methods=["GET"])
@api_view
def member_history(tenant_id: str, member_id: str) -> Response:
    authorized(bp.current_request, tenant_id)
    query = HistoryQuery.model_validate(bp.current_request.query_params or {})
    page = container().members.history(tenant_id, _member_id(member_id), query.limit, query.cursor)
    return respond(presenters.history(page))


@bp.route(PREFIX + "/{member_id}", methods=["PUT"])
@api_view
def put_member(tenant_id: str, member_id: str) -> Response:
    authorized(bp.current_request, tenant_id)
    body = parse_body(bp.current_request, MemberUpdateIn)
    consent = body.consent.model_dump(exclude_none=True) if body.consent else None
    update = ContactUpdate(
        normalize_email(body.email) if body.email else None,
        normalize_phone(body.phone) if body.phone else None,
        body.name,
        body.birthday.isoformat() if body.birthday else None,
        consent,
    )
    profile = container().members.update_contact(tenant_id, _member_id(member_id), update)
    return respond({"member_id": member_id, **presenters.profile(profile)})
