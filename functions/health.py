"""GET /v1/health: liveness for load balancers and the local stack."""

from chalice import Blueprint, Response

from functions.http import api_view, respond

bp = Blueprint(__name__)


@bp.route("/v1/health", methods=["GET"])
@api_view
def health() -> Response:
    return respond({"status": "ok"})
