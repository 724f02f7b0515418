"""The customer cabinet, a transfer to a friend from the cabinet (item 5): by the friend's phone, e-mail or referral
code (issue 16; ``shared.services.cabinet_transfers``)."""

from __future__ import annotations

from chalice import Blueprint, Response

from functions.customer import BODY_LIMIT, PREFIX, customer, private
from functions.http import api_view, parse_body, respond
from shared.api_models import CabinetTransferIn
from shared.container import container
from shared.observability import MetricUnit, metrics
from shared.services.cabinet_transfers import FriendTransfer

bp = Blueprint(__name__)


@bp.route(PREFIX + "/me/transfers", methods=["POST"])
@api_view
def send_to_friend(tenant_id: str) -> Response:
    who = customer(bp.current_request, tenant_id)
    body = parse_body(bp.current_request, CabinetTransferIn, BODY_LIMIT)
    request = FriendTransfer(body.transfer_id, body.to, body.points)
    sent = container().cabinet_transfers.send(who.tenant, who.member_id, request, who.now)
    if sent.status == "applied":
        metrics.add_metric(name="PointsTransferred", unit=MetricUnit.Count, value=sent.points)
    answer = {
        "status": sent.status,
        "transfer_id": sent.transfer_id,
        "points": sent.points,
        "to": sent.to,
        "balance": sent.balance,
    }
    return private(respond(answer, 201 if sent.status == "applied" else 200))
