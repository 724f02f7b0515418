"""Campaigns as data through HTTP (issue 17 item 1): created, listed, read at any version, changed as new versions,
with the assignment frozen once active, and every refusal a 4xx with its code and nothing written."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from shared import clock
from tests.conftest import TenantCreds, body, make_tenant
from tests.integration.conftest import Clock
from tests.integration.support import assert_error

WIN_BACK: dict[str, Any] = {
    "id": "wake-up",
    "kind": "win_back",
    "audience": {"inactive_days": 90, "interval_factor_bp": 15_000, "cooldown_days": 60},
    "reward": {"points": 300, "lifetime_days": 14},
    "message": {"channels": ["sms", "email"]},
    "schedule": {"start_at": "2026-12-01T00:00:00Z"},
    "attribution_days": 14,
    "holdout_bp": 1000,
    "variants": [
        {"id": "p300", "weight_bp": 5000},
        {"id": "p500", "weight_bp": 5000, "reward": {"points": 500, "lifetime_days": 14}},
    ],
}


def url(creds: TenantCreds, suffix: str = "") -> str:
    return f"/v1/tenants/{creds.tenant_id}/campaigns{suffix}"


def post(client: Any, creds: TenantCreds, payload: Any) -> Any:
    raw = payload if isinstance(payload, str) else json.dumps(payload)
    return client.http.post(url(creds), body=raw, headers=creds.auth)


def put(client: Any, creds: TenantCreds, campaign_id: str, payload: Any) -> Any:
    raw = payload if isinstance(payload, str) else json.dumps(payload)
    return client.http.put(url(creds, f"/{campaign_id}"), body=raw, headers=creds.auth)


def listed(client: Any, creds: TenantCreds) -> list[dict[str, Any]]:
    response = client.http.get(url(creds), headers=creds.auth)
    assert response.status_code == 200, response.body
    return list(body(response)["campaigns"])


def test_create_list_get_update_and_read_an_old_version(client: Any, tenant: TenantCreds, frozen: Clock) -> None:
    # Given no campaigns / When a win-back is created
    assert listed(client, tenant) == []
    created = post(client, tenant, WIN_BACK)
    # Then 201 with the campaign as sent, draft, at version 1 from now
    assert created.status_code == 201, created.body
    first = body(created)
    assert first == {**WIN_BACK, "status": "draft", "version": 1, "effective_at": clock.iso(frozen.now)}
    assert listed(client, tenant) == [first]
    # When it is activated an hour later with a longer attribution window (a subset: the rest is kept)
    later = frozen.advance(timedelta(hours=1))
    updated = put(client, tenant, "wake-up", {"status": "active", "attribution_days": 30})
    assert updated.status_code == 200, updated.body
    second = body(updated)
    # Then version 2 is current, from now, and remembers when it became active
    assert second == {
        **first,
        "status": "active",
        "attribution_days": 30,
        "version": 2,
        "effective_at": clock.iso(later),
        "activated_at": clock.iso(later),
    }
    assert body(client.http.get(url(tenant, "/wake-up"), headers=tenant.auth)) == second
    assert listed(client, tenant) == [second]
    # And version 1 is still readable as it was
    old = client.http.get(url(tenant, "/wake-up?version=1"), headers=tenant.auth)
    assert old.status_code == 200 and body(old) == first
    assert_error(
        client.http.get(url(tenant, "/wake-up?version=3"), headers=tenant.auth), 404, "campaign_version_not_found"
    )


def test_once_active_the_holdout_and_weights_are_frozen(client: Any, tenant: TenantCreds) -> None:
    # Given an active campaign, then paused
    assert post(client, tenant, {**WIN_BACK, "status": "active"}).status_code == 201
    assert put(client, tenant, "wake-up", {"status": "paused"}).status_code == 200
    # When its holdout or its weights change / Then 409 assignment_frozen and nothing is written
    assert_error(put(client, tenant, "wake-up", {"holdout_bp": 2000}), 409, "assignment_frozen")
    weights = [{**WIN_BACK["variants"][0], "weight_bp": 4000}, {**WIN_BACK["variants"][1], "weight_bp": 6000}]
    assert_error(put(client, tenant, "wake-up", {"variants": weights}), 409, "assignment_frozen")
    assert [c["version"] for c in listed(client, tenant)] == [2]
    # And a variant's reward may still change
    richer = [WIN_BACK["variants"][0], {**WIN_BACK["variants"][1], "reward": {"points": 400, "lifetime_days": 14}}]
    assert body(put(client, tenant, "wake-up", {"variants": richer}))["version"] == 3


def test_duplicates_unknown_campaigns_and_ended_ones_are_refused(client: Any, tenant: TenantCreds) -> None:
    assert post(client, tenant, WIN_BACK).status_code == 201
    assert_error(post(client, tenant, {**WIN_BACK, "holdout_bp": 0}), 409, "campaign_exists")
    assert_error(put(client, tenant, "nope", {"status": "active"}), 404, "campaign_not_found")
    assert_error(client.http.get(url(tenant, "/nope"), headers=tenant.auth), 404, "campaign_not_found")
    assert_error(put(client, tenant, "wake-up", {"kind": "birthday"}), 409, "kind_frozen")
    assert put(client, tenant, "wake-up", {"status": "ended"}).status_code == 200
    assert_error(put(client, tenant, "wake-up", {"status": "active"}), 409, "campaign_ended")
    assert [(c["status"], c["holdout_bp"], c["version"]) for c in listed(client, tenant)] == [("ended", 1000, 2)]


def test_another_tenants_key_is_403_and_no_key_401(client: Any, tenant: TenantCreds) -> None:
    other = make_tenant("other")
    assert post(client, other, WIN_BACK).status_code == 201
    foreign = {**tenant.auth}
    for response in (
        client.http.get(url(other), headers=foreign),
        client.http.get(url(other, "/wake-up"), headers=foreign),
        client.http.post(url(other), body=json.dumps({**WIN_BACK, "id": "x"}), headers=foreign),
        client.http.put(url(other, "/wake-up"), body=json.dumps({"status": "active"}), headers=foreign),
    ):
        assert_error(response, 403, "forbidden")
    assert_error(client.http.get(url(other), headers={"content-type": "application/json"}), 401, "missing_api_key")
    assert listed(client, tenant) == [] and [c["version"] for c in listed(client, other)] == [1]


@pytest.mark.parametrize(
    ("payload", "status", "code", "field"),
    [
        ("{not json", 400, "malformed_json", None),
        ("[1, 2]", 422, "validation_error", None),
        ({**WIN_BACK, "reward": None, "message": None}, 422, "validation_error", "variants.0.reward"),
        (
            {**WIN_BACK, "variants": [{"id": "a", "weight_bp": 6000}, {"id": "b", "weight_bp": 6000}]},
            422,
            "validation_error",
            "variants",
        ),
        ({**WIN_BACK, "kind": "party"}, 422, "validation_error", "kind"),
        ({**WIN_BACK, "holdout_bp": 6000}, 422, "validation_error", "holdout_bp"),
        ({**WIN_BACK, "audience": {"inactive_days": 90}}, 422, "validation_error", "audience.cooldown_days"),
        ({**WIN_BACK, "id": "Wake Up"}, 422, "validation_error", "id"),
        ({**WIN_BACK, "attribution_days": "14"}, 422, "validation_error", "attribution_days"),
        ({**WIN_BACK, "status": "ended"}, 409, "status_transition", None),
    ],
)
def test_bad_bodies_are_refused_with_their_code_and_nothing_is_written(
    client: Any, tenant: TenantCreds, payload: Any, status: int, code: str, field: str | None
) -> None:
    error = assert_error(post(client, tenant, payload), status, code)
    if field is not None:
        assert field in {d["field"] for d in error["details"]}, error
    assert listed(client, tenant) == []


def test_bad_puts_and_paths_change_nothing(client: Any, tenant: TenantCreds) -> None:
    assert post(client, tenant, WIN_BACK).status_code == 201
    assert_error(put(client, tenant, "wake-up", {"id": "other"}), 422, "validation_error")
    assert_error(put(client, tenant, "wake-up", {"reward": None, "message": None}), 422, "validation_error")
    assert_error(put(client, tenant, "wake-up", "{"), 400, "malformed_json")
    assert_error(put(client, tenant, "Bad_Id", {"status": "active"}), 422, "validation_error")
    assert_error(client.http.get(url(tenant, "/wake-up?version=x"), headers=tenant.auth), 422, "validation_error")
    assert [c["version"] for c in listed(client, tenant)] == [1]


def test_a_tenant_has_at_most_100_campaigns(client: Any, tenant: TenantCreds) -> None:
    # Given 100 campaigns (created through the service: the HTTP round trips would only slow the test)
    from shared.container import container

    for i in range(100):
        container().campaigns.create(tenant.tenant_id, {**WIN_BACK, "id": f"c{i:03d}"}, clock.now())
    # When a 101st is posted / Then 422 too_many_campaigns and nothing is written
    assert_error(post(client, tenant, WIN_BACK), 422, "too_many_campaigns")
    assert len(listed(client, tenant)) == 100


def test_every_campaign_route_answers_what_the_document_says(client: Any, tenant: TenantCreds) -> None:
    from tests.integration.test_response_schemas import documented

    # Given a campaign of each shape of audience / When every route is called / Then each answer is as documented
    path = "/v1/tenants/{tenant_id}/campaigns"
    for payload in (
        WIN_BACK,
        {**WIN_BACK, "id": "bday", "kind": "birthday", "audience": {}, "variants": None},
        {
            "id": "rate",
            "kind": "feedback_request",
            "audience": {"cooldown_days": 30},
            "message": {"channels": ["sms"]},
            "schedule": {"start_at": "2026-12-01T00:00:00+03:00"},
            "attribution_days": 7,
            "holdout_bp": 0,
        },
    ):
        documented(post(client, tenant, {k: v for k, v in payload.items() if v is not None}), path, "post")
    documented(put(client, tenant, "wake-up", {"status": "active"}), path + "/{campaign_id}", "put")
    documented(client.http.get(url(tenant), headers=tenant.auth), path, "get")
    documented(client.http.get(url(tenant, "/wake-up?version=1"), headers=tenant.auth), path + "/{campaign_id}", "get")
    documented(client.http.get(url(tenant, "/wake-up"), headers=tenant.auth), path + "/{campaign_id}", "get")
    documented(put(client, tenant, "wake-up", {"holdout_bp": 0}), path + "/{campaign_id}", "put")  # 409
    documented(client.http.get(url(tenant, "/nope"), headers=tenant.auth), path + "/{campaign_id}", "get")  # 404
