"""The deployed stack of the tests: the artifact of `make package` deployed by CloudFormation on ministack.

Its Lambdas run the zip's code; requests go through the emulator's API Gateway, schedules through EventBridge or a
Lambda invocation with a scheduled event (the console's "Test" button), tasks through the SQS event source mapping.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from scripts.deploy_local import DeployedStack, client
from scripts.localenv import ROOT
from tests.conftest import TenantCreds

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
