"""The customer cabinet, feedback on a paid order (item 6): the customer's rating and the merchant's list (issue 16;
``shared.services.feedback``)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from functions.customer import PREFIX, customer, private
from functions.http import api_view, authorized, parse_body, respond
from shared import clock
from shared.api_models import FeedbackIn, FeedbackQuery
from shared.container import container
from shared.feedback import Feedback
from shared.services.feedback import Rating

bp = Blueprint(__name__)
# A comment of 1000 characters, each up to 12 bytes as JSON (an escaped surrogate pair), and the rest of the body
FEEDBACK_BODY_LIMIT = 16 * 1024


def feedback_body(feedback: Feedback) -> dict[str, Any]:
    return {
        "order_id": feedback.order_id,
        "score": feedback.score,
        "comment": feedback.comment,
        "created_at": clock.iso(feedback.created_at),
        "reward_points": feedback.reward_points,
    }


@bp.route(PREFIX + "/me/feedback", methods=["POST"])
@api_view
def rate_order(tenant_id: str) -> Response:
    who = customer(bp.current_request, tenant_id)
    body = parse_body(bp.current_request, FeedbackIn, FEEDBACK_BODY_LIMIT)
    rated = container().feedback.rate(
        who.tenant, who.member_id, Rating(body.order_id, body.score, body.comment), who.now
    )
    return private(respond(feedback_body(rated), 201))


@bp.route("/v1/tenants/{tenant_id}/feedback", methods=["GET"])
@api_view
def list_feedback(tenant_id: str) -> Response:
    authorized(bp.current_request, tenant_id)
    query = FeedbackQuery.model_validate(bp.current_request.query_params or {})
    page = container().feedback.listed(tenant_id, query.since, query.cursor, query.limit, clock.now())
    items = [{**feedback_body(f), "member_id": f.member_id} for f in page.items]
    return respond({"items": items, "next_cursor": page.next_cursor})
