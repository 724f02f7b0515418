"""Read-back of what the reminder job sent, from the in-process emulators (SES, SNS), and member set-up."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from tests.conftest import TenantCreds

REGION = "us-east-1"


def emails() -> list[Any]:
    """Templated e-mails SES accepted (moto keeps them: template, template_data, destinations)."""
    return [m for m in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages if hasattr(m, "template")]


def email_data(message: Any) -> dict[str, Any]:
    data = message.template_data
    return dict(json.loads(data if isinstance(data, str) else data[0]))


def sms() -> list[tuple[str, str]]:
    """(phone, text) of every SMS SNS accepted."""
    return list(sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages.values())


def staff_topic(name: str) -> tuple[str, str]:
    """An SNS topic for a tenant's managers with an SQS queue subscribed to read its tasks: (topic ARN, queue URL)."""
    sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
    arn = sns.create_topic(Name=name)["TopicArn"]
    url = sqs.create_queue(QueueName=f"{name}-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    return arn, url


def staff_tasks(queue_url: str) -> list[dict[str, Any]]:
    """The call tasks delivered to the managers' topic so far (consumed)."""
    sqs = boto3.client("sqs", region_name=REGION)
    tasks: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return tasks
        for m in got:
            tasks.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])


@contextmanager
def sms_calls() -> Iterator[list[dict[str, Any]]]:
    """Every SNS Publish to a phone number with its parameters (moto does not keep the sender id)."""
    calls: list[dict[str, Any]] = []

    def spy(params: dict[str, Any], **_: Any) -> None:
        if "PhoneNumber" in params:
            calls.append(params)

    events = boto3._get_default_session().events
    events.register("provide-client-params.sns.Publish", spy)
    try:
        yield calls
    finally:
        events.unregister("provide-client-params.sns.Publish", spy)


def set_contact(client: Any, creds: TenantCreds, member_id: str, **fields: Any) -> None:
    response = client.http.put(
        f"/v1/tenants/{creds.tenant_id}/members/{member_id}", body=json.dumps(fields), headers=creds.auth
    )
    assert response.status_code == 200, response.body


def notifications(entries: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
    """(days_before, channel, status) of the notification entries of a history, oldest first."""
    found = [e["details"] for e in reversed(entries) if e["kind"] == "notification"]
    return [(d["days_before"], d["channel"], d["status"]) for d in found]
