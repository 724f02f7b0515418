"""infra/resources.json is the single source of table schemas: it must agree with the PynamoDB models (docs/spec.md §10)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws
from pynamodb.models import Model

from shared.dal.models import HoldItem, LedgerTable, TenantsTable
from tests.aws import create_tables_from_infra, table_specs, template_tables

MODELS: dict[str, type[Model]] = {"TenantsTable": TenantsTable, "LedgerTable": LedgerTable}


def _keys(key_schema: list[dict[str, str]]) -> list[tuple[str, str]]:
    # HASH first, as DynamoDB requires (PynamoDB lists an inherited hash key after the range key)
    return sorted(((k["AttributeName"], k["KeyType"]) for k in key_schema), key=lambda k: k[1] != "HASH")


def _projection(projection: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    return projection["ProjectionType"], tuple(sorted(projection.get("NonKeyAttributes", ())))


def _model_schema(model: type[Model]) -> dict[str, Any]:
    schema = model._get_schema()  # every index of every discriminated subclass of the table
    return {
        "attributes": {(a["AttributeName"], a["AttributeType"]) for a in schema["attribute_definitions"]},
        "keys": _keys(schema["key_schema"]),
        "gsis": {
            g["index_name"]: (_keys(g["key_schema"]), _projection(g["projection"]))
            for g in schema["global_secondary_indexes"]
        },
        "lsis": {i["index_name"] for i in schema["local_secondary_indexes"]},
    }


def _template_schema(props: dict[str, Any]) -> dict[str, Any]:
    return {
        "attributes": {(a["AttributeName"], a["AttributeType"]) for a in props["AttributeDefinitions"]},
        "keys": _keys(props["KeySchema"]),
        "gsis": {
            g["IndexName"]: (_keys(g["KeySchema"]), _projection(g["Projection"]))
            for g in props.get("GlobalSecondaryIndexes", [])
        },
        "lsis": {i["IndexName"] for i in props.get("LocalSecondaryIndexes", [])},
    }


def test_the_template_defines_exactly_the_modelled_tables() -> None:
    assert set(template_tables()) == set(MODELS)


@pytest.mark.parametrize("logical_id", sorted(MODELS))
def test_keys_attributes_and_indexes_match_the_model(logical_id: str) -> None:
    # Given the template's table and the PynamoDB model of the same table
    props = template_tables()[logical_id]
    # Then keys, key attribute types, GSIs (keys and projections) and LSIs are identical
    assert _template_schema(props) == _model_schema(MODELS[logical_id])


@pytest.mark.parametrize("logical_id", sorted(MODELS))
def test_production_settings(logical_id: str) -> None:
    props = template_tables()[logical_id]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["TableName"] == {"Fn::Sub": f"loyalty-${{Stage}}-{logical_id.removesuffix('Table').lower()}"}


def test_ledger_ttl_is_the_hold_records_ttl_attribute() -> None:
    ttl = template_tables()["LedgerTable"]["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": "ttl", "Enabled": True}
    assert HoldItem.ttl.attr_name == "ttl"


def test_create_table_arguments_use_the_app_table_names() -> None:
    specs = {s["TableName"]: s for s in table_specs(env={"LEDGER_TABLE": "L", "TENANTS_TABLE": "T"})}
    assert set(specs) == {"L", "T"}
    assert {g["IndexName"] for g in specs["L"]["GlobalSecondaryIndexes"]} == {
        "history",
        "by_email",
        "by_phone",
        "by_referral",
        "expiry_due",
        "remind_due",
        "holds_due",
        "pending_due",
        "abc_paid",
        "abc_members",
        "tier_review_due",
        "boost_remind_due",
        "birthday_due",
        "by_tenant",
    }


def test_tables_built_from_the_template_have_the_template_keys_and_indexes() -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        created = create_tables_from_infra(client)
        for spec in table_specs():
            assert spec["TableName"] in created
            table = client.describe_table(TableName=spec["TableName"])["Table"]
            assert _keys(table["KeySchema"]) == _keys(spec["KeySchema"])
            indexes = {g["IndexName"] for g in table.get("GlobalSecondaryIndexes", [])}
            assert indexes == {g["IndexName"] for g in spec.get("GlobalSecondaryIndexes", [])}
