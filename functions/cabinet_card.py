"""The customer cabinet, the digital card (issue 16 item 4): a QR code of an opaque card token, its rotation, and
the till's look-up by card.

The cabinet's two routes are the customer's (the session cookie, ``functions.customer``); the look-up is the
merchant's (the API key, as every ``members`` route): the till scans the QR code and asks who it is.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from functions.customer import PREFIX, customer, private
from functions.http import api_view, authorized, respond
from shared import clock, presenters
from shared.card import Card, qr_svg
from shared.container import container

bp = Blueprint(__name__)


@bp.route(PREFIX + "/me/card", methods=["GET"])
@api_view
def my_card(tenant_id: str) -> Response:
    who = customer(bp.current_request, tenant_id)
    card = container().cards.card(tenant_id, who.member_id, who.now)
    return private(respond(_shown(card, who.tenant.program_at(who.now).settings.language)))


@bp.route(PREFIX + "/me/card/rotate", methods=["POST"])
@api_view
def rotate_card(tenant_id: str) -> Response:
    """Any body is ignored: the session says whose card it is, and there is nothing to choose."""
    who = customer(bp.current_request, tenant_id)
    card = container().cards.rotate(tenant_id, who.member_id, who.now)
    return private(respond(_shown(card, who.tenant.program_at(who.now).settings.language)))


@bp.route("/v1/tenants/{tenant_id}/members/by-card/{token}", methods=["GET"])
@api_view
def member_by_card(tenant_id: str, token: str) -> Response:
    tenant = authorized(bp.current_request, tenant_id)
    now = clock.now()
    member_id = container().cards.member_of(tenant_id, token)
    view = container().members.view(tenant_id, member_id, tenant.program_at(now).settings, now)
    return respond(presenters.member(view))


def _shown(card: Card, language: str) -> dict[str, str]:
    return {"token": card.token, "qr_svg": qr_svg(card.token, language), "rotated_at": clock.iso(card.issued_at)}
