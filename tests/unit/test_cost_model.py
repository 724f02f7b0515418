"""The cost model (docs/cost.md) is computed from the measured bench figures, and the committed document is current."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from scripts import cost_model


@pytest.fixture
def inputs() -> dict[str, Any]:
    return json.loads(cost_model.INPUTS.read_text())


def line(lines: list[cost_model.Line], starts: str) -> cost_model.Line:
    [found] = [ln for ln in lines if ln.item.startswith(starts)]
    return found


def test_the_committed_cost_document_is_what_the_committed_inputs_give() -> None:
    # Given docs/cost-inputs.json (copied from `make bench`) / When the check runs / Then docs/cost.md matches
    assert cost_model.main(["--check"]) == 0


def test_api_write_cost_is_the_measured_write_units_times_the_on_demand_price(inputs: dict[str, Any]) -> None:
    # Given the measured write units of each operation and the stated mix
    mix, api = cost_model.MIX, inputs["api"]
    expected_units = cost_model.ORDERS * (
        (1 - mix["holds_per_order"]) * api["paid_order"]["write_units"]
        + mix["holds_per_order"] * (api["paid_with_hold"]["write_units"] + api["hold"]["write_units"])
        + mix["refunds_per_order"] * api["refund"]["write_units"]
    )
    # When the API lines are computed
    writes = line(cost_model.api_lines(inputs), "DynamoDB writes")
    # Then quotes and member views write nothing, and the price is per write request unit
    assert writes.quantity == pytest.approx(expected_units)
    assert writes.usd == pytest.approx(expected_units * 0.625 / 1e6)


def test_a_costlier_measurement_raises_the_bill(inputs: dict[str, Any]) -> None:
    # Given the expiry measured at twice the write units per member
    heavier = copy.deepcopy(inputs)
    heavier["expiry"]["write_units_per_member"] *= 2
    before = line(cost_model.scheduled_lines(inputs), "DynamoDB writes").usd
    # When the scheduled lines are computed again / Then the expiry part of the writes doubles
    after = line(cost_model.scheduled_lines(heavier), "DynamoDB writes").usd
    expiring = cost_model.ORDERS * cost_model.MIX["lots_expiring_share"]
    extra = expiring * inputs["expiry"]["write_units_per_member"] * cost_model.PRICES["dynamodb_write_unit"]
    assert after - before == pytest.approx(extra)


def test_sms_is_priced_per_reminded_member_with_sms_consent(inputs: dict[str, Any]) -> None:
    sms = line(cost_model.scheduled_lines(inputs), "SNS reminder SMS")
    reminded = cost_model.ORDERS * cost_model.MIX["lots_reminded_share"]
    assert sms.quantity == reminded * cost_model.MIX["sms_share"]
    assert sms.usd == pytest.approx(sms.quantity * 0.00883)


def test_hosted_comparison_follows_the_published_usage_formula() -> None:
    # Smile.io Growth: $199 a month for 2,500 orders, then $20 per started 100; 83,334 orders a month
    [(_, growth, _), _] = cost_model.hosted()
    assert growth == (199 + 809 * 20) * 12


def test_extract_reads_a_bench_report() -> None:
    # Given a minimal `make bench` report / When the inputs are extracted / Then units and times are per member
    op = {"requests": {"BatchGetItem": 1, "TransactWriteItems": 1}, "table_wcu": 4, "index_wcu": 2, "rcu": 3, "ms": 7.2}
    bench = {
        "dynamodb": [{"operation": name, **op} for name in cost_model.API_OPERATIONS.values()],
        "expiry": {"runs": [{"lots": 10, "members": 4, "table_wcu": 16, "index_wcu": 12, "rcu": 2, "seconds": 0.4}]},
        "reminders": {
            "stages": [
                {"days_before": d, "members": 5, "seconds": 1.0, "per_member": {"write_units": 3.0}} for d in (60, 45)
            ]
        },
    }
    got = cost_model.extract(bench)
    assert got["api"]["quote"] == {"write_units": 6, "read_units": 3, "requests": 2, "handler_ms": 7.2}
    assert got["expiry"]["write_units_per_member"] == 7.0
    assert got["expiry"]["worker_seconds_per_member"] == 0.1
    assert got["reminders"]["60"] == {"write_units": 3.0, "worker_seconds": 0.2}
