"""Program settings through HTTP (issue 2 item 2, docs/spec.md §6): validated, versioned, applied by paid_at."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from shared import clock
from tests.conftest import TenantCreds, body, paid_event, post_webhook, refund_event
from tests.integration.conftest import Clock
from tests.integration.support import assert_error, member

DEFAULTS = {
    "currency": "RUB",
    "timezone": "UTC",
    "earn_rate_bp": 500,
    "point_value_minor": 100,
    "pending_days": 0,
    "lifetime_days": 365,
    "max_redeem_share_bp": 5_000,
    "min_redeem_points": 1,
    "hold_ttl_minutes": 15,
    "restore_grace_days": 30,
}


def get_program(client: Any, creds: TenantCreds) -> dict[str, Any]:
    response = client.http.get(f"/v1/tenants/{creds.tenant_id}/program", headers=creds.auth)
    assert response.status_code == 200, response.body
    return dict(body(response))


def put_program(client: Any, creds: TenantCreds, payload: Any) -> Any:
    raw = json.dumps(payload)
    return client.http.put(f"/v1/tenants/{creds.tenant_id}/program", body=raw, headers=creds.auth)


def send(client: Any, creds: TenantCreds, event: dict[str, Any]) -> dict[str, Any]:
    response = post_webhook(client, creds, event, ts=int(clock.now().timestamp()))
    assert response.status_code == 200, response.body
    return dict(body(response))


def test_health_is_200(client: Any) -> None:
    # Given the API, when the health route is called without credentials, then 200
    response = client.http.get("/v1/health")
    assert (response.status_code, body(response)) == (200, {"status": "ok"})


def test_get_program_returns_every_setting(client: Any, tenant: TenantCreds) -> None:
    # Given a new tenant, when its program is read, then every core setting is there at version 1
    program = get_program(client, tenant)
    assert {k: program[k] for k in DEFAULTS} == DEFAULTS
    assert program["version"] == 1
    clock.parse_ts(program["effective_at"])


def test_put_of_a_subset_creates_a_new_version_keeping_the_rest(client: Any, tenant: TenantCreds) -> None:
    # Given version 1, when two settings change
    response = put_program(client, tenant, {"earn_rate_bp": 1_000, "pending_days": 2})
    # Then version 2 holds them and keeps every other setting
    assert response.status_code == 200, response.body
    expected = {**DEFAULTS, "earn_rate_bp": 1_000, "pending_days": 2}
    for program in (body(response), get_program(client, tenant)):
        assert program["version"] == 2
        assert {k: program[k] for k in DEFAULTS} == expected


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("earn_rate_bp", -1),
        ("earn_rate_bp", 10_001),
        ("earn_rate_bp", "500"),
        ("earn_rate_bp", 5.5),
        ("earn_rate_bp", None),
        ("point_value_minor", 0),
        ("pending_days", -1),
        ("lifetime_days", 0),
        ("max_redeem_share_bp", 10_001),
        ("min_redeem_points", 0),
        ("hold_ttl_minutes", 0),
        ("restore_grace_days", -1),
        ("timezone", "Mars/Olympus_Mons"),
        ("currency", "ZZZ"),
        ("currency", "USD"),
        ("unknown_setting", 1),
        ("language", "de"),
        ("sms_sender_id", "THIS-IS-TOO-LONG"),
        ("reminders", [{"days_before": 60, "channels": ["email"]}, {"days_before": 60, "channels": ["sms"]}]),
        ("reminders", "60 days"),
    ],
)
def test_invalid_setting_is_422_naming_the_field(client: Any, tenant: TenantCreds, field: str, value: Any) -> None:
    # Given version 1, when a setting is set to an invalid value (or the currency is changed)
    response = put_program(client, tenant, {field: value})
    # Then it is a 422 whose message and details name the field
    error = assert_error(response, 422, "validation_error")
    assert field in error["message"] or field in json.dumps(error.get("details"))
    assert field in [d["field"] for d in error.get("details", [])]
    # And the program is unchanged
    program = get_program(client, tenant)
    assert program["version"] == 1
    assert {k: program[k] for k in DEFAULTS} == DEFAULTS


def test_non_object_body_is_422(client: Any, tenant: TenantCreds) -> None:
    # Given a JSON array, when put as the program, then 422 and version 1 stays
    assert_error(put_program(client, tenant, [1, 2]), 422, "validation_error")
    assert get_program(client, tenant)["version"] == 1


def test_new_rate_applies_by_paid_at_and_refunds_use_the_recorded_rate(
    client: Any, tenant: TenantCreds, frozen: Clock
) -> None:
    # Given 5 % until now, then the rate raised to 10 %
    changed_at = frozen.advance(timedelta(minutes=1))
    assert put_program(client, tenant, {"earn_rate_bp": 1_000}).status_code == 200
    frozen.advance(timedelta(minutes=1))
    # When an order paid after the change arrives, and a late one paid an hour before the change
    after = send(client, tenant, paid_event("o-after", total=200_000))
    before = send(client, tenant, paid_event("o-before", total=200_000, paid_at=changed_at - timedelta(hours=1)))
    # Then the first earns at 10 % and the late one at the 5 % in force when it was paid
    assert (after["points_earned"], before["points_earned"]) == (200, 100)
    # And the history records which program version each order used
    from tests.integration.support import history

    versions = {e["reference"]: e["details"]["program_version"] for e in history(client, tenant) if e["kind"] == "earn"}
    assert versions == {"o-after": 2, "o-before": 1}
    # When the rate changes again and the late order is refunded in full
    assert put_program(client, tenant, {"earn_rate_bp": 2_000}).status_code == 200
    refunded = send(client, tenant, refund_event("o-before", "r1", 200_000))
    # Then exactly the 100 points it earned are reversed, not a recomputation at today's rate
    assert refunded["points_reversed"] == 100
    assert member(client, tenant)["balance"] == 200


def test_point_value_change_applies_to_later_orders_only(client: Any, tenant: TenantCreds, frozen: Clock) -> None:
    # Given an order paid at 100 minor per point (5 % of 200000 = 100 points)
    assert send(client, tenant, paid_event("o1", total=200_000))["points_earned"] == 100
    # When a point becomes worth 10 minor and a new order is paid
    frozen.advance(timedelta(seconds=1))
    assert put_program(client, tenant, {"point_value_minor": 10}).status_code == 200
    frozen.advance(timedelta(seconds=1))
    # Then the new order earns ten times as many points
    assert send(client, tenant, paid_event("o2", total=200_000))["points_earned"] == 1_000


@pytest.mark.parametrize(
    ("stage", "where"),
    [
        ({"days_before": 0, "channels": ["email"]}, "reminders.0.days_before"),
        ({"days_before": 30, "channels": ["fax"]}, "reminders.0.channels.0"),
        ({"days_before": 30, "channels": []}, "reminders.0.channels"),
        ({"days_before": 30, "channels": ["sms", "sms"]}, "reminders.0.channels"),
        ({"days_before": 30}, "reminders.0.channels"),
    ],
)
def test_an_invalid_reminder_stage_is_422_naming_its_place(
    client: Any, tenant: TenantCreds, stage: dict[str, Any], where: str
) -> None:
    # When a reminder ladder with one invalid stage is put
    response = put_program(client, tenant, {"reminders": [stage]})
    # Then the 422 names the stage's field, and the default ladder stays
    error = assert_error(response, 422, "validation_error")
    assert where in [d["field"] for d in error.get("details", [])], error
    assert [s["days_before"] for s in get_program(client, tenant)["reminders"]] == [60, 45]


def test_a_reminder_ladder_is_stored_longest_lead_first(client: Any, tenant: TenantCreds) -> None:
    # When a ladder is put in any order, then it is kept sorted from the earliest stage to the last
    ladder = [{"days_before": 7, "channels": ["sms"]}, {"days_before": 30, "channels": ["email", "staff_call"]}]
    response = put_program(client, tenant, {"reminders": ladder, "language": "ru", "sms_sender_id": "Salon1"})
    assert response.status_code == 200, response.body
    program = get_program(client, tenant)
    assert program["reminders"] == [ladder[1], ladder[0]]
    assert (program["language"], program["sms_sender_id"]) == ("ru", "Salon1")
