"""What the emulator cannot create, handled in one place (issue 12 item 3): infra/emulator_gaps.json.

``for_emulator(template)`` returns the template to deploy on ministack, without the resources that list names, and
what was left out; ``create_email_templates`` creates the left-out SES templates through the SES API instead.
Nothing is dropped silently: the local stack prints what it left out, and the tests pin the list to what the
emulator really refuses.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from scripts.infra_messaging import put_email_templates
from scripts.localenv import ROOT

GAPS_FILE = ROOT / "infra" / "emulator_gaps.json"


@dataclass(frozen=True)
class Gap:
    """Resources of ``type`` (with the property ``with_property``, when set) that the emulator refuses."""

    type: str
    reason: str
    instead: str
    with_property: str | None = None

    def matches(self, resource: dict[str, Any]) -> bool:
        if resource.get("Type") != self.type:
            return False
        return self.with_property is None or self.with_property in resource.get("Properties", {})

    def describe(self) -> str:
        return self.type + (f" with {self.with_property}" if self.with_property else "")


def gaps() -> list[Gap]:
    listed = json.loads(GAPS_FILE.read_text())["gaps"]
    return [Gap(type=g["type"], reason=g["reason"], instead=g["instead"], with_property=g.get("with")) for g in listed]


def for_emulator(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Gap]]:
    """A copy of ``template`` without the resources the emulator refuses, and those left out: logical id -> gap."""
    local = copy.deepcopy(template)
    left_out: dict[str, Gap] = {}
    for logical_id, resource in template["Resources"].items():
        gap = next((g for g in gaps() if g.matches(resource)), None)
        if gap is not None:
            left_out[logical_id] = gap
            del local["Resources"][logical_id]
    return local, left_out


def substitute_stage(value: Any, stage: str) -> str:
    """``{"Fn::Sub": "loyalty-${Stage}-x"}`` -> ``loyalty-dev-x``; a plain string as it is."""
    text = value["Fn::Sub"] if isinstance(value, dict) else str(value)
    if "${" in text.replace("${Stage}", ""):
        raise ValueError(f"only ${{Stage}} can be substituted here: {text}")
    return text.replace("${Stage}", stage)


def create_email_templates(template: dict[str, Any], ses: Any, stage: str) -> list[str]:
    """The template's SES templates, created (or updated) through the SES API; their names."""
    bodies = [
        {**props["Template"], "TemplateName": substitute_stage(props["Template"]["TemplateName"], stage)}
        for props in (r["Properties"] for r in template["Resources"].values() if r.get("Type") == "AWS::SES::Template")
    ]
    return put_email_templates(ses, bodies)


GATEWAY_RESPONSES = "x-amazon-apigateway-gateway-responses"


def ignored() -> list[dict[str, str]]:
    """What the emulator accepts but does not apply (``ignored`` in infra/emulator_gaps.json)."""
    listed: list[dict[str, str]] = json.loads(GAPS_FILE.read_text()).get("ignored", [])
    return listed


def apply_gateway_responses(template: dict[str, Any], apigateway: Any, api_id: str, stage: str) -> list[str]:
    """The API's gateway responses (its OpenAPI body's ``x-amazon-apigateway-gateway-responses``, which ministack's
    import ignores) put through PutGatewayResponse, then the stage redeployed: a stage serves the responses its
    deployment captured, as on AWS. The response types put, or none when the emulator applied them itself."""
    wanted: dict[str, dict[str, Any]] = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"].get(
        GATEWAY_RESPONSES, {}
    )
    current = apigateway.get_gateway_responses(restApiId=api_id)["items"]
    if {r["responseType"] for r in current if not r.get("defaultResponse")} >= set(wanted):
        return []
    for response_type, response in wanted.items():
        apigateway.put_gateway_response(
            restApiId=api_id,
            responseType=response_type,
            **({"statusCode": response["statusCode"]} if "statusCode" in response else {}),
            responseParameters=response.get("responseParameters", {}),
            responseTemplates=response.get("responseTemplates", {}),
        )
    apigateway.create_deployment(restApiId=api_id, stageName=stage)
    return sorted(wanted)
