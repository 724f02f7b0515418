"""The customer cabinet (issue 16): passwordless login by a code, the session cookie, and the customer's own view.

Routes are the customer's, not the merchant's: no API key; a session cookie bound to one tenant and one member
(decision 66). The cookie is HttpOnly (the page's scripts never see the token), Secure and SameSite=Strict (no
other site's page can send it). Its path is ``/``: the cabinet's path as a browser sees it differs by deployment
(API Gateway's stage, an emulator's path-style URL, a CDN in front), and no other route reads the cookie; a session
is bound to its tenant by its key, so another shop's cabinet finds none. Answers that carry a token or the
customer's data are never cached.
"""

from __future__ import annotations

import re

from chalice import Blueprint, Response

from functions.http import api_view, parse_body, respond
from shared import clock, presenters
from shared.api_models import CabinetLoginIn, CabinetVerifyIn
from shared.cabinet_login import CODE_TTL, RESEND_AFTER, SESSION_TTL
from shared.contacts import normalize_email, normalize_phone
from shared.container import container
from shared.errors import Forbidden, NotFound
from shared.observability import logger
from shared.tenants import Tenant

bp = Blueprint(__name__)
PREFIX = "/v1/tenants/{tenant_id}/cabinet"
COOKIE = "cabinet_session"
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # shared.cabinet_login.new_session_token: 32 bytes, URL-safe base64
BODY_LIMIT = 2048  # a contact and a code: the public routes read nothing bigger


def _tenant(tenant_id: str) -> Tenant:
    """The shop of the cabinet: an unknown one is 404; a suspended one's cabinet is closed (403, nothing read)."""
    tenant = container().tenants.get(tenant_id)
    if tenant is None or not tenant.known:
        raise NotFound("no such shop", code="tenant_not_found")
    if tenant.suspended:
        raise Forbidden("this shop's cabinet is closed for now", code="cabinet_closed")
    logger.append_keys(tenant_id=tenant_id)
    return tenant


def _contact(value: str) -> str:
    value = value.strip()
    return normalize_email(value) if "@" in value else normalize_phone(value)


def _source() -> str:
    identity = (bp.current_request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


def _token() -> str | None:
    """The session token of the request's first ``cabinet_session`` cookie (browsers send the most specific path
    first), read by hand: one malformed cookie of another name must not hide it."""
    for pair in bp.current_request.headers.get("cookie", "").split(";"):
        name, _, value = pair.strip().partition("=")
        if name == COOKIE:
            return value if TOKEN.fullmatch(value) else None
    return None


def _private(response: Response, token: str | None = None, max_age: int = 0) -> Response:
    """No cache keeps the answer; with ``token`` (or ending one: empty) the session cookie is set."""
    response.headers["Cache-Control"] = "no-store"
    if token is not None:
        cookie = f"{COOKIE}={token}; Path=/; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict"
        response.headers["Set-Cookie"] = cookie
    return response


@bp.route(PREFIX + "/login", methods=["POST"])
@api_view
def login(tenant_id: str) -> Response:
    tenant = _tenant(tenant_id)
    body = parse_body(bp.current_request, CabinetLoginIn, BODY_LIMIT)
    container().cabinet.request_code(tenant, _contact(body.contact), _source(), clock.now())
    answer = {
        "status": "code_requested",
        "expires_in_seconds": int(CODE_TTL.total_seconds()),
        "resend_after_seconds": int(RESEND_AFTER.total_seconds()),
    }
    return respond(answer, 202)


@bp.route(PREFIX + "/verify", methods=["POST"])
@api_view
def verify(tenant_id: str) -> Response:
    tenant = _tenant(tenant_id)
    body = parse_body(bp.current_request, CabinetVerifyIn, BODY_LIMIT)
    opened = container().cabinet.verify(tenant, _contact(body.contact), body.code, clock.now())
    response = respond({"member_id": opened.session.member_id, "expires_at": clock.iso(opened.session.expires_at)})
    return _private(response, opened.token, int(SESSION_TTL.total_seconds()))


@bp.route(PREFIX + "/me", methods=["GET"])
@api_view
def me(tenant_id: str) -> Response:
    tenant = _tenant(tenant_id)
    now = clock.now()
    session = container().cabinet.session(tenant, _token(), now)
    view = container().members.view(tenant_id, session.member_id, tenant.program_at(now).settings, now)
    return _private(respond(presenters.member(view)))


@bp.route(PREFIX + "/logout", methods=["POST"])
@api_view
def logout(tenant_id: str) -> Response:
    """The cookie is cleared whatever the shop's state (a closed cabinet too); the session ends if the shop is known."""
    tenant = container().tenants.get(tenant_id)
    if tenant is not None and tenant.known:
        container().cabinet.log_out(tenant, _token())
    return _private(respond({"status": "logged_out"}), "", 0)
