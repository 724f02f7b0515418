"""The customer cabinet (issue 16): passwordless login by a code, the session cookie, and the customer's own view.

Routes are the customer's, not the merchant's: no API key; a session cookie bound to one tenant and one member
(decision 66; ``functions.customer``). Answers that carry a token or the customer's data are never cached.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from functions.customer import (
    BODY_LIMIT,
    PREFIX,
    code_requested,
    contact,
    cookie_value,
    credentials,
    customer,
    private,
    shop,
    source,
    token,
)
from functions.http import api_view, parse_body, respond
from shared import clock, presenters
from shared.api_models import CabinetLoginIn, CabinetVerifyIn, HistoryQuery
from shared.cabinet_login import SESSION_TTL
from shared.container import container
from shared.referral import share_link

bp = Blueprint(__name__)


@bp.route(PREFIX + "/login", methods=["POST"])
@api_view
def login(tenant_id: str) -> Response:
    tenant = shop(tenant_id)
    body = parse_body(bp.current_request, CabinetLoginIn, BODY_LIMIT)
    container().cabinet.request_code(tenant, contact(body.contact), source(bp.current_request), clock.now())
    return code_requested()


@bp.route(PREFIX + "/verify", methods=["POST"])
@api_view
def verify(tenant_id: str) -> Response:
    tenant = shop(tenant_id)
    body = parse_body(bp.current_request, CabinetVerifyIn, BODY_LIMIT)
    opened = container().cabinet.verify(tenant, contact(body.contact), body.code, clock.now())
    response = respond({"member_id": opened.session.member_id, "expires_at": clock.iso(opened.session.expires_at)})
    value = cookie_value(opened.token, opened.session.member_id)
    return private(response, value, int(SESSION_TTL.total_seconds()))


@bp.route(PREFIX + "/shop", methods=["GET"])
@api_view
def shop_face(tenant_id: str) -> Response:
    """What the page shows before anyone logs in: the shop's name, colour and language, and how one may log in."""
    program = shop(tenant_id).current.settings
    response = respond(presenters.cabinet_shop(tenant_id, program))
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.route(PREFIX + "/me", methods=["GET"])
@api_view
def me(tenant_id: str) -> Response:
    tenant, now = shop(tenant_id), clock.now()
    program = tenant.program_at(now).settings
    member = container().cabinet.signed_in(tenant, *credentials(bp.current_request), now)  # one read request
    view = container().members.view_of(tenant_id, member, program, now)
    link = share_link(program.cabinet.share_url, _page_url(tenant_id), view.referral_code)
    return private(respond({**presenters.member(view), "currency": program.currency, "share_link": link}))


@bp.route(PREFIX + "/me/history", methods=["GET"])
@api_view
def my_history(tenant_id: str) -> Response:
    """The customer's entries and the messages sent to them, newest first; the cursor opens only this member's."""
    who = customer(bp.current_request, tenant_id)
    query = HistoryQuery.model_validate(bp.current_request.query_params or {})
    page = container().members.history(tenant_id, who.member_id, query.limit, query.cursor)
    return private(respond(presenters.customer_history(page, who.member_id)))


def _page_url(tenant_id: str) -> str:
    """The cabinet page's address as the customer reached this API (the stage and any base path included)."""
    request = bp.current_request
    context = request.context or {}
    path = str(context.get("path") or f"/v1/tenants/{tenant_id}/cabinet/me")
    host = request.headers.get("host", "localhost")
    local = host.split(":")[0] in ("localhost", "127.0.0.1")  # the emulator speaks http; API Gateway only https
    scheme = request.headers.get("x-forwarded-proto") or ("http" if local else "https")
    return f"{scheme}://{host}{path.rsplit('/me', 1)[0]}"


@bp.route(PREFIX + "/logout", methods=["POST"])
@api_view
def logout(tenant_id: str) -> Response:
    """The cookie is cleared whatever the shop's state (a closed cabinet too); the session ends if the shop is known."""
    tenant = container().tenants.get(tenant_id)
    if tenant is not None and tenant.known:
        container().cabinet.log_out(tenant, token(bp.current_request))
    return private(respond({"status": "logged_out"}), "", 0)
