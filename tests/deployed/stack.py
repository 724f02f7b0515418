"""The deployed stack of the tests: the artifact of `make package` deployed by CloudFormation on ministack.

Its Lambdas run the zip's code; requests go through the emulator's API Gateway, schedules through EventBridge or a
Lambda invocation with a scheduled event (the console's "Test" button), tasks through the SQS event source mapping.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from scripts.deploy_local import DeployedStack, client
from scripts.localenv import ROOT
from scripts.schedule_deployed import logical_id, wait_drained
from scripts.scheduler import JOB_FUNCTIONS, scheduled_event
from tests.conftest import TenantCreds
from tests.e2e.client import Answer, Api, request

T = TypeVar("T")


@dataclass(frozen=True)
class Invocation:
    """What Lambda's Invoke API answered: the handler's return value, the error type if it raised, the log tail."""

    payload: Any
    error: str | None
    log: str


def invoke(stack: DeployedStack, logical_id: str, event: dict[str, Any]) -> Invocation:
    """Invoke the deployed function synchronously, as the Lambda console's Test button does."""
    answer = client("lambda", stack.endpoint).invoke(
        FunctionName=stack.functions[logical_id], Payload=json.dumps(event).encode(), LogType="Tail"
    )
    raw = answer["Payload"].read()
    log = base64.b64decode(answer.get("LogResult", "")).decode(errors="replace")
    return Invocation(json.loads(raw) if raw else None, answer.get("FunctionError"), log)


def run_ops(stack: DeployedStack, *args: str) -> subprocess.CompletedProcess[str]:
    """`python scripts/ops.py ARGS` against the deployed stack's tables and queues."""
    env = {**os.environ, **stack.environment()}
    command = [sys.executable, "scripts/ops.py", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)


def create_tenant(stack: DeployedStack, tenant_id: str, *options: str) -> TenantCreds:
    """A tenant made with the ops command, as an operator makes one."""
    done = run_ops(stack, "create-tenant", "--id", tenant_id, *options)
    assert done.returncode == 0, done.stderr
    saved = json.loads(done.stdout)
    return TenantCreds(saved["tenant_id"], saved["api_key"], saved["webhook_secrets"]["standard"])


def emulator_json(stack: DeployedStack, path: str) -> Any:
    """One of ministack's own endpoints (``/_ministack/ses/messages``, ``/_ministack/sns/sms-messages``)."""
    with urllib.request.urlopen(f"{stack.endpoint}{path}", timeout=10) as response:
        return json.loads(response.read())


def eventually(probe: Callable[[], T | None], timeout: float = 60, every: float = 0.5, what: str = "it") -> T:
    """Poll ``probe`` until it returns something truthy (asynchronous paths: SQS mappings, EventBridge rules)."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(every)


# -- scheduled jobs: the starter invoked as EventBridge invokes it, the worker fed by the SQS mapping ----------------

SWEEP_TASKS = 64  # a sweep's starter queues one task per shard of the due indexes (shared.dal.models.INDEX_SHARDS)
DRAIN_SECONDS = 120.0


def run_job(stack: DeployedStack, job: str, at: datetime, timeout: float = DRAIN_SECONDS) -> dict[str, Any]:
    """The job's deployed starter invoked with its scheduled event at ``at`` (events/scheduled_<function>.json, as
    EventBridge sends it), then the sweep queue drained by the deployed worker through the event source mapping;
    the starter's answer."""
    started = invoke(stack, logical_id(JOB_FUNCTIONS[job]), scheduled_event(job, at))
    assert started.error is None, f"{job}: {started.payload}\n{started.log}"
    wait_drained(stack, timeout)
    return dict(started.payload)


def log_records(stack: DeployedStack, logical_id: str, since_ms: int) -> list[dict[str, Any]]:
    """The JSON log records of a deployed function since ``since_ms`` (its CloudWatch Logs group)."""
    logs = client("logs", stack.endpoint)
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=f"/aws/lambda/{stack.functions[logical_id]}", startTime=since_ms
    )
    records = []
    for page in pages:
        for event in page.get("events", []):
            try:
                records.append(json.loads(event["message"]))
            except ValueError:  # START/END/REPORT lines
                continue
    return [r for r in records if isinstance(r, dict)]


# -- what the emulator kept of the messages sent ---------------------------------------------------------------------


def emails_to(stack: DeployedStack, address: str) -> list[dict[str, Any]]:
    """The e-mails SES sent to ``address`` (ministack keeps the rendered subject and text, not the template's name)."""
    kept = emulator_json(stack, "/_ministack/ses/messages")["messages"]
    return [message for listed in kept.values() for message in listed if address in message["To"]]


def sms_to(stack: DeployedStack, phone: str) -> list[dict[str, Any]]:
    return list(emulator_json(stack, "/_ministack/sns/sms-messages")["sms_messages"].get(phone, []))


def templates_of(stack: DeployedStack, email: dict[str, Any]) -> list[str]:
    """The SES templates of the emulator whose subject and text, placeholders filled in, are ``email``'s: since the
    emulator does not say which template an e-mail was sent with, this names it (or them)."""
    ses = client("ses", stack.endpoint)
    names = [t["Name"] for t in ses.list_templates(MaxItems=100)["TemplatesMetadata"]]

    def renders(part: str, text: str) -> bool:
        literal = (re.escape(piece) for piece in re.split(r"\{\{\w+\}\}", part))
        return re.fullmatch("(.*?)".join(literal), text, re.DOTALL) is not None

    found = []
    for name in names:
        template = ses.get_template(TemplateName=name)["Template"]
        if renders(template["SubjectPart"], email["Subject"]) and renders(template["TextPart"], email["BodyText"]):
            found.append(name)
    return found


def staff_inbox(stack: DeployedStack, name: str) -> tuple[str, str]:
    """A tenant's staff topic ``loyalty-<stage>-staff-<name>`` (the stack's roles may publish to those only) with an
    SQS queue subscribed to read its call tasks: (topic ARN, queue URL)."""
    sns, sqs = client("sns", stack.endpoint), client("sqs", stack.endpoint)
    topic = sns.create_topic(Name=f"loyalty-{stack.stage}-staff-{name}")["TopicArn"]
    url = sqs.create_queue(QueueName=f"staff-inbox-{name}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # as on AWS, SNS delivers to the queue only if the queue's policy lets the topic send (the emulator enforces it)
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
    }
    policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    return topic, url


def take_messages(stack: DeployedStack, queue_url: str) -> list[dict[str, Any]]:
    """Every message waiting on the queue, received and deleted: [{"Body", "Attributes", ...}]."""
    sqs = client("sqs", stack.endpoint)
    taken: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"])
        if not got.get("Messages"):
            return taken
        for message in got["Messages"]:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            taken.append(message)


# -- the stack's tables and HTTP answers with their headers ----------------------------------------------------------


def ledger_items(stack: DeployedStack, tenant_id: str) -> list[dict[str, Any]]:
    """Every item of the tenant in the ledger table (a Scan: a test's look, never the application's)."""
    pages = (
        client("dynamodb", stack.endpoint)
        .get_paginator("scan")
        .paginate(
            TableName=stack.outputs["LedgerTableName"],
            FilterExpression="begins_with(pk, :tenant)",
            ExpressionAttributeValues={":tenant": {"S": f"T#{tenant_id}#"}},
            ConsistentRead=True,
        )
    )
    return [item for page in pages for item in page.get("Items", [])]


def account_item(stack: DeployedStack, tenant_id: str, member_id: str) -> dict[str, Any]:
    """The member's ACCOUNT item as DynamoDB holds it (its open holds, its due-index times)."""
    key = {"pk": {"S": f"T#{tenant_id}#M#{member_id}"}, "sk": {"S": "ACCOUNT"}}
    got = client("dynamodb", stack.endpoint).get_item(
        TableName=stack.outputs["LedgerTableName"], Key=key, ConsistentRead=True
    )
    return dict(got["Item"])


def fetch(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[Answer, dict[str, str]]:
    """Like ``tests.e2e.client.request``, with the response's headers."""
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            status, got, raw = int(response.status), dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, got, raw = int(error.code), dict(error.headers), error.read()
    return Answer(status, json.loads(raw) if raw else None), got


def put(api: Api, path: str, payload: Any) -> Answer:
    """PUT JSON to the tenant's API (``Api`` has GET and POST)."""
    return request("PUT", api.url(path), json.dumps(payload).encode(), api.creds.auth)
