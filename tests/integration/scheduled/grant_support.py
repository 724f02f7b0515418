"""Helpers of the bulk grant tests: create and read grants through the API, read the queue's raw tasks."""

from __future__ import annotations

import json
from typing import Any

import boto3

from tests.conftest import TenantCreds, body
from tests.integration.support import member

REGION = "us-east-1"


def grant_body(grant_id: str = "g1", segment: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"grant_id": grant_id, "segment": segment or {"all": True}, "points": 50}
    base |= {"lifetime_days": 30, "reason": "Happy holidays"}
    return base | fields


def post_grant(client: Any, creds: TenantCreds, payload: dict[str, Any]) -> Any:
    return client.http.post(f"/v1/tenants/{creds.tenant_id}/grants", body=json.dumps(payload), headers=creds.auth)


def create_grant(client: Any, creds: TenantCreds, payload: dict[str, Any]) -> dict[str, Any]:
    response = post_grant(client, creds, payload)
    assert response.status_code == 202, response.body
    return dict(body(response))


def progress(client: Any, creds: TenantCreds, grant_id: str = "g1") -> dict[str, Any]:
    response = client.http.get(f"/v1/tenants/{creds.tenant_id}/grants/{grant_id}", headers=creds.auth)
    assert response.status_code == 200, response.body
    return dict(body(response))


def counters(grant: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(grant[k] for k in ("status", "targeted", "granted", "skipped", "failed", "notified"))


def grant_lots(client: Any, creds: TenantCreds, member_id: str) -> list[dict[str, Any]]:
    return [lot for lot in member(client, creds, member_id)["lots"] if lot["source"] == "grant"]


def take_messages(queue_url: str) -> list[str]:
    """Every task on the queue, removed from it (to be delivered again by ``put_messages``)."""
    sqs = boto3.client("sqs", region_name=REGION)
    bodies: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return bodies
        for m in got:
            bodies.append(m["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])


def put_messages(queue_url: str, bodies: list[str]) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    for text in bodies:
        sqs.send_message(QueueUrl=queue_url, MessageBody=text)
