"""Bad input through API Gateway -> Lambda (issue 14 items 1, 4, 5): clear 4xx in the project's shape, nothing else."""

from __future__ import annotations

from tests.conftest import paid_event, signed_headers
from tests.e2e.client import Api, request

DEEP = b"[" * 1_000 + b"]" * 1_000


def test_a_deeply_nested_body_is_400_on_a_route_and_on_the_webhook(api: Api) -> None:
    route = request("POST", api.url("/holds"), DEEP, api.creds.auth)
    hook = api.webhook_raw(DEEP, signed_headers(api.creds.secret, DEEP))
    assert [(a.status, a.code) for a in (route, hook)] == [(400, "too_deeply_nested")] * 2


def test_another_content_type_is_415_in_the_project_shape(api: Api) -> None:
    answer = request("POST", api.url("/holds"), b"{}", {**api.creds.auth, "Content-Type": "text/plain"})
    assert (answer.status, answer.code) == (415, "unsupported_media_type")


def test_a_capture_with_other_points_than_the_first_is_409(api: Api) -> None:
    assert api.webhook(paid_event("bi-o0", "bi-ann", 200_000)).status == 200
    hold = api.post("/holds", {"member_id": "bi-ann", "order_id": "bi-o1", "points": 40})
    first = api.post(f"/holds/{hold.body['hold_id']}/capture", {"points": 30})
    again = api.post(f"/holds/{hold.body['hold_id']}/capture", {"points": 30})
    other = api.post(f"/holds/{hold.body['hold_id']}/capture", {"points": 35})
    assert (first.status, again.body == first.body) == (200, True)
    assert (other.status, other.code) == (409, "capture_differs")
