"""Every handler of the artifact that ships resolves and answers (issue 12 item 1).

The eight scheduled functions of the packaged template once named ``functions.schedules.handler``, which did not
exist: Lambda could not start them, and no test read the ``Handler`` strings of the template. Here each
``AWS::Serverless::Function`` of the packaged template (dev and prod) is resolved from the unzipped deployment.zip
by a clean interpreter (``python -I -S``) that has only what the Lambda runtime has besides the zip (the standard
library, boto3 and its dependencies), and called as Lambda calls it: ``handler(event, context)`` with its sample
event of events/ and a Lambda context, its environment from the template, against a moto server. Each starter must
answer for its own job (SCHEDULES), the worker with its batch item failures, the API with 200.

Slow like tests/test_packaging.py (whose packages it shares); each call is a fresh interpreter, a cold start.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from chalice.utils import to_cfn_resource_name

from functions.schedules import SCHEDULES
from scripts.emulator_gaps import substitute_stage
from scripts.infra_messaging import create_queues, local_name
from scripts.infra_tables import table_specs
from shared.keys import INDEX_SHARDS
from shared.services.abc import JOB as VIP_JOB
from tests.test_packaging import ROOT, Package, packaged

pytestmark = pytest.mark.slow

REGION = "us-east-1"
EVENTS = ROOT / "events"
# What the Lambda Python runtime provides besides the standard library (boto3 and what it needs)
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
# Function name (as in SCHEDULES and events/scheduled_<name>.json) -> job, by the logical id chalice gives it
STARTER_JOBS = {to_cfn_resource_name(name): job for job, name, _expression, _description in SCHEDULES}
WORKER = "SweepWorker"
API = "APIHandler"
FUNCTIONS = (*STARTER_JOBS, WORKER, API)
RESULT = "HANDLER-RESULT "

# Run by `python -I -S` (no PYTHON* variables, no site-packages) in the unzipped package, as the Lambda runtime
# bootstrap does: import the handler's module, take its attribute, call it with the event and a context. Prints
# the answer, or the error Lambda would report, on a line of its own after the handler's logs.
INVOKE = r"""
import importlib, json, sys, time, traceback, uuid
task_root, runtime, handler_string, event_path, function_name, memory, timeout, arn = sys.argv[1:9]
sys.path[:0] = [task_root, runtime]
RESULT = "HANDLER-RESULT "


class LambdaContext:
    def __init__(self):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = arn
        self.memory_limit_in_mb = int(memory)
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = "/aws/lambda/" + function_name
        self.log_stream_name = "2027/01/15/[$LATEST]" + uuid.uuid4().hex
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + int(timeout)

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def answer(value):
    print(RESULT + json.dumps(value, default=str), flush=True)


module_name, _, attribute = handler_string.rpartition(".")
try:
    module = importlib.import_module(module_name)
except Exception as error:
    answer({"errorType": "Runtime.ImportModuleError", "errorMessage": f"Unable to import module '{module_name}': {error}"})
    sys.exit(0)
handler = getattr(module, attribute, None)
if not callable(handler):
    answer({"errorType": "Runtime.HandlerNotFound", "errorMessage": f"Handler '{attribute}' missing on module '{module_name}'"})
    sys.exit(0)
with open(event_path) as file:
    event = json.load(file)
try:
    answer({"answer": handler(event, LambdaContext())})
except Exception as error:
    answer({"errorType": type(error).__name__, "errorMessage": str(error), "stackTrace": traceback.format_exc()})
"""


def _health_event() -> dict[str, Any]:
    """What API Gateway (REST, Lambda proxy integration) sends for GET /v1/health on stage ``api``."""
    headers = {"Accept": "application/json", "Host": "abcdef1234.execute-api.us-east-1.amazonaws.com"}
    return {
        "resource": "/v1/health",
        "path": "/v1/health",
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "a1b2c3",
            "resourcePath": "/v1/health",
            "httpMethod": "GET",
            "path": "/api/v1/health",
            "stage": "api",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "requestTimeEpoch": 1799917500000,
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "ELB-HealthChecker/2.0"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def sample_event(logical_id: str) -> dict[str, Any]:
    """The event Lambda gets: events/scheduled_<function>.json, events/sqs_sweep_task.json, a GET /v1/health."""
    if logical_id == API:
        return _health_event()
    if logical_id == WORKER:
        name = "sqs_sweep_task"
    else:
        function = next(n for _job, n, _e, _d in SCHEDULES if to_cfn_resource_name(n) == logical_id)
        name = f"scheduled_{function}"
    parsed: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return parsed


@dataclass(frozen=True)
class Emulator:
    """The moto server the handlers call, with each stage's tables and the queues of the template."""

    endpoint: str
    queues: dict[str, str]  # local queue name -> URL

    def tables(self, stage: str) -> dict[str, str]:
        return {"TenantsTable": f"loyalty-{stage}-tenants", "LedgerTable": f"loyalty-{stage}-ledger"}

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


@dataclass(frozen=True)
class Invocation:
    answer: Any
    error: dict[str, Any] | None
    output: str  # what the handler logged (stdout and stderr)


def _stage_of(package: Package) -> str:
    tags = next(
        r["Properties"]["Tags"]["aws-chalice"]
        for r in package.template["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    )
    return dict(part.split("=", 1) for part in tags.split(":") if "=" in part)["stage"]


def _resolve(value: Any, logical_id: str, package: Package, emulator: Emulator) -> str:
    """A template value of an environment variable, as CloudFormation resolves it on the emulator's resources."""
    stage = _stage_of(package)
    if isinstance(value, str):
        return value
    if "Fn::Sub" in value:
        return substitute_stage(value, stage)
    ref = value.get("Ref")
    if ref in emulator.tables(stage):
        return emulator.tables(stage)[ref]
    resources = package.template["Resources"]
    if ref in resources and resources[ref]["Type"] == "AWS::SQS::Queue":
        return emulator.queues[local_name(resources[ref]["Properties"]["QueueName"])]
    if ref in package.template.get("Parameters", {}):
        return str(package.template["Parameters"][ref]["Default"])
    raise AssertionError(f"{logical_id}: no value for {value} in this test: add it to _resolve")


def lambda_environment(logical_id: str, package: Package, emulator: Emulator) -> dict[str, str]:
    """The function's variables (Globals merged, references resolved), what Lambda sets, and the emulator."""
    props = package.template["Resources"][logical_id]["Properties"]
    variables = {
        **package.template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}),
        **props.get("Environment", {}).get("Variables", {}),
    }
    runtime = {
        "AWS_LAMBDA_FUNCTION_NAME": f"loyalty-{_stage_of(package)}-{logical_id}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(props["MemorySize"]),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{props['Runtime']}",
        "_HANDLER": props["Handler"],
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "TZ": ":UTC",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }
    local = {"AWS_ENDPOINT_URL": emulator.endpoint, "POWERTOOLS_TRACE_DISABLED": "1"}
    return {**runtime, **{k: _resolve(v, logical_id, package, emulator) for k, v in variables.items()}, **local}


def invoke(
    logical_id: str, package: Package, task_root: Path, runtime: Path, emulator: Emulator, workdir: Path
) -> Invocation:
    """Resolve the function's ``Handler`` in a clean interpreter and call it with its sample event."""
    props = package.template["Resources"][logical_id]["Properties"]
    event = workdir / f"{logical_id}-event.json"
    event.write_text(json.dumps(sample_event(logical_id)))
    env = lambda_environment(logical_id, package, emulator)
    name = env["AWS_LAMBDA_FUNCTION_NAME"]
    arn = f"arn:aws:lambda:{REGION}:123456789012:function:{name}"
    args = [str(task_root), str(runtime), props["Handler"], str(event), name, str(props["MemorySize"])]
    cmd = [sys.executable, "-I", "-S", "-c", INVOKE, *args, str(props["Timeout"]), arn]
    done = subprocess.run(cmd, cwd=task_root, env=env, capture_output=True, text=True, timeout=120, check=False)
    output = done.stdout + done.stderr
    results = [line[len(RESULT) :] for line in done.stdout.splitlines() if line.startswith(RESULT)]
    assert done.returncode == 0 and results, f"{logical_id}: the interpreter failed ({done.returncode}):\n{output}"
    result = json.loads(results[-1])
    return Invocation(result.get("answer"), None if "answer" in result else result, output)


def expected_tasks(job: str) -> int:
    """A sweep fans out one task per shard of its index; the VIP classification one per registered tenant (none
    in the emulator's empty tables)."""
    return 0 if job == VIP_JOB else INDEX_SHARDS


def problems(logical_id: str, invocation: Invocation) -> list[str]:
    """What is wrong with the function's answer; nothing when it resolved and answered as it should."""
    if invocation.error is not None:
        error = invocation.error
        return [f"{logical_id}: {error['errorType']}: {error['errorMessage']}\n{error.get('stackTrace', '')}"]
    answer = invocation.answer
    if logical_id in STARTER_JOBS:
        job = STARTER_JOBS[logical_id]
        wanted = {"job": job, "tasks": expected_tasks(job)}
        got = {k: answer.get(k) for k in wanted} if isinstance(answer, dict) else answer
        return [] if got == wanted else [f"{logical_id} should start {wanted}, answered {answer}"]
    if logical_id == WORKER:
        ok = isinstance(answer, dict) and answer.get("batchItemFailures") == []
        return [] if ok else [f"{logical_id} should report no batch item failure, answered {answer}"]
    if logical_id == API:
        ok = isinstance(answer, dict) and answer.get("statusCode") == 200
        ok = ok and json.loads(answer.get("body") or "null") == {"status": "ok"}
        return [] if ok else [f"{logical_id} should answer GET /v1/health with 200, answered {answer}"]
    return [f"{logical_id}: no expected answer in this test (a new function? add it with its sample event)"]


# -- fixtures ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with what the Lambda runtime has besides the standard library: boto3 and its dependencies
    (symlinks to this environment's copies)."""
    folder = tmp_path_factory.mktemp("lambda-runtime")
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, f"{name} is not installed"
        origin = Path(spec.origin)
        source = origin.parent if spec.submodule_search_locations else origin
        (folder / source.name).symlink_to(source, target_is_directory=source.is_dir())
    return folder


@pytest.fixture(scope="module")
def task_root(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The stage's deployment.zip unzipped (Lambda's /var/task), once per stage."""

    @cache
    def unzipped(stage: str) -> Path:
        root = tmp_path_factory.mktemp(f"task-{stage}")
        with zipfile.ZipFile(packaged(stage).out / "deployment.zip") as archive:
            archive.extractall(root)
        return root

    return unzipped


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """A moto server with the tables of both stages (named as CloudFormation names them) and the queues."""
    from scripts.emulator import start_moto
    from scripts.localenv import free_port

    server = start_moto(free_port())
    host, port = server.get_host_and_port()
    try:
        queues = create_queues(Emulator(f"http://{host}:{port}", {}).client("sqs"), ROOT / "infra" / "resources.json")
        running = Emulator(f"http://{host}:{port}", queues)
        dynamodb = running.client("dynamodb")
        for stage in ("dev", "prod"):
            names = running.tables(stage)
            env = {"TENANTS_TABLE": names["TenantsTable"], "LEDGER_TABLE": names["LedgerTable"]}
            for spec in table_specs(packaged(stage).out / "sam.json", env):
                dynamodb.create_table(**spec)
                dynamodb.get_waiter("table_exists").wait(TableName=spec["TableName"], WaiterConfig={"Delay": 1})
        yield running
    finally:
        server.stop()


def _queued(emulator: Emulator) -> int:
    sqs = emulator.client("sqs")
    url = emulator.queues["loyalty-sweep"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


# -- tests -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_packaged_function_has_a_sample_event_here(stage: str) -> None:
    resources = packaged(stage).template["Resources"]
    functions = {k for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}
    assert functions == set(FUNCTIONS)
    for logical_id in FUNCTIONS:
        assert sample_event(logical_id)


@pytest.mark.parametrize("logical_id", FUNCTIONS)
@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_handler_resolves_in_the_lambda_runtime_and_answers_its_sample_event(
    stage: str, logical_id: str, runtime: Path, emulator: Emulator, task_root: Callable[[str], Path], tmp_path: Path
) -> None:
    # Given the stage's package unzipped, and the function as the template defines it
    package = packaged(stage)
    before = _queued(emulator)
    # When a clean interpreter with only the Lambda runtime's packages resolves its Handler and calls it
    invocation = invoke(logical_id, package, task_root(stage), runtime, emulator, tmp_path)
    # Then it answers as that function should
    assert problems(logical_id, invocation) == [], invocation.output
    if logical_id in STARTER_JOBS:  # and a starter's tasks are in the stage's queue
        assert _queued(emulator) - before == expected_tasks(STARTER_JOBS[logical_id])


def _with_handler(package: Package, logical_id: str, handler: str) -> Package:
    template = copy.deepcopy(package.template)
    template["Resources"][logical_id]["Properties"]["Handler"] = handler
    return Package(package.out, package.zip_names, template)


def test_the_check_fails_on_a_handler_that_does_not_exist(
    runtime: Path, emulator: Emulator, task_root: Callable[[str], Path], tmp_path: Path
) -> None:
    # the bug of issue 12: every starter's Handler was functions.schedules.handler, a closure's name
    broken = _with_handler(packaged("dev"), "ExpirePoints", "functions.schedules.handler")
    invocation = invoke("ExpirePoints", broken, task_root("dev"), runtime, emulator, tmp_path)
    assert invocation.error is not None and invocation.error["errorType"] == "Runtime.HandlerNotFound"
    assert problems("ExpirePoints", invocation) == [
        "ExpirePoints: Runtime.HandlerNotFound: Handler 'handler' missing on module 'functions.schedules'\n"
    ]


def test_the_check_fails_on_a_starter_that_starts_another_job(
    runtime: Path, emulator: Emulator, task_root: Callable[[str], Path], tmp_path: Path
) -> None:
    # eight schedules sharing one function would all start the same job
    shared = _with_handler(packaged("dev"), "SendReminders", "functions.schedules.expire_points")
    invocation = invoke("SendReminders", shared, task_root("dev"), runtime, emulator, tmp_path)
    assert invocation.error is None and invocation.answer["job"] == "expire"
    assert problems("SendReminders", invocation) == [
        f"SendReminders should start {{'job': 'remind', 'tasks': {INDEX_SHARDS}}}, answered {invocation.answer}"
    ]


def test_a_starter_runs_in_the_apps_middleware(
    runtime: Path, emulator: Emulator, task_root: Callable[[str], Path], tmp_path: Path
) -> None:
    invocation = invoke("ExpirePoints", packaged("dev"), task_root("dev"), runtime, emulator, tmp_path)
    lines = [json.loads(line) for line in invocation.output.splitlines() if line.startswith("{")]
    started = next(line for line in lines if line.get("message") == "run started")
    # logger.inject_lambda_context, the first middleware of app.py, adds the Lambda context to every line
    assert started.get("function_name") == "loyalty-dev-ExpirePoints", started
