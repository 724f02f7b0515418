"""What every cabinet route needs (issue 16): the shop (open, known), the customer's session from its cookie, and
answers no cache keeps.

The cookie is HttpOnly (the page's scripts never see the token), Secure and SameSite=Strict (no other site's page
can send it). Its path is ``/``: the cabinet's path as a browser sees it differs by deployment (API Gateway's stage,
an emulator's path-style URL, a CDN in front), and no other route reads the cookie; a session is bound to its
tenant by its key, so another shop's cabinet finds none (decision 66).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from chalice import Response
from chalice.app import Request

from functions.http import respond
from shared import clock
from shared.cabinet_login import CODE_TTL, RESEND_AFTER
from shared.contacts import normalize_email, normalize_phone
from shared.container import container
from shared.errors import Forbidden, NotFound
from shared.observability import logger
from shared.tenants import Tenant

COOKIE = "cabinet_session"
# <token>~<member id>: the token (shared.cabinet_login.new_session_token: 32 bytes, URL-safe base64) opens the session;
# the member id beside it only lets `me` read the session and the member in one request (the session must name it)
VALUE = re.compile(r"([A-Za-z0-9_-]{43})(?:~([A-Za-z0-9._:@+-]{1,128}))?")
BODY_LIMIT = 2048  # a contact, a code, a questionnaire: the customer's routes read nothing bigger
PREFIX = "/v1/tenants/{tenant_id}/cabinet"


@dataclass(frozen=True)
class Customer:
    """A logged-in customer: the open shop, the member the session is bound to, and the request's time."""

    tenant: Tenant
    member_id: str
    now: datetime


def shop(tenant_id: str) -> Tenant:
    """The shop of the cabinet: an unknown one is 404; a suspended one's cabinet is closed (403, nothing read)."""
    tenant = container().tenants.get(tenant_id)
    if tenant is None or not tenant.known:
        raise NotFound("no such shop", code="tenant_not_found")
    if tenant.suspended:
        raise Forbidden("this shop's cabinet is closed for now", code="cabinet_closed")
    logger.append_keys(tenant_id=tenant_id)
    return tenant


def customer(request: Request, tenant_id: str) -> Customer:
    """The customer of the request's session in this shop: 401 ``not_logged_in`` without a live one."""
    tenant = shop(tenant_id)
    now = clock.now()
    session = container().cabinet.session(tenant, token(request), now)
    return Customer(tenant=tenant, member_id=session.member_id, now=now)


def contact(value: str) -> str:
    """A phone (E.164) or an e-mail address, normalized as the members' contacts are."""
    value = value.strip()
    return normalize_email(value) if "@" in value else normalize_phone(value)


def source(request: Request) -> str:
    identity = (request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


def credentials(request: Request) -> tuple[str | None, str | None]:
    """The session token and member id of the request's first ``cabinet_session`` cookie (browsers send the most
    specific path first), read by hand: one malformed cookie of another name must not hide it."""
    for pair in request.headers.get("cookie", "").split(";"):
        name, _, value = pair.strip().partition("=")
        if name == COOKIE:
            found = VALUE.fullmatch(value)
            return (found.group(1), found.group(2)) if found else (None, None)
    return None, None


def token(request: Request) -> str | None:
    return credentials(request)[0]


def cookie_value(session_token: str, member_id: str) -> str:
    return f"{session_token}~{member_id}"


def code_requested() -> Response:
    """The answer to a request for a code (a login's or a new contact's): the same whoever's the contact is."""
    answer = {
        "status": "code_requested",
        "expires_in_seconds": int(CODE_TTL.total_seconds()),
        "resend_after_seconds": int(RESEND_AFTER.total_seconds()),
    }
    return respond(answer, 202)


def private(response: Response, session_token: str | None = None, max_age: int = 0) -> Response:
    """No cache keeps the answer; with ``session_token`` (or ending one: empty) the session cookie is set."""
    response.headers["Cache-Control"] = "no-store"
    if session_token is not None:
        cookie = f"{COOKIE}={session_token}; Path=/; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict"
        response.headers["Set-Cookie"] = cookie
    return response
