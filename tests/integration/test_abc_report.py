"""GET /v1/tenants/{tenant}/reports/abc (issue 5 item 10): classes by revenue and orders, without a Scan."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from shared.keys import ABC_SHARDS
from tests.conftest import TenantCreds, make_tenant
from tests.integration.abc_support import classes, report, report_ok, seed_orders, seed_other_tenant
from tests.integration.conftest import Clock
from tests.integration.scheduled.test_expiry_at_scale import dynamodb_calls  # noqa: F401 (fixture)
from tests.integration.support import assert_error


@pytest.fixture
def seeded(client: Any, frozen: Clock) -> TenantCreds:
    creds = make_tenant()
    seed_orders(client, creds, frozen)
    seed_other_tenant(client, frozen)
    return creds


def test_revenue_classes_count_cash_minus_refunds_of_the_period_only(client: Any, seeded: TenantCreds) -> None:
    # Given five members with 500k, 300k, 100k, 60k, 40k of revenue in the last year (after a refund, without a
    # cancelled order, an order 400 days old and another tenant's orders)
    # When the revenue report of 365 days is read
    result = report_ok(client, seeded, "?metric=revenue&period_days=365")
    # Then m1 and m2 make exactly 80 % (m2 reaches it, so is A), m3 and m4 the next 15 %, m5 the rest
    assert (result["metric"], result["period_days"], result["currency"]) == ("revenue", 365, "RUB")
    assert (result["total"], result["members"]) == (1_000_000, 5)
    assert classes(result) == {"A": 2, "B": 2, "C": 1}
    assert result["classes"]["A"] == {"members": 2, "value": 800_000, "share_bp": 8_000}
    assert [(m["member_id"], m["value"], m["rank"], m["cumulative_share_bp"]) for m in result["class_a"]] == [
        ("m1", 500_000, 1, 5_000),
        ("m2", 300_000, 2, 8_000),
    ]
    assert result["next_cursor"] is None


def test_orders_classes_count_paid_orders_not_cancelled(client: Any, seeded: TenantCreds) -> None:
    # Given m5 with 10 orders, m4 with 2, and m1, m2, m3 with one each (m2's second order was cancelled)
    result = report_ok(client, seeded, "?metric=orders&period_days=365")
    # Then 15 orders: m5 and m4 are A; the three tied members start at exactly 80 %, so all three are B
    assert (result["total"], result["currency"]) == (15, None)
    assert classes(result) == {"A": 2, "B": 3, "C": 0}
    assert [m["member_id"] for m in result["class_a"]] == ["m5", "m4"]


def test_a_longer_period_takes_the_old_order_in(client: Any, seeded: TenantCreds) -> None:
    # Given m3's order of 900k paid 400 days ago, when the period is ten years
    result = report_ok(client, seeded, "?metric=revenue&period_days=3650")
    # Then m3 leads, and A is m3, m1, m2 (78.9 % before m2)
    assert result["total"] == 1_900_000
    assert [m["member_id"] for m in result["class_a"]] == ["m3", "m1", "m2"]
    assert classes(result) == {"A": 3, "B": 1, "C": 1}


def test_one_members_class_on_request_and_the_a_list_is_paginated(client: Any, seeded: TenantCreds) -> None:
    # When a member's class is asked for
    result = report_ok(client, seeded, "?metric=revenue&period_days=365&member_id=m5")
    # Then it is C with its value and rank; a member without orders in the period is C with 0
    assert result["member"] == {"member_id": "m5", "class": "C", "value": 40_000, "rank": 5}
    none = report_ok(client, seeded, "?member_id=nobody")["member"]
    assert none == {"member_id": "nobody", "class": "C", "value": 0, "rank": None}
    # And the A members come in pages of ``limit`` with a cursor
    first = report_ok(client, seeded, "?limit=1")
    assert ([m["member_id"] for m in first["class_a"]], first["next_cursor"]) == (["m1"], "1")
    second = report_ok(client, seeded, f"?limit=1&cursor={first['next_cursor']}")
    assert ([m["member_id"] for m in second["class_a"]], second["next_cursor"]) == (["m2"], None)


def test_the_report_queries_the_period_and_never_scans(
    client: Any,
    seeded: TenantCreds,
    dynamodb_calls: Counter[str],  # noqa: F811
) -> None:
    # Given the seeded tenant, when the report is read
    dynamodb_calls.clear()
    report_ok(client, seeded, "?metric=revenue&period_days=365")
    # Then one Query per index shard (and one for the tenant), no Scan, no other read
    assert dynamodb_calls["scan"] == 0
    assert dynamodb_calls["query"] == ABC_SHARDS + 1
    assert sum(dynamodb_calls.values()) == dynamodb_calls["query"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?metric=profit", "metric"),
        ("?period_days=0", "period_days"),
        ("?period_days=3651", "period_days"),
        ("?period_days=ten", "period_days"),
        ("?limit=0", "limit"),
        ("?cursor=abc", "cursor"),
        ("?member_id=a%20b", "member_id"),
    ],
)
def test_invalid_parameters_are_422_naming_the_field(client: Any, tenant: TenantCreds, query: str, field: str) -> None:
    # When a parameter is out of its range, then 422 with the field named
    error = assert_error(report(client, tenant, query), 422, "validation_error")
    assert [d["field"] for d in error["details"]] == [field]


def test_another_tenants_key_is_403(client: Any, tenant: TenantCreds) -> None:
    # Given another tenant's key, when it reads demo's report, then 403 as for any merchant route
    other = make_tenant("other")
    response = client.http.get(f"/v1/tenants/{tenant.tenant_id}/reports/abc", headers=other.auth)
    assert_error(response, 403, "forbidden")
