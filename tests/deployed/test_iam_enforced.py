"""Least privilege proven by real calls (issue 12 item 6): the deployed stack runs on ministack with IAM enforced.

The ``deployed`` fixture starts ministack with ``enforce_iam`` (AUTH=true): each Lambda calls AWS with a session of
its own execution role, the deployment, the ops command and the tests as the account's root (``ROOT_ACCESS_KEY`` in
scripts/ministack.py). So every deployed test that passes proves that the calls it drives are allowed. This module
proves the other half: that a call a role lacks is refused, through a function's own code and with a session of each
role; that the schedule starters and the sweep worker run their real calls under their roles; and that the two
corrections of the emulator's evaluation, and the things it does not check (``IAM_NOT_ENFORCED``, left to
tests/test_iam.py), are still what ministack does.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from functions.schedules import SCHEDULES
from scripts import ministack
from scripts.deploy_local import REGION, DeployedStack, client
from scripts.localenv import ROOT
from shared.services.sweep import ShardTask
from tests.deployed.stack import eventually, invoke
from tests.e2e.client import Api, request

# chalice's logical ids: expire_points -> ExpirePoints
STARTERS = {"".join(word.title() for word in name.split("_")): job for job, name, _, _ in SCHEDULES}
SWEEPS = [job for job, name, _, _ in SCHEDULES if name != "classify_vip"]
STAFF_TOPIC = "arn:aws:sns:us-east-1:000000000000:loyalty-dev-staff-iam-probe"
OTHER_TOPIC = "arn:aws:sns:us-east-1:000000000000:loyalty-dev-iam-probe"
PROBE_PHONE = "+15550100199"  # a fictional number of its own: SNS keeps the SMS sent to it


def role_name(stack: DeployedStack, logical_id: str) -> str:
    config = client("lambda", stack.endpoint).get_function_configuration(FunctionName=stack.functions[logical_id])
    return str(config["Role"]).rsplit("/", 1)[-1]


def role_session(stack: DeployedStack, logical_id: str) -> boto3.Session:
    """A session of the function's execution role, as its Lambda gets (the root may assume it on the emulator)."""
    role = f"arn:aws:iam::000000000000:role/{role_name(stack, logical_id)}"
    creds = client("sts", stack.endpoint).assume_role(RoleArn=role, RoleSessionName="iam-probe")["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )


def error_code(call: Callable[[], Any]) -> str | None:
    """The error code a call answers (None: it succeeded). IAM refuses with AccessDenied (AccessDeniedException in
    DynamoDB, AuthorizationError in SNS); any other code means IAM let the call through and the service refused it
    for another reason, which is how a probe shows a call allowed without leaving anything behind."""
    try:
        call()
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return None


@contextmanager
def inline_policy_changed(
    stack: DeployedStack, logical_id: str, policy: str, change: Callable[[dict[str, Any]], None]
) -> Iterator[None]:
    """The role's inline ``policy`` changed by ``change`` for the block (as the root, through IAM), then restored."""
    iam = client("iam", stack.endpoint)
    role = role_name(stack, logical_id)
    original = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
    changed = copy.deepcopy(original)
    change(changed)
    iam.put_role_policy(RoleName=role, PolicyName=policy, PolicyDocument=json.dumps(changed))
    try:
        yield
    finally:
        iam.put_role_policy(RoleName=role, PolicyName=policy, PolicyDocument=json.dumps(original))


def scheduled_event(function: str, at: datetime) -> dict[str, Any]:
    """The starter's sample event (events/), at ``at`` with an id of its own (the run id)."""
    event = json.loads((ROOT / "events" / f"scheduled_{function}.json").read_text())
    return {**event, "id": str(uuid.uuid4()), "time": at.strftime("%Y-%m-%dT%H:%M:%SZ")}


def sqs_event(bodies: list[str]) -> dict[str, Any]:
    """An SQS event as the event source mapping delivers it (events/sqs_sweep_task.json), one record per body."""
    [record] = json.loads((ROOT / "events" / "sqs_sweep_task.json").read_text())["Records"]
    return {"Records": [{**record, "messageId": str(uuid.uuid4()), "body": body} for body in bodies]}


# -- the emulator enforces, as AWS does where it matters here -------------------------------------------------------


def test_the_stack_runs_with_iam_enforced(deployed: DeployedStack) -> None:
    assert ministack.health(deployed.endpoint)["auth"] == "enabled"
    # and a request without credentials is refused, as AWS refuses it
    unsigned = request("POST", deployed.endpoint + "/", b"{}", {"x-amz-target": "DynamoDB_20120810.ListTables"})
    assert unsigned.status in (400, 403) and "MissingAuthenticationToken" in json.dumps(unsigned.body)


@pytest.mark.parametrize("correction", sorted(ministack.IAM_CORRECTIONS))
def test_each_correction_of_the_emulator_is_still_needed(correction: str) -> None:
    """ministack's own functions (this process does not correct them): when one answers as AWS does, remove its entry
    from IAM_CORRECTIONS and its code from correct_iam_evaluation."""
    from ministack.core import iam_actions  # type: ignore[import-untyped]

    if correction == "sqs-batch-actions":
        headers = {"x-amz-target": "AmazonSQS.SendMessageBatch", "content-type": "application/x-amz-json-1.0"}
        assert iam_actions.extract_iam_action("sqs", "POST", "/", headers, b"{}", {}) == "sqs:SendMessageBatch"
    else:
        params = {"Action": ["SendTemplatedEmail"], "Source": ["loyalty@example.com"]}
        assert iam_actions.extract_resource_arn("ses", "POST", "/", {}, b"", params, REGION, "000000000000") == "*"


# -- each role: what its code calls passes, anything else is refused ------------------------------------------------

# (function, what, the call on its role's session, the error code expected: None or a service's own refusal once IAM
# let the call through, or IAM's refusal)
PROBES: list[tuple[str, str, Callable[[boto3.Session, DeployedStack], Any], str | None]] = [
    (
        "APIHandler",
        "reads a member from the ledger",
        lambda s, st: s.client("dynamodb", endpoint_url=st.endpoint).get_item(
            TableName=st.outputs["LedgerTableName"], Key={"pk": {"S": "iam-probe"}, "sk": {"S": "iam-probe"}}
        ),
        None,
    ),
    (
        "APIHandler",
        "deletes from the ledger",
        lambda s, st: s.client("dynamodb", endpoint_url=st.endpoint).delete_item(
            TableName=st.outputs["LedgerTableName"], Key={"pk": {"S": "iam-probe"}, "sk": {"S": "iam-probe"}}
        ),
        "AccessDeniedException",
    ),
    (
        "APIHandler",
        "scans the tenants",
        lambda s, st: s.client("dynamodb", endpoint_url=st.endpoint).scan(TableName=st.outputs["TenantsTableName"]),
        "AccessDeniedException",
    ),
    (
        "APIHandler",
        "queries a sweep's index (an index ARN it is not granted)",
        lambda s, st: s.client("dynamodb", endpoint_url=st.endpoint).query(
            TableName=st.outputs["LedgerTableName"],
            IndexName="expiry_due",
            KeyConditionExpression="shard = :s",
            ExpressionAttributeValues={":s": {"N": "0"}},
        ),
        "AccessDeniedException",
    ),
    (
        "APIHandler",
        "receives from the sweep queue",
        lambda s, st: s.client("sqs", endpoint_url=st.endpoint).receive_message(QueueUrl=st.outputs["SweepQueueUrl"]),
        "AccessDenied",
    ),
    (
        "APIHandler",
        "sends a login code e-mail (IAM allows any identity of the account; SES then refuses this unverified one)",
        lambda s, st: s.client("ses", endpoint_url=st.endpoint).send_templated_email(
            Source="probe@unverified.example",
            Destination={"ToAddresses": ["probe@example.com"]},
            Template="loyalty-dev-login-code-en",
            TemplateData="{}",
        ),
        "MessageRejected",
    ),
    (
        "APIHandler",
        "sends an e-mail without a template",
        lambda s, st: s.client("ses", endpoint_url=st.endpoint).send_email(
            Source="loyalty@example.com",
            Destination={"ToAddresses": ["probe@example.com"]},
            Message={"Subject": {"Data": "x"}, "Body": {"Text": {"Data": "x"}}},
        ),
        "AccessDenied",
    ),
    (
        "APIHandler",
        "sends a login code by SMS",
        lambda s, st: s.client("sns", endpoint_url=st.endpoint).publish(PhoneNumber=PROBE_PHONE, Message="IAM probe"),
        None,
    ),
    (
        "APIHandler",
        "publishes a complaint to a staff topic (this one does not exist)",
        lambda s, st: s.client("sns", endpoint_url=st.endpoint).publish(TopicArn=STAFF_TOPIC, Message="x"),
        "NotFound",
    ),
    (
        "APIHandler",
        "publishes to a topic not named loyalty-dev-staff-* (no such topic either: IAM refuses first)",
        lambda s, st: s.client("sns", endpoint_url=st.endpoint).publish(TopicArn=OTHER_TOPIC, Message="x"),
        "AuthorizationError",
    ),
    *[
        (
            starter,
            "enqueues tasks on the sweep queue (granted by the shared managed policy)",
            lambda s, st: s.client("sqs", endpoint_url=st.endpoint).send_message_batch(
                QueueUrl=st.outputs["SweepQueueUrl"], Entries=[]
            ),
            "AWS.SimpleQueueService.EmptyBatchRequest",
        )
        for starter in STARTERS
    ],
    (
        "ExpirePoints",
        "sends to the dead-letter queue",
        lambda s, st: s.client("sqs", endpoint_url=st.endpoint).send_message_batch(
            QueueUrl=st.outputs["SweepDeadLetterQueueUrl"], Entries=[{"Id": "1", "MessageBody": "{}"}]
        ),
        "AccessDenied",
    ),
    (
        "ReleaseHolds",
        "reads the ledger",
        lambda s, st: s.client("dynamodb", endpoint_url=st.endpoint).get_item(
            TableName=st.outputs["LedgerTableName"], Key={"pk": {"S": "iam-probe"}, "sk": {"S": "iam-probe"}}
        ),
        "AccessDeniedException",
    ),
    (
        "ClassifyVip",
        "queries the tenants' registry",
        lambda s, st: s.client("dynamodb", endpoint_url=st.endpoint).query(
            TableName=st.outputs["TenantsTableName"],
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "iam-probe"}},
        ),
        None,
    ),
    (
        "ClassifyVip",
        "queries the ledger",
        lambda s, st: s.client("dynamodb", endpoint_url=st.endpoint).query(
            TableName=st.outputs["LedgerTableName"],
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "iam-probe"}},
        ),
        "AccessDeniedException",
    ),
    (
        "SweepWorker",
        "sends a templated e-mail (IAM allows any identity of the account; SES then refuses this unverified one)",
        lambda s, st: s.client("ses", endpoint_url=st.endpoint).send_templated_email(
            Source="probe@unverified.example",
            Destination={"ToAddresses": ["probe@example.com"]},
            Template="loyalty-dev-expiry-reminder-en",
            TemplateData="{}",
        ),
        "MessageRejected",
    ),
    (
        "SweepWorker",
        "sends an e-mail without a template",
        lambda s, st: s.client("ses", endpoint_url=st.endpoint).send_email(
            Source="loyalty@example.com",
            Destination={"ToAddresses": ["probe@example.com"]},
            Message={"Subject": {"Data": "x"}, "Body": {"Text": {"Data": "x"}}},
        ),
        "AccessDenied",
    ),
    (
        "SweepWorker",
        "publishes to a staff topic (this one does not exist)",
        lambda s, st: s.client("sns", endpoint_url=st.endpoint).publish(TopicArn=STAFF_TOPIC, Message="x"),
        "NotFound",
    ),
    (
        "SweepWorker",
        "publishes to a topic not named loyalty-dev-staff-* (no such topic either: IAM refuses first)",
        lambda s, st: s.client("sns", endpoint_url=st.endpoint).publish(TopicArn=OTHER_TOPIC, Message="x"),
        "AuthorizationError",
    ),
    (
        "SweepWorker",
        "sends an SMS",
        lambda s, st: s.client("sns", endpoint_url=st.endpoint).publish(PhoneNumber=PROBE_PHONE, Message="IAM probe"),
        None,
    ),
    (
        "SweepWorker",
        "hands a task on (SendMessageBatch, allowed by sqs:SendMessage)",
        lambda s, st: s.client("sqs", endpoint_url=st.endpoint).send_message_batch(
            QueueUrl=st.outputs["SweepQueueUrl"], Entries=[]
        ),
        "AWS.SimpleQueueService.EmptyBatchRequest",
    ),
    (
        "SweepWorker",
        "sends to the dead-letter queue",
        lambda s, st: s.client("sqs", endpoint_url=st.endpoint).send_message(
            QueueUrl=st.outputs["SweepDeadLetterQueueUrl"], MessageBody="{}"
        ),
        "AccessDenied",
    ),
    (
        "SweepWorker",
        "scans the ledger",
        lambda s, st: s.client("dynamodb", endpoint_url=st.endpoint).scan(TableName=st.outputs["LedgerTableName"]),
        "AccessDeniedException",
    ),
]


@pytest.mark.parametrize(("function", "what", "call", "expected"), PROBES, ids=[f"{f}: {w}" for f, w, _, _ in PROBES])
def test_a_role_may_make_the_calls_of_its_code_and_no_other(
    deployed: DeployedStack,
    function: str,
    what: str,
    call: Callable[[boto3.Session, DeployedStack], Any],
    expected: str | None,
) -> None:
    session = role_session(deployed, function)
    found = error_code(lambda: call(session, deployed))
    assert found == expected, f"{function} {what}: {found or 'allowed'}, expected {expected or 'allowed'}"


def test_the_api_handler_is_refused_what_its_role_lacks(deployed: DeployedStack, api: Api) -> None:
    # Given a member read that works: the handler reads the ledger with its role's session
    assert api.get("/members/iam-probe").code == "member_not_found"

    def drop_ledger(document: dict[str, Any]) -> None:
        document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != "Ledger"]

    # When the role's Ledger statement is taken away
    with inline_policy_changed(deployed, "APIHandler", "ApiHandlerRolePolicy", drop_ledger):
        refused = api.get("/members/iam-probe")
    # Then the function's own GetItem is refused (AccessDenied), which the API answers as a storage failure
    assert (refused.status, refused.code) == (503, "temporarily_unavailable"), refused
    # And with the statement back it reads again
    assert api.get("/members/iam-probe").code == "member_not_found"


def test_the_sweep_worker_and_the_starters_run_their_calls_under_their_roles(deployed: DeployedStack) -> None:
    """The worker sweeps a shard of each job at the present time, and starters enqueue their runs (as their EventBridge
    rules do): each with the calls its code makes, on its role's session. The seven sweep starters share their code
    and their managed policy, so ReleaseHolds (whose rule also fires every 15 minutes) stands for them here; the probes
    above check each one's role."""
    now = datetime.now(UTC).replace(microsecond=0)
    tasks = [
        ShardTask(job=job, shard=0, now=now, run_id=f"iam-{uuid.uuid4()}", started=now).to_json() for job in SWEEPS
    ]
    swept = invoke(deployed, "SweepWorker", sqs_event(tasks))
    assert swept.error is None, f"{swept.payload}\n{swept.log}"
    assert swept.payload["batchItemFailures"] == [], swept.log
    assert swept.payload["summary"]["tasks"] == len(SWEEPS)
    for logical_id, function in (("ReleaseHolds", "release_holds"), ("ClassifyVip", "classify_vip")):
        started = invoke(deployed, logical_id, scheduled_event(function, now))
        assert started.error is None, f"{logical_id}: {started.payload}\n{started.log}"
        assert started.payload["job"] == STARTERS[logical_id]


# -- what the emulator does not check (IAM_NOT_ENFORCED): still so ------------------------------------------------


def test_the_event_source_still_reads_the_queue_without_the_roles_permission(deployed: DeployedStack) -> None:
    """IAM_NOT_ENFORCED["sqs-event-source"]: when this fails, ministack checks the mapping's role; remove the entry."""
    sqs = client("sqs", deployed.endpoint)
    queue = deployed.outputs["SweepQueueUrl"]

    def visible() -> int:
        attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    def send_only(document: dict[str, Any]) -> None:
        for statement in document["Statement"]:
            if statement.get("Sid") == "SweepQueue":
                statement["Action"] = ["sqs:SendMessage"]

    now = datetime.now(UTC).replace(microsecond=0)
    with inline_policy_changed(deployed, "SweepWorker", "SweepWorkerRolePolicy", send_only):
        sqs.send_message(
            QueueUrl=queue,
            MessageBody=ShardTask(job="release-holds", shard=0, now=now, run_id=f"iam-{uuid.uuid4()}").to_json(),
        )
        eventually(lambda: visible() == 0 or None, timeout=30, what="the mapping receiving without sqs:ReceiveMessage")


def test_api_gateway_still_invokes_without_the_functions_permission(deployed: DeployedStack) -> None:
    """IAM_NOT_ENFORCED["lambda-permissions"]: when this fails, ministack reads AWS::Lambda::Permission; remove the
    entry."""
    lam = client("lambda", deployed.endpoint)
    function = deployed.functions["APIHandler"]
    statements = json.loads(lam.get_policy(FunctionName=function)["Policy"])["Statement"]
    for statement in statements:
        lam.remove_permission(FunctionName=function, StatementId=statement["Sid"])
    try:
        answer = request("GET", f"{deployed.api_url}/v1/health")
    finally:
        for statement in statements:
            lam.add_permission(
                FunctionName=function,
                StatementId=statement["Sid"],
                Action=statement["Action"],
                Principal=statement["Principal"]["Service"],
                SourceArn=statement["Condition"]["ArnLike"]["AWS:SourceArn"],
            )
    assert answer.status == 200, answer
    assert len(json.loads(lam.get_policy(FunctionName=function)["Policy"])["Statement"]) == len(statements)


def test_the_logs_of_the_functions_are_written_without_their_roles(deployed: DeployedStack) -> None:
    """IAM_NOT_ENFORCED["logs"]: ministack checks a Logs call on the group's ARN, which the role's grant on the group's
    streams does not match, and still the function's log group fills: Lambda writes it without the role."""
    logs = role_session(deployed, "ReleaseHolds").client("logs", endpoint_url=deployed.endpoint)
    group = f"/aws/lambda/{deployed.functions['ReleaseHolds']}"
    refused = error_code(lambda: logs.create_log_stream(logGroupName=group, logStreamName="iam-probe"))
    assert refused == "AccessDeniedException", "ministack now checks Logs calls on the stream: see IAM_NOT_ENFORCED"
    run = scheduled_event("release_holds", datetime.now(UTC))
    assert invoke(deployed, "ReleaseHolds", run).error is None
    events = client("logs", deployed.endpoint).filter_log_events(logGroupName=group)["events"]
    assert any(run["id"] in e["message"] for e in events), "the run's log line is not in the function's group"
