"""Deploy the packaged template on the emulator as an operator deploys it on AWS (issue 12 item 2).

The artifact of `make package` is uploaded to S3, the template's ``CodeUri`` pointed at it (what
``aws cloudformation package`` does), and the stack created by CloudFormation from the template's S3 URL: the template
is larger than the 51,200 bytes ``TemplateBody`` allows, as on AWS. What the emulator cannot create is left out and
done another way in one place (scripts/emulator_gaps.py). The Lambdas then run the zip's code in the emulator.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from scripts.emulator_gaps import apply_gateway_responses, create_email_templates, for_emulator
from scripts.ministack import ROOT_ACCESS_KEY

REGION = "us-east-1"
ARTIFACT_BUCKET = "loyalty-artifacts"
API_STAGE = "api"  # .chalice/config.json api_gateway_stage
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
DEPLOY_TIMEOUT_SECONDS = 120
# The account's root on the emulator, whom every policy allows, IAM enforced or not: the deployment, the ops command and
# the tests' clients. The deployed Lambdas get their execution roles' sessions (the account's own key without AUTH).
CREDENTIALS = {"aws_access_key_id": ROOT_ACCESS_KEY, "aws_secret_access_key": "test"}


class DeployError(RuntimeError):
    """The stack could not be deployed; the message says why (the failed resources' reasons)."""


class PythonMismatch(DeployError):
    """The emulator would run the package's code with another Python than the template's runtime."""


@dataclass
class DeployedStack:
    """A stack deployed on the emulator: what a test, `make schedule` or `make load` needs to reach it."""

    endpoint: str
    name: str
    stage: str
    outputs: dict[str, str]
    functions: dict[str, str]  # logical id (ExpirePoints, APIHandler, ...) -> deployed function name
    left_out: dict[str, str] = field(default_factory=dict)  # logical id -> what the emulator refuses
    applied_instead: list[str] = field(default_factory=list)  # what the emulator ignored, done by this script

    @property
    def api_url(self) -> str:
        """API Gateway's URL for the stage on the emulator (the ``EndpointURL`` output names AWS's host)."""
        return f"{self.endpoint}/_aws/execute-api/{self.outputs['RestAPIId']}/{API_STAGE}"

    def environment(self) -> dict[str, str]:
        """The variables that point the ops command and the app's stores at this stack."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
            "TENANTS_TABLE": self.outputs["TenantsTableName"],
            "LEDGER_TABLE": self.outputs["LedgerTableName"],
            "SWEEP_QUEUE_URL": self.outputs["SweepQueueUrl"],
            "SWEEP_QUEUE_NAME": f"loyalty-{self.stage}-sweep",
        }

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "api_url": self.api_url}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> DeployedStack:
        saved = json.loads(text)
        saved.pop("api_url", None)
        return cls(**saved)


def client(service: str, endpoint: str) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, **CREDENTIALS)


def runtime_python() -> str:
    """The Lambda runtime name of this interpreter, which the emulator's Lambda workers use."""
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


def check_python(template: dict[str, Any]) -> None:
    """Every function's runtime must be this Python: the zip holds wheels built for the runtime (issue 12 item 5)."""
    runtimes = {
        res["Properties"].get("Runtime")
        for res in template["Resources"].values()
        if res.get("Type") in ("AWS::Serverless::Function", "AWS::Lambda::Function")
    }
    here = runtime_python()
    others = sorted(str(r) for r in runtimes if r != here)
    if others:
        raise PythonMismatch(
            f"the package's functions run on {', '.join(others)}, but the emulator would run them with Python "
            f"{here[len('python') :]} ({sys.executable}): the wheels in deployment.zip are built for the runtime. "
            f"Recreate .venv with that Python (make clean && make run PY=python{others[0][len('python') :]})."
        )


def upload(endpoint: str, package_dir: Path, template: dict[str, Any], stack_name: str) -> str:
    """Upload the zip and the template (CodeUri pointed at the zip); the template's S3 URL."""
    s3 = client("s3", endpoint)
    try:
        s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        pass
    code_key = f"{stack_name}/deployment.zip"
    s3.upload_file(str(package_dir / "deployment.zip"), ARTIFACT_BUCKET, code_key)
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://{ARTIFACT_BUCKET}/{code_key}"
    template_key = f"{stack_name}/sam.json"
    s3.put_object(Bucket=ARTIFACT_BUCKET, Key=template_key, Body=json.dumps(template).encode())
    return f"{endpoint}/{ARTIFACT_BUCKET}/{template_key}"


def deploy(
    endpoint: str,
    package_dir: Path,
    stage: str = "dev",
    stack_name: str | None = None,
    parameters: dict[str, str] | None = None,
) -> DeployedStack:
    """Create the stack of ``package_dir`` (sam.json + deployment.zip) on the emulator at ``endpoint``."""
    template = json.loads((package_dir / "sam.json").read_text())
    check_python(template)
    name = stack_name or f"loyalty-{stage}"
    local, left_out = for_emulator(template)
    create_email_templates(template, client("ses", endpoint), stage)
    url = upload(endpoint, package_dir, local, name)
    values = {"Stage": stage, **(parameters or {})}
    cfn = client("cloudformation", endpoint)
    cfn.create_stack(
        StackName=name,
        TemplateURL=url,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
        Capabilities=CAPABILITIES,
    )
    outputs = wait_for_stack(cfn, name)
    put = apply_gateway_responses(template, client("apigateway", endpoint), outputs["RestAPIId"], API_STAGE)
    client("ses", endpoint).verify_email_identity(EmailAddress=values.get("EmailFrom", "loyalty@example.com"))
    return DeployedStack(
        endpoint=endpoint,
        name=name,
        stage=stage,
        outputs=outputs,
        functions=deployed_functions(cfn, name),
        left_out={logical_id: f"{gap.describe()}: {gap.instead}" for logical_id, gap in left_out.items()},
        applied_instead=[f"gateway response {response_type}" for response_type in put],
    )


def wait_for_stack(cfn: Any, name: str, timeout: float = DEPLOY_TIMEOUT_SECONDS) -> dict[str, str]:
    """The stack's outputs once it is created; ``DeployError`` with the failed resources' reasons otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        status = stack["StackStatus"]
        if not status.endswith("_IN_PROGRESS"):
            break
        if time.monotonic() > deadline:
            raise DeployError(f"stack {name} still {status} after {timeout:.0f}s")
        time.sleep(0.5)
    if status != "CREATE_COMPLETE":
        raise DeployError(f"stack {name} is {status}: {'; '.join(failures(cfn, name))}")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def failures(cfn: Any, name: str) -> list[str]:
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    return [
        f"{e['LogicalResourceId']} ({e['ResourceType']}): {e.get('ResourceStatusReason')}"
        for e in events
        if e["ResourceStatus"].endswith("_FAILED")
    ]


def deployed_functions(cfn: Any, name: str) -> dict[str, str]:
    resources = cfn.describe_stack_resources(StackName=name)["StackResources"]
    return {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in resources
        if r["ResourceType"] == "AWS::Lambda::Function"
    }
