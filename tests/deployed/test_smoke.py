"""The deployed API answers through API Gateway -> Lambda."""

from __future__ import annotations

from tests.e2e.client import Api, request


def test_health_answers_through_api_gateway(api: Api) -> None:
    answer = request("GET", f"{api.base}/v1/health")
    assert answer.status == 200 and answer.body == {"status": "ok"}
