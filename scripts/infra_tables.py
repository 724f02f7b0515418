"""Create the DynamoDB tables described by infra/resources.json (the single source of table schemas, docs/spec.md §10).

Each ``AWS::DynamoDB::Table`` of the template becomes one ``CreateTable`` call with its keys, attribute
definitions, indexes and billing mode. Deployment-only properties (point-in-time recovery, TTL, tags, SSE,
deletion protection) are left to CloudFormation. The tables are named as the app expects them: the tenants
table ``TENANTS_TABLE`` and the ledger table ``LEDGER_TABLE`` (defaults ``loyalty-tenants``, ``loyalty-ledger``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "resources.json"
CREATE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
    "ProvisionedThroughput",
    "StreamSpecification",
)


def table_name(logical_id: str, properties: Mapping[str, Any], env: Mapping[str, str]) -> str:
    """The name the app uses for this table: by role (tenants / ledger), else the template's literal name."""
    role = logical_id.lower()
    if "tenant" in role:
        return env.get("TENANTS_TABLE", "loyalty-tenants")
    if "ledger" in role:
        return env.get("LEDGER_TABLE", "loyalty-ledger")
    name = properties.get("TableName")
    return name if isinstance(name, str) else logical_id


def table_specs(template: Path = TEMPLATE, env: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """``CreateTable`` arguments of every table of the template."""
    env = os.environ if env is None else env
    resources = json.loads(template.read_text())["Resources"]
    specs = []
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::DynamoDB::Table":
            continue
        props = resource["Properties"]
        spec = {key: props[key] for key in CREATE_KEYS if key in props}
        spec["TableName"] = table_name(logical_id, props, env)
        specs.append(spec)
    return specs


def table_exists(client: Any, name: str) -> bool:
    try:
        client.describe_table(TableName=name)
    except client.exceptions.ResourceNotFoundException:
        return False
    return True


def create_tables_from_infra(client: Any, template: Path = TEMPLATE, *, if_missing: bool = True) -> list[str]:
    """Create the template's tables with a boto3 DynamoDB ``client``; the names created (existing ones are kept)."""
    created = []
    for spec in table_specs(template):
        if if_missing and table_exists(client, spec["TableName"]):
            continue
        client.create_table(**spec)
        client.get_waiter("table_exists").wait(TableName=spec["TableName"], WaiterConfig={"Delay": 1})
        created.append(spec["TableName"])
    return created
