"""Read-back helpers of the HTTP integration tests (through the API, and raw table items)."""

from __future__ import annotations

import json
from typing import Any

import boto3

from shared.container import container
from tests.conftest import TenantCreds, body


def member(client: Any, creds: TenantCreds, member_id: str = "c1") -> dict[str, Any]:
    response = client.http.get(f"/v1/tenants/{creds.tenant_id}/members/{member_id}", headers=creds.auth)
    assert response.status_code == 200, response.body
    return dict(body(response))


def history(client: Any, creds: TenantCreds, member_id: str = "c1") -> list[dict[str, Any]]:
    """Every entry, newest first, following the cursor."""
    entries: list[dict[str, Any]] = []
    cursor = ""
    while True:
        url = f"/v1/tenants/{creds.tenant_id}/members/{member_id}/history?limit=100{cursor}"
        response = client.http.get(url, headers=creds.auth)
        assert response.status_code == 200, response.body
        page = body(response)
        entries.extend(page["entries"])
        if not page["next_cursor"]:
            return entries
        cursor = f"&cursor={page['next_cursor']}"


def ledger_items() -> list[str]:
    """Every item of the ledger table, canonical: the strongest "nothing was written" check."""
    table = container().settings.ledger_table
    client = boto3.client("dynamodb", region_name="us-east-1")
    items: list[str] = []
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        items.extend(json.dumps(item, sort_keys=True) for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            return sorted(items)
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """A JSON error body ``{"error": {"code", "message"}}`` with the stable code."""
    assert response.status_code == status, response.body
    assert response.headers.get("Content-Type", response.headers.get("content-type")) == "application/json"
    error = body(response)["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    return dict(error)
