"""infra/emulator_gaps.json is what the emulator really refuses (issue 12 item 3), no more, no less.

Each entry's resource, taken from the packaged template, is created alone in a stack of its own on the session's
ministack: the emulator must still refuse it, or the entry goes. Each entry matches resources of the template, and
the deployed stack left out exactly those. That the emulator accepts the rest of the template is proven by the
``deployed`` fixture itself, which deploys it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from scripts.deploy_local import DeployedStack, client, failures
from scripts.emulator_gaps import GAPS_FILE, GATEWAY_RESPONSES, Gap, gaps, ignored

ACCEPTED = "this entry is accepted by the emulator now: remove it from infra/emulator_gaps.json"
REFUSED = ("ROLLBACK_COMPLETE", "CREATE_FAILED", "ROLLBACK_FAILED")
STACK_TIMEOUT_SECONDS = 60
ACCOUNT = "000000000000"


def _template(artifact: Path) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads((artifact / "sam.json").read_text())
    return parsed


def _matching(template: dict[str, Any], gap: Gap) -> list[str]:
    return sorted(logical_id for logical_id, res in template["Resources"].items() if gap.matches(res))


def _detached(value: Any, template: dict[str, Any]) -> Any:
    """``value`` with its references to the template's other resources replaced by what they resolve to on AWS
    (an SNS topic's ARN, else a name), so that the resource stands alone in its stack: the emulator must refuse it
    for what it is, not for a dangling reference. References to parameters are kept."""
    resources = template["Resources"]
    if isinstance(value, list):
        return [_detached(item, template) for item in value]
    if not isinstance(value, dict):
        return value
    ref = value.get("Ref")
    if len(value) == 1 and isinstance(ref, str) and ref in resources:
        if resources[ref]["Type"] == "AWS::SNS::Topic":
            return f"arn:aws:sns:us-east-1:{ACCOUNT}:placeholder-{ref}"
        return f"placeholder-{ref}"
    get_att = value.get("Fn::GetAtt")
    if len(value) == 1 and isinstance(get_att, list) and get_att[0] in resources:
        return f"arn:aws:placeholder:us-east-1:{ACCOUNT}:{get_att[0]}/{get_att[1]}"
    return {key: _detached(item, template) for key, item in value.items()}


def _parameters_used(resource: dict[str, Any], template: dict[str, Any]) -> list[str]:
    text = json.dumps(resource)
    return [name for name in template.get("Parameters", {}) if f'"Ref": "{name}"' in text or f"${{{name}}}" in text]


def _probe_stage(template: dict[str, Any], deployed: DeployedStack) -> str:
    """A stage other than the deployed stack's, so that names with ${Stage} (an SES template's, which the
    deployment created through the SES API) cannot collide with the deployed stack's: an accepted resource must not
    fail on "already exists" and pass for refused."""
    allowed = template["Parameters"]["Stage"].get("AllowedValues", ["dev", "prod"])
    return next(stage for stage in allowed if stage != deployed.stage)


def _create_alone(
    logical_id: str, template: dict[str, Any], deployed: DeployedStack, stack_name: str
) -> tuple[bool, str]:
    """Create a stack of the one resource; (accepted, what the emulator said)."""
    resource = _detached(template["Resources"][logical_id], template)
    used = _parameters_used(resource, template)
    body = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {name: template["Parameters"][name] for name in used},
        "Resources": {logical_id: resource},
    }
    values = {name: _probe_stage(template, deployed) for name in used if name == "Stage"}
    cfn = client("cloudformation", deployed.endpoint)
    try:
        cfn.create_stack(
            StackName=stack_name,
            TemplateBody=json.dumps(body),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ValidationError":
            return False, f"CreateStack: {error}"
        raise
    deadline = time.monotonic() + STACK_TIMEOUT_SECONDS
    while (status := cfn.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]).endswith("_IN_PROGRESS"):
        assert time.monotonic() < deadline, f"stack {stack_name} still {status} after {STACK_TIMEOUT_SECONDS}s"
        time.sleep(0.5)
    if status in REFUSED:
        return False, f"{status}: {'; '.join(failures(cfn, stack_name))}"
    assert status == "CREATE_COMPLETE", f"stack {stack_name} ended {status}"
    cfn.delete_stack(StackName=stack_name)  # nothing of the probe stays in the session's emulator
    return True, status


# -- tests -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("gap", gaps(), ids=Gap.describe)
def test_every_gap_matches_resources_of_the_packaged_template(gap: Gap, artifact: Path) -> None:
    assert _matching(_template(artifact), gap), (
        f"{gap.describe()} matches no resource of the packaged template: remove it from {GAPS_FILE.name}"
    )


def test_the_deployed_stack_left_out_exactly_what_the_gaps_match(artifact: Path, deployed: DeployedStack) -> None:
    template = _template(artifact)
    expected = {logical_id: gap for gap in gaps() for logical_id in _matching(template, gap)}
    assert set(deployed.left_out) == set(expected)
    for logical_id, gap in expected.items():  # each with what was done instead
        assert deployed.left_out[logical_id] == f"{gap.describe()}: {gap.instead}"


@pytest.mark.parametrize("gap", gaps(), ids=Gap.describe)
def test_the_emulator_still_refuses_each_gap(gap: Gap, artifact: Path, deployed: DeployedStack) -> None:
    # Given a real resource of the packaged template that the entry matches
    template = _template(artifact)
    logical_id = _matching(template, gap)[0]
    # When it is created alone in a stack of its own on the session's emulator
    accepted, said = _create_alone(logical_id, template, deployed, f"emulator-gap-{logical_id}")
    # Then the emulator refuses it
    assert not accepted, f"{gap.describe()} ({logical_id}): {ACCEPTED}"
    print(f"{gap.describe()} ({logical_id}) refused: {said}")


def test_the_emulator_still_ignores_the_gateway_responses(artifact: Path, deployed: DeployedStack) -> None:
    # Given the packaged API's gateway responses (in its OpenAPI body) and the entry that says ministack ignores them
    wanted = _template(artifact)["Resources"]["RestAPI"]["Properties"]["DefinitionBody"][GATEWAY_RESPONSES]
    assert [entry["what"] for entry in ignored()] == [f"AWS::Serverless::Api DefinitionBody {GATEWAY_RESPONSES}"]
    # Then the deployment found none of them in effect after CreateStack and put every one itself
    assert deployed.applied_instead == [f"gateway response {t}" for t in sorted(wanted)], (
        "the emulator applies the gateway responses now: remove the entry from infra/emulator_gaps.json"
    )
