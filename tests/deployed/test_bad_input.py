"""Bad input through API Gateway -> Lambda (issue 14 items 1, 4, 5): clear 4xx in the project's shape, nothing else."""

from __future__ import annotations

import json

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


def test_one_open_hold_per_order_across_members(api: Api) -> None:
    # Given two members with points and a hold of the first on order bi-o9
    for order_id, member_id in (("bi-o2", "bi-bob"), ("bi-o3", "bi-cat")):
        assert api.webhook(paid_event(order_id, member_id, 200_000)).status == 200
    first = api.post("/holds", {"member_id": "bi-bob", "order_id": "bi-o9", "points": 40})
    # When the second member asks for a hold on the same order, then it is refused
    taken = api.post("/holds", {"member_id": "bi-cat", "order_id": "bi-o9", "points": 40})
    assert (first.status, taken.status, taken.code) == (201, 409, "hold_exists")
    # When the first hold is captured, then no member can hold the order again
    assert api.post(f"/holds/{first.body['hold_id']}/capture", {"points": 40}).status == 200
    again = api.post("/holds", {"member_id": "bi-cat", "order_id": "bi-o9", "points": 10})
    assert (again.status, again.code) == (409, "order_already_redeemed")


def test_an_unknown_route_is_404_in_the_project_shape_without_the_callers_key(api: Api) -> None:
    # Given a request with the tenant's key to a path and a method the API does not have
    for method, path in (("GET", "/no-such-route"), ("DELETE", "/holds")):
        # When API Gateway answers it (no Lambda runs)
        answer = request(method, api.url(path), None, api.creds.auth)
        # Then it is a 404 not_found in the project's error shape, and the key is nowhere in it
        assert (answer.status, answer.code) == (404, "not_found"), answer
        assert api.creds.api_key not in json.dumps(answer.body)
