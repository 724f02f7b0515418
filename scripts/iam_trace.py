"""Which AWS calls each Lambda function makes, recorded while the tests run: the evidence behind infra/iam/.

    .venv/bin/python -m pytest -q -p scripts.iam_trace tests/integration  # writes build/iam_trace.json

Every botocore call (boto3 and PynamoDB alike) is attributed to the Lambda function whose code made it, found on
the calling thread's stack (functions/schedules.py: the schedule starters and the sweep worker; any other module of
functions/: the API handler). A task submitted to a thread pool (the sweep's member threads) inherits the function
of the thread that submitted it. Calls made by test set-up (creating tenants, reading the queue) are not recorded,
nor is sqs:GetQueueUrl (only the local stack finds the queue by name; deployed, SWEEP_QUEUE_URL is set). The result lists, per function, the IAM action and the resource (table, index, queue, topic, SES
template or "sms") of every call, to compare with the policies in infra/resources.json.
"""

from __future__ import annotations

import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import botocore.client

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "iam_trace.json"
FUNCTIONS = str(ROOT / "functions")
STARTERS = {"start_run"}
WORKER = {"sweep_worker", "_run_task"}

_seen: dict[str, set[tuple[str, str]]] = {}
_inherited = threading.local()
_original = botocore.client.BaseClient._make_api_call
_original_submit = ThreadPoolExecutor.submit


def _function_on_stack() -> str | None:
    frame = sys._getframe(2)
    found = None
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(FUNCTIONS):
            name = frame.f_code.co_name
            if filename.endswith("schedules.py") and name in STARTERS:
                return f"starter:{frame.f_locals.get('job')}"
            if filename.endswith("schedules.py") and name in WORKER:
                return "sweep_worker"
            found = found or "api_handler"
        frame = frame.f_back  # type: ignore[assignment]
    return found or getattr(_inherited, "function", None)


def _resources(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """(IAM action, resource) pairs of one call; a transaction or batch is split into its items' actions."""
    if service == "dynamodb":
        if operation == "TransactWriteItems":
            out = []
            for item in params.get("TransactItems", []):
                for kind, body in item.items():
                    action = {"ConditionCheck": "ConditionCheckItem"}.get(kind, f"{kind}Item")
                    out.append((f"dynamodb:{action}", f"table/{body['TableName']}"))
            return out
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(f"dynamodb:{operation}", f"table/{name}") for name in params.get("RequestItems", {})]
        table = f"table/{params.get('TableName')}"
        if params.get("IndexName"):
            table += f"/index/{params['IndexName']}"
        return [(f"dynamodb:{operation}", table)]
    if service == "sqs":
        return [(f"sqs:{operation.replace('Batch', '')}", str(params.get("QueueUrl", "")).rsplit("/", 1)[-1])]
    if service == "sns":
        return [(f"sns:{operation}", str(params.get("TopicArn") or "sms"))]
    if service == "ses":
        return [(f"ses:{operation}", f"template/{params.get('Template', '')}")]
    return [(f"{service}:{operation}", "?")]


def _traced(self: Any, operation: str, params: dict[str, Any]) -> Any:
    function = _function_on_stack()
    if function is not None and operation != "GetQueueUrl":
        service = self.meta.service_model.service_name
        _seen.setdefault(function, set()).update(_resources(service, operation, params))
    return _original(self, operation, params)


def _submit(self: ThreadPoolExecutor, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
    function = _function_on_stack()

    def run() -> Any:
        _inherited.function = function
        try:
            return fn(*args, **kwargs)
        finally:
            _inherited.function = None

    return _original_submit(self, run)


def pytest_configure(config: Any) -> None:
    botocore.client.BaseClient._make_api_call = _traced  # type: ignore[method-assign]
    ThreadPoolExecutor.submit = _submit  # type: ignore[method-assign]


def pytest_unconfigure(config: Any) -> None:
    botocore.client.BaseClient._make_api_call = _original  # type: ignore[method-assign]
    ThreadPoolExecutor.submit = _original_submit  # type: ignore[method-assign]
    OUT.parent.mkdir(exist_ok=True)
    report = {name: sorted(f"{action} {resource}" for action, resource in calls) for name, calls in _seen.items()}
    OUT.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    print(f"\niam_trace: {sum(map(len, report.values()))} (function, action, resource) triples -> {OUT}")
