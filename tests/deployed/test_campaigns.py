"""Campaigns as data on the deployed stack (issue 17 item 1): created, changed and listed through API Gateway, with
the API function's own role (the campaigns live in the tenants table, which it may only Query and PutItem)."""

from __future__ import annotations

from tests.e2e.client import Api

WIN_BACK = {
    "id": "deployed-wake-up",
    "kind": "win_back",
    "audience": {"inactive_days": 90, "interval_factor_bp": 15_000, "cooldown_days": 60},
    "reward": {"points": 300, "lifetime_days": 14},
    "message": {"channels": ["sms"]},
    "schedule": {"start_at": "2026-12-01T00:00:00Z"},
    "attribution_days": 14,
    "holdout_bp": 1000,
    "variants": [{"id": "a", "weight_bp": 5000}, {"id": "b", "weight_bp": 5000}],
}


def test_a_campaign_is_created_changed_and_listed_through_api_gateway(api: Api) -> None:
    # Given the shop's API / When a win-back campaign is created
    created = api.post("/campaigns", WIN_BACK)
    assert created.status == 201, created
    assert created.body["version"] == 1 and created.body["status"] == "draft"
    # And activated with a subset of its fields
    updated = api.post(f"/campaigns/{WIN_BACK['id']}", {"status": "active"}, method="PUT")
    assert updated.status == 200, updated
    assert updated.body["version"] == 2 and updated.body["activated_at"] == updated.body["effective_at"]
    # Then the list shows version 2, version 1 is still readable, and the frozen holdout is refused
    listed = api.get("/campaigns")
    assert listed.status == 200, listed
    assert [(c["id"], c["version"], c["status"]) for c in listed.body["campaigns"]] == [(WIN_BACK["id"], 2, "active")]
    old = api.get(f"/campaigns/{WIN_BACK['id']}?version=1")
    assert old.status == 200 and old.body == created.body, old
    frozen = api.post(f"/campaigns/{WIN_BACK['id']}", {"holdout_bp": 0}, method="PUT")
    assert frozen.status == 409 and frozen.body["error"]["code"] == "assignment_frozen", frozen
    # And a second creation of the id is a conflict
    again = api.post("/campaigns", WIN_BACK)
    assert again.status == 409 and again.body["error"]["code"] == "campaign_exists", again
