"""Least privilege (issue 6 item 2): each Lambda function has its own role with the actions it needs, on resources
named by the template; a wildcard is allowed only with a reason in infra/iam_wildcards.json.

The template tests package the app for dev and prod (slow, like tests/test_packaging.py); the walker tests at the
top run in milliseconds and prove that the checks can fail.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.iam_policies import Grant, load_justified, role_grants, violations
from tests.test_packaging import ROOT, STARTERS, Package, packaged

LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}
XRAY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
TABLE_READS = {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}
TABLE_WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem"}
# What each function may do, from tracing its code (docs/decisions.md "Least privilege"): a new action needs a
# change here, so that it is reviewed.
EXPECTED_ACTIONS = {
    "APIHandler": LOGS
    | XRAY
    | TABLE_READS
    | TABLE_WRITES
    | {"sqs:SendMessage"}
    | {"ses:SendTemplatedEmail", "sns:Publish"},
    **{name: LOGS | XRAY | {"sqs:SendMessage"} for name in STARTERS},
    "ClassifyVip": LOGS | XRAY | {"sqs:SendMessage", "dynamodb:Query"},
    "SweepWorker": LOGS
    | XRAY
    | TABLE_READS
    | TABLE_WRITES
    | {"dynamodb:DeleteItem", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:SendMessage"}
    | {"ses:SendTemplatedEmail", "sns:Publish"},
}
LEDGER = "${LedgerTable.Arn}"  # how the walker shows {"Fn::GetAtt": ["LedgerTable", "Arn"]}
TENANTS = "${TenantsTable.Arn}"


# -- the walker can fail ------------------------------------------------------------------------------------------


def _template(*statements: dict[str, Any], **role_props: Any) -> dict[str, Any]:
    policy = {"PolicyName": "P", "PolicyDocument": {"Version": "2012-10-17", "Statement": list(statements)}}
    return {
        "Resources": {
            "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
            "FnRole": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [policy], **role_props}},
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"Role": {"Fn::GetAtt": ["FnRole", "Arn"]}},
            },
        }
    }


def _allow(action: Any, resource: Any, key: str = "Resource") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, key: resource}


TABLE_ARN = {"Fn::GetAtt": ["Table", "Arn"]}


def test_a_named_resource_and_a_justified_wildcard_pass() -> None:
    template = _template(
        _allow(["dynamodb:GetItem"], [TABLE_ARN]),
        _allow(["xray:PutTraceSegments"], "*"),
        {"Effect": "Deny", "Action": "*", "Resource": "*"},  # a Deny grants nothing
    )
    assert violations(template, load_justified()) == []


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (_allow("dynamodb:*", [TABLE_ARN]), "wildcard or unreadable action"),
        (_allow("*", [TABLE_ARN]), "wildcard or unreadable action"),
        (_allow("dynamodb:Get*", [TABLE_ARN]), "wildcard or unreadable action"),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": [TABLE_ARN]}, "wildcard or unreadable action"),
        (_allow("sqs:SendMessage", "*"), "not justified"),
        (_allow("dynamodb:Query", "arn:aws:dynamodb:*:*:table/x"), "not justified"),
        (_allow("dynamodb:Query", {"Fn::Sub": "${Table.Arn}/index/*"}), "not justified"),
        (_allow("sns:Publish", "arn:aws:sns:us-east-1:1:t", key="NotResource"), "not justified"),
        (_allow("xray:PutTraceSegments", "arn:aws:xray:*:*:x"), "not justified"),  # a reason is for one pattern
        (_allow("dynamodb:Query", {"Fn::Sub": "arn:aws:dynamodb:eu-west-1:1:table/loyalty-prod-ledger"}), "stage"),
        (_allow("dynamodb:Query", {"Fn::ImportValue": "x"}), "unreadable resource"),
    ],
)
def test_the_walker_flags_an_injected_grant(statement: dict[str, Any], expected: str) -> None:
    found = violations(_template(statement), load_justified())
    assert len(found) == 1 and expected in found[0], found


def test_the_walker_flags_policies_outside_the_role_and_foreign_managed_policies() -> None:
    template = _template(ManagedPolicyArns=["arn:aws:iam::aws:policy/AdministratorAccess"])
    template["Resources"]["Fn"]["Properties"]["Policies"] = ["AmazonDynamoDBFullAccess"]
    template["Resources"]["Loose"] = {
        "Type": "AWS::IAM::Policy",
        "Properties": {"Roles": [{"Ref": "FnRole"}], "PolicyDocument": {"Statement": [_allow("s3:*", "*")]}},
    }
    found = "\n".join(violations(template, load_justified()))
    assert "AdministratorAccess" in found
    assert "SAM function policies" in found
    assert "Loose: s3:*" in found


def test_a_justification_without_a_reason_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"allowed": [{"actions": ["sqs:SendMessage"], "resource": "*", "reason": " "}]}))
    with pytest.raises(ValueError, match="needs a reason"):
        load_justified(path)


def test_role_grants_collect_inline_managed_and_attached_policies() -> None:
    template = _template(_allow("dynamodb:GetItem", [TABLE_ARN]), ManagedPolicyArns=[{"Ref": "Shared"}])
    resources = template["Resources"]
    resources["Shared"] = {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {"PolicyDocument": {"Statement": [_allow("sqs:SendMessage", "arn:q")]}},
    }
    resources["Attached"] = {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "Roles": [{"Ref": "FnRole"}],
            "PolicyDocument": {"Statement": [_allow("logs:PutLogEvents", "arn:l")]},
        },
    }
    actions = {g.action for g in role_grants(template, "FnRole").grants}
    assert actions == {"dynamodb:GetItem", "sqs:SendMessage", "logs:PutLogEvents"}


# -- the packaged template ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def packages() -> dict[str, Package]:
    return {stage: packaged(stage) for stage in ("dev", "prod")}


@pytest.fixture(params=["dev", "prod"])
def package(request: pytest.FixtureRequest, packages: dict[str, Package]) -> Package:
    return packages[request.param]


def _functions(template: dict[str, Any]) -> dict[str, str]:
    """Function logical id -> its role's logical id."""
    return {
        name: resource["Properties"]["Role"]["Fn::GetAtt"][0]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def _grants(template: dict[str, Any]) -> dict[str, list[Grant]]:
    return {name: role_grants(template, role).grants for name, role in _functions(template).items()}


@pytest.mark.slow
def test_no_policy_grants_a_wildcard_without_a_reason(package: Package) -> None:
    assert violations(package.template, load_justified()) == []


@pytest.mark.slow
def test_every_justified_wildcard_is_still_used(package: Package) -> None:
    grants = [g for found in _grants(package.template).values() for g in found]
    unused = [j.reason[:60] for j in load_justified() if not any(j.covers(g) for g in grants)]
    assert unused == [], "remove these entries from infra/iam_wildcards.json"


@pytest.mark.slow
def test_each_function_has_its_own_role_that_replaces_the_chalice_placeholder(package: Package) -> None:
    functions = _functions(package.template)
    assert len(functions) == len(EXPECTED_ACTIONS)
    assert len(set(functions.values())) == len(functions), "two functions share a role"
    placeholder = json.loads((ROOT / ".chalice" / "policy-placeholder.json").read_text())
    for role in functions.values():
        documents = [p["PolicyDocument"] for p in package.template["Resources"][role]["Properties"]["Policies"]]
        assert placeholder not in documents, f"{role} keeps .chalice/policy-placeholder.json: add it to infra/"


@pytest.mark.slow
def test_each_function_may_do_what_its_code_does_and_nothing_else(package: Package) -> None:
    actions = {name: {g.action for g in grants} for name, grants in _grants(package.template).items()}
    assert actions == EXPECTED_ACTIONS


@pytest.mark.slow
def test_the_work_is_separated(package: Package) -> None:
    grants = _grants(package.template)

    def holders(action: str) -> set[str]:
        return {name for name, found in grants.items() if any(g.action == action for g in found)}

    # The sweep worker sends the program's e-mail and SMS and publishes to staff topics; the API sends the cabinet's
    # login codes only: the login-code and contact-code templates, and SMS to phone numbers (no topic)
    assert holders("ses:SendTemplatedEmail") == holders("sns:Publish") == {"APIHandler", "SweepWorker"}
    api_email = {g.resource for g in grants["APIHandler"] if g.action == "ses:SendTemplatedEmail"}
    ses_arn = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:"
    assert api_email == {ses_arn + "identity/*"} | {
        f"{ses_arn}template/loyalty-${{Stage}}-{kind}-{language}"
        for kind in ("login-code", "contact-code")
        for language in ("en", "ru")
    }
    # and publishes a low rating to the tenant's staff topic (issue 16 item 6), the worker's topics exactly
    api_sns = [(g.resource, g.negated) for g in grants["APIHandler"] if g.action == "sns:Publish"]
    staff = "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:loyalty-${Stage}-staff-*"
    assert sorted(api_sns) == sorted([("arn:${AWS::Partition}:sns:*:*:*", True), (staff, False)])
    worker_email = {g.resource for g in grants["SweepWorker"] if g.action == "ses:SendTemplatedEmail"}
    assert not any("login-code" in arn or "contact-code" in arn for arn in worker_email)
    # Only the worker reads the queue
    assert holders("sqs:ReceiveMessage") == holders("sqs:DeleteMessage") == {"SweepWorker"}
    # Schedule starters only enqueue: no table at all, but the VIP run's Query of the tenants' registry
    for name in STARTERS:
        assert not any(g.action.startswith("dynamodb:") for g in grants[name]), name
    vip = [(g.action, g.resource) for g in grants["ClassifyVip"] if g.action.startswith("dynamodb:")]
    assert vip == [("dynamodb:Query", TENANTS)]
    # Nothing deletes from the ledger (TTL does); the worker deletes only the VIP registry entry of the tenants table
    deletes = [(name, g.resource) for name, found in grants.items() for g in found if g.action == "dynamodb:DeleteItem"]
    assert deletes == [("SweepWorker", TENANTS)]
    # The ledger is written by the API (orders, holds, transfers) and the worker (the sweeps), nobody else
    assert holders("dynamodb:PutItem") == holders("dynamodb:UpdateItem") == {"APIHandler", "SweepWorker"}


@pytest.mark.slow
def test_each_function_writes_only_its_own_log_group(package: Package) -> None:
    resources = package.template["Resources"]
    for name, role in _functions(package.template).items():
        for policy in (r for r in resources.values() if r["Type"] == "AWS::IAM::Policy"):
            props = policy["Properties"]
            if {"Ref": role} not in props["Roles"]:
                continue
            assert props["Roles"] == [{"Ref": role}], "a log policy is attached to one role"
            for statement in props["PolicyDocument"]["Statement"]:
                for arn in statement["Resource"]:
                    group = arn["Fn::Sub"].split("log-group:${", 1)[1].split("}", 1)[0]
                    assert resources[group]["Properties"]["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/${{{name}}}"}


@pytest.mark.slow
def test_dynamodb_resources_are_the_stacks_tables_and_named_indexes(package: Package) -> None:
    resources = package.template["Resources"]
    indexes = {
        index["IndexName"]
        for table in ("TenantsTable", "LedgerTable")
        for index in resources[table]["Properties"].get("GlobalSecondaryIndexes", [])
    }
    for name, grants in _grants(package.template).items():
        for grant in (g for g in grants if g.action.startswith("dynamodb:")):
            table, _, index = grant.resource.partition("/index/")
            assert table in (LEDGER, TENANTS), (name, grant)
            assert not index or index in indexes, (name, grant)
            assert not index or grant.action == "dynamodb:Query", (name, grant)


@pytest.mark.slow
def test_dev_and_prod_get_the_same_policies(packages: dict[str, Package]) -> None:
    """The stage comes from the template's Stage parameter: no policy differs between the stages' packages."""

    def policies(template: dict[str, Any]) -> dict[str, Any]:
        iam = ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        return {k: v for k, v in template["Resources"].items() if v["Type"] in iam}

    assert policies(packages["dev"].template) == policies(packages["prod"].template)
