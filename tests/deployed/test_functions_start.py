"""Every function of the deployed stack starts: no init error, state Active, an answer to the event it is made for.

Each is invoked through the emulator's Lambda API (the console's Test button) with an event that does no harm: the
API handler a health check, each scheduled starter its sample event for yesterday's hour (nothing of this session
is due then; the runbook re-runs a missed hour the same way), the worker one shard task of that hour.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events import load_event
from scripts.deploy_local import DeployedStack, client
from scripts.schedule_deployed import logical_id, wait_drained
from scripts.scheduler import JOB_FUNCTIONS, scheduled_event
from shared.clock import iso
from tests.deployed.stack import SWEEP_TASKS, Invocation, invoke

STARTERS = {logical_id(function): job for job, function in JOB_FUNCTIONS.items()}
FUNCTIONS = ["APIHandler", *STARTERS, "SweepWorker"]
# The starter that fans out per tenant of its registry (those with the VIP program), not per index shard.
PER_TENANT = {"ClassifyVip"}
# What a Lambda runtime reports when the handler cannot be loaded (an import error, a missing module or handler).
INIT_ERRORS = (
    "Runtime.ImportModuleError",
    "Runtime.HandlerNotFound",
    "Runtime.UserCodeSyntaxError",
    "Runtime.ExitError",
)
AT = (datetime.now(UTC) - timedelta(days=1)).replace(minute=5, second=0, microsecond=0)  # yesterday's hour, at :05


def health_check() -> dict[str, Any]:
    """GET /v1/health as API Gateway's REST proxy integration hands it to the function."""
    return {
        "resource": "/v1/health",
        "path": "/v1/health",
        "httpMethod": "GET",
        "headers": {"accept": "application/json"},
        "multiValueHeaders": None,
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"resourcePath": "/v1/health", "httpMethod": "GET", "requestId": "start-1", "stage": "api"},
        "body": None,
        "isBase64Encoded": False,
    }


def shard_task() -> dict[str, Any]:
    """events/sqs_sweep_task.json (one expiry shard task) for yesterday's hour."""
    event = load_event("sqs_sweep_task")
    record = event["Records"][0]
    record["body"] = json.dumps({**json.loads(record["body"]), "now": iso(AT), "run_id": "start-check"})
    return dict(event)


def event_for(function: str) -> dict[str, Any]:
    if function == "APIHandler":
        return health_check()
    if function == "SweepWorker":
        return shard_task()
    return scheduled_event(STARTERS[function], AT)


@pytest.fixture(scope="module")
def started(deployed: DeployedStack) -> Iterator[dict[str, Invocation]]:
    """Every function invoked once, a few at a time (each first call is a cold start); the starters' tasks are left to
    the worker, and the next module starts with the sweep queue drained."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        calls = {name: pool.submit(invoke, deployed, name, event_for(name)) for name in deployed.functions}
    done = {name: call.result() for name, call in calls.items()}
    # Under load the emulator's warm worker may answer before its log reader has the lines (an empty tail, no
    # error): such a function is invoked once more, alone, for its log; an error is never retried
    for name, called in done.items():
        if not called.log and called.error is None:
            done[name] = invoke(deployed, name, event_for(name))
    yield done
    wait_drained(deployed, 120)


def test_the_stack_has_the_functions_tested_here(deployed: DeployedStack) -> None:
    assert sorted(deployed.functions) == sorted(FUNCTIONS)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_is_active_and_answers(deployed: DeployedStack, started: dict[str, Invocation], function: str) -> None:
    # Given the function deployed by CloudFormation: active
    config = client("lambda", deployed.endpoint).get_function(FunctionName=deployed.functions[function])
    assert (config["Configuration"]["State"], config["Configuration"]["LastUpdateStatus"]) == ("Active", "Successful")
    # When it was invoked with the event it is made for, it ran without an init or handler error
    called = started[function]
    assert called.error is None, f"{called.error}: {called.payload}\n{called.log}"
    assert not any(marker in called.log for marker in INIT_ERRORS), called.log
    assert "Traceback" not in called.log, called.log
    # And it answered as its caller expects
    if function == "APIHandler":  # API Gateway's proxy integration
        assert (called.payload["statusCode"], json.loads(called.payload["body"])) == (200, {"status": "ok"})
    elif function == "SweepWorker":  # the SQS event source mapping: no record failed
        assert (called.payload["batchItemFailures"], called.payload["summary"]["tasks"]) == ([], 1)
    else:  # a starter names its job, the event's time as "now", and the tasks it queued
        answer = called.payload
        assert (answer["job"], answer["now"]) == (STARTERS[function], iso(AT))
        assert isinstance(answer["tasks"], int) and "run started" in called.log
        if function not in PER_TENANT:
            assert answer["tasks"] == SWEEP_TASKS
