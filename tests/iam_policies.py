"""Reading the IAM policies of a packaged CloudFormation template (tests/test_iam.py).

Every grant is found wherever a template can hold one: a role's inline ``Policies``, its ``ManagedPolicyArns``,
``AWS::IAM::Policy`` / ``AWS::IAM::ManagedPolicy`` resources attached to roles, and a SAM function's ``Policies``.
A justification names a resource pattern: the ARN as written in the template with each ``${LogicalId}`` replaced by
the resource's type (``${AWS::Logs::LogGroup}``), so that one entry covers the same pattern on every function.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WILDCARDS_FILE = Path(__file__).resolve().parents[1] / "infra" / "iam_wildcards.json"
SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")
HARD_CODED_STAGE = re.compile(r"loyalty-(dev|prod)\b")


@dataclass(frozen=True)
class Grant:
    """One action allowed on one resource (or on everything but ``resource`` when ``negated``)."""

    source: str  # where the statement is: "<resource>.Policies[0]" or "<policy resource>"
    action: str
    resource: str  # as in the template: "${LedgerTable.Arn}/index/history"
    negated: bool = False
    pattern: str = ""  # the resource with types for logical ids: "${AWS::DynamoDB::Table.Arn}/index/history"


@dataclass(frozen=True)
class Justified:
    actions: frozenset[str]
    resource: str
    negated: bool
    reason: str

    def covers(self, grant: Grant) -> bool:
        return grant.action in self.actions and grant.pattern == self.resource and grant.negated == self.negated


def load_justified(path: Path = WILDCARDS_FILE) -> list[Justified]:
    entries = json.loads(path.read_text())["allowed"]
    out = []
    for entry in entries:
        if not str(entry.get("reason", "")).strip():
            raise ValueError(f"{path.name}: every entry needs a reason: {entry}")
        negated = "not_resource" in entry
        out.append(
            Justified(
                frozenset(entry["actions"]), entry["not_resource" if negated else "resource"], negated, entry["reason"]
            )
        )
    return out


def arn_text(value: Any) -> str:
    """A Resource value as text, ``${LogicalId}`` / ``${LogicalId.Arn}`` for references; ValueError when the review
    cannot read it."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (function, argument), *_ = value.items()
        if function == "Fn::GetAtt":
            name, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            return f"${{{name}.{attribute}}}"
        if function == "Ref":
            return f"${{{argument}}}"
        if function == "Fn::Sub" and isinstance(argument, str):
            return argument
    raise ValueError(f"unreviewable resource value {value!r}")


def typed(text: str, resources: dict[str, Any]) -> str:
    """``${LogicalId...}`` of a template resource replaced by its type: the pattern a justification names."""

    def replace(match: re.Match[str]) -> str:
        name, dot, attribute = match.group(1).partition(".")
        kind = str(resources[name]["Type"]) if name in resources else name
        return "${" + kind + dot + attribute + "}"

    return SUB_VARIABLE.sub(replace, text)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statement_grants(source: str, statement: dict[str, Any], resources: dict[str, Any]) -> Iterator[Grant]:
    """The (action, resource) pairs an Allow statement grants; Deny statements grant nothing."""
    if statement.get("Effect") != "Allow":
        return
    if "NotAction" in statement:
        yield Grant(source, "NotAction:" + ",".join(_listed(statement["NotAction"])), "*")
        return
    negated = "NotResource" in statement
    targets = _listed(statement["NotResource" if negated else "Resource"])
    for action in _listed(statement["Action"]):
        for target in targets:
            try:
                text = arn_text(target)
            except ValueError as exc:
                text = f"<{exc}>"
            yield Grant(source, str(action), text, negated, typed(text, resources))


def _document_grants(source: str, document: dict[str, Any], resources: dict[str, Any]) -> Iterator[Grant]:
    for statement in _listed(document.get("Statement", [])):
        yield from statement_grants(source, statement, resources)


@dataclass
class RoleGrants:
    """Everything one role is allowed, and the managed policies it names that the template does not define."""

    grants: list[Grant]
    foreign_managed: list[str]


def role_grants(template: dict[str, Any], role: str) -> RoleGrants:
    resources = template["Resources"]
    props = resources[role]["Properties"]
    grants: list[Grant] = []
    foreign: list[str] = []
    for i, policy in enumerate(props.get("Policies", [])):
        grants += _document_grants(f"{role}.Policies[{i}]", policy["PolicyDocument"], resources)
    for arn in props.get("ManagedPolicyArns", []):
        name = arn.get("Ref") if isinstance(arn, dict) else None
        if name in resources and resources[name]["Type"] == "AWS::IAM::ManagedPolicy":
            grants += _document_grants(name, resources[name]["Properties"]["PolicyDocument"], resources)
        else:
            foreign.append(json.dumps(arn))
    for name, resource in resources.items():
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            attached = resource["Properties"].get("Roles", [])
            if {"Ref": role} in attached:
                grants += _document_grants(name, resource["Properties"]["PolicyDocument"], resources)
    return RoleGrants(grants, foreign)


def all_grants(template: dict[str, Any]) -> list[Grant]:
    """Every grant of every policy in the template, attached to a role or not (SAM function policies too)."""
    resources = template["Resources"]
    grants: list[Grant] = []
    for name, resource in resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            for i, policy in enumerate(props.get("Policies", [])):
                grants += _document_grants(f"{name}.Policies[{i}]", policy["PolicyDocument"], resources)
        elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            grants += _document_grants(name, props["PolicyDocument"], resources)
        elif resource["Type"] == "AWS::Serverless::Function" and "Policies" in props:
            grants.append(Grant(f"{name}.Policies", "<SAM function policies: put them on the role>", "*"))
    return grants


def violations(template: dict[str, Any], justified: list[Justified]) -> list[str]:
    """What least privilege forbids, one line each: wildcard actions, unjustified wildcard resources, unreadable
    resources, stage names typed into a policy, and managed policies the template does not define."""
    found = []
    for grant in all_grants(template):
        where = f"{grant.source}: {grant.action} on {'NOT ' if grant.negated else ''}{grant.resource}"
        if "*" in grant.action or grant.action.startswith("<"):
            found.append(f"wildcard or unreadable action: {where}")
        elif grant.resource.startswith("<"):
            found.append(f"unreadable resource: {where}")
        elif HARD_CODED_STAGE.search(grant.resource):
            found.append(f"stage typed into a policy (use ${{Stage}}): {where}")
        elif (grant.negated or "*" in grant.resource) and not any(j.covers(grant) for j in justified):
            found.append(f"wildcard or NotResource not justified in infra/iam_wildcards.json: {where}")
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role":
            found += [
                f"{name}: managed policy not defined in the template: {arn}"
                for arn in role_grants(template, name).foreign_managed
            ]
    return found
