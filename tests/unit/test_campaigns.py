"""Campaigns as data (issue 17 item 1): which bodies are campaigns, the cross-field rules, and how a campaign may
change from one version to the next (``shared.campaigns``, pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.campaigns import CampaignVersion, check_change, merged, next_version, parse
from shared.errors import Conflict, Unprocessable

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SCHEDULE = {"start_at": "2026-12-01T00:00:00Z"}
REWARD = {"points": 300, "lifetime_days": 14}
SMS = {"channels": ["sms"]}


def body(kind: str = "win_back", **fields: Any) -> dict[str, Any]:
    audiences = {
        "win_back": {"inactive_days": 90, "interval_factor_bp": 15_000, "cooldown_days": 60},
        "feedback_request": {"cooldown_days": 30},
        "personal_offer": {"multiplier_bp": 20_000, "days": 14, "min_orders": 3},
    }
    base: dict[str, Any] = {"id": "c1", "kind": kind, "schedule": SCHEDULE, "attribution_days": 14, "holdout_bp": 1000}
    if kind in audiences:
        base["audience"] = audiences[kind]
    return {**base, **fields}


def fields_of(error: Unprocessable) -> set[str]:
    return {d["field"] for d in error.details}


VALID = [
    body("win_back", reward=REWARD),
    body("win_back", message={"channels": ["email", "sms"], "template": "wake-up"}),
    body("feedback_request", message=SMS),
    body("personal_offer"),
    body("personal_offer", message={"channels": ["email"]}),
    body("birthday", reward=REWARD),
    body("birthday", audience={}, message=SMS),
    body("expiry_reminder", message={"channels": ["email"]}),
    body("boost_reminder", message=SMS),
    body("bulk_grant", reward=REWARD),
    body(
        "bulk_grant",
        variants=[
            {"id": "a", "weight_bp": 5000, "reward": REWARD},
            {"id": "b", "weight_bp": 5000, "reward": {"points": 500, "lifetime_days": 14}},
        ],
    ),
]


@pytest.mark.parametrize("payload", VALID, ids=[f"{p['kind']}-{i}" for i, p in enumerate(VALID)])
def test_every_kind_has_a_valid_shape(payload: dict[str, Any]) -> None:
    # Given a body of the kind / When it is parsed / Then it is a campaign of that kind, draft unless said otherwise
    campaign = parse(json.dumps(payload))
    assert campaign.kind == payload["kind"] and campaign.status == "draft"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (body("win_back", reward=REWARD, audience={"inactive_days": 6, "cooldown_days": 60}), "inactive_days"),
        (body("win_back", reward=REWARD, audience={"inactive_days": 90}), "cooldown_days"),
        (body("win_back", reward=REWARD, audience={"cooldown_days": 30}), "inactive_days"),  # a feedback's audience
        (body("feedback_request", message=SMS, audience={"cooldown_days": 30, "days": 3}), "days"),
        (body("birthday", reward=REWARD, audience={"cooldown_days": 30}), "cooldown_days"),  # no audience fields
        (body("personal_offer", audience={"multiplier_bp": 10_000, "days": 14, "min_orders": 3}), "multiplier_bp"),
        (body("win_back", reward={"points": 0, "lifetime_days": 14}), "points"),
        (body("win_back", reward={"points": 300, "lifetime_days": 366}), "lifetime_days"),
        (body("win_back", reward={"points": "300", "lifetime_days": 14}), "points"),  # strict: no strings for ints
        (body("win_back", reward=REWARD, holdout_bp=5001), "holdout_bp"),
        (body("win_back", reward=REWARD, attribution_days=91), "attribution_days"),
        (body("win_back", reward=REWARD, id="Camp_1"), "id"),
        (body("win_back", reward=REWARD, status="running"), "status"),
        (body("win_back", reward=REWARD, colour="red"), "colour"),
        (body("win_back", message={"channels": ["fax"]}), "channels"),
        (body("win_back", message={"channels": []}), "channels"),
        (body("win_back", reward=REWARD, schedule={"start_at": "2026-12-01T00:00:00"}), "start_at"),  # no zone
    ],
)
def test_bad_fields_are_named(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        parse(json.dumps(payload))
    assert caught.value.code == "validation_error"
    assert field in {part for name in fields_of(caught.value) for part in name.split(".")}, caught.value.details


@pytest.mark.parametrize("kind", ["mystery", None])
def test_an_unknown_or_missing_kind_is_named(kind: str | None) -> None:
    with pytest.raises(Unprocessable) as caught:
        parse(json.dumps({**body("win_back", reward=REWARD), "kind": kind}))
    assert fields_of(caught.value) == {"kind"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (body("win_back"), "reward"),  # neither a reward nor a message: pointless
        (body("birthday"), "reward"),
        (body("feedback_request"), "message"),  # a feedback request is a message
        (body("expiry_reminder", reward=REWARD), "message"),
        (body("bulk_grant", message=SMS), "reward"),  # a grant grants
        (body("feedback_request", message=SMS, reward=REWARD), "reward"),  # the program's feedback reward pays
        (body("personal_offer", reward=REWARD), "reward"),  # the offer is its multiplier
        (body("win_back", reward=REWARD, schedule={**SCHEDULE, "end_at": "2026-11-30T00:00:00Z"}), "schedule.end_at"),
        (body("win_back", reward=REWARD, variants=[{"id": "a", "weight_bp": 5000}]), "variants"),
        (
            body("win_back", reward=REWARD, variants=[{"id": "a", "weight_bp": 5000}, {"id": "a", "weight_bp": 5000}]),
            "variants",
        ),
        (
            body(
                "win_back", variants=[{"id": "a", "weight_bp": 5000, "reward": REWARD}, {"id": "b", "weight_bp": 5000}]
            ),
            "variants.1.reward",
        ),  # variant b gets nothing
        (body("personal_offer", variants=[{"id": "a", "weight_bp": 10_000, "reward": REWARD}]), "variants.0.reward"),
    ],
)
def test_cross_field_rules_are_refused_with_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        parse(json.dumps(payload))
    assert caught.value.code == "validation_error" and field in fields_of(caught.value)


def test_at_most_ten_variants() -> None:
    variants = [{"id": f"v{i}", "weight_bp": 909 + (10 if i == 0 else 0)} for i in range(11)]
    with pytest.raises(Unprocessable) as caught:
        parse(json.dumps(body("win_back", reward=REWARD, variants=variants)))
    assert fields_of(caught.value) == {"variants"}


def version(payload: dict[str, Any], current: CampaignVersion | None = None, at: datetime = NOW) -> CampaignVersion:
    return next_version(current, parse(json.dumps(payload)), at)


AB = [
    {"id": "p200", "weight_bp": 5000},
    {"id": "p500", "weight_bp": 5000, "reward": {"points": 500, "lifetime_days": 30}},
]


def test_versions_count_up_and_remember_when_first_active() -> None:
    # Given a draft / When it is activated, then paused
    v1 = version(body("birthday", reward=REWARD))
    v2 = version(body("birthday", reward=REWARD, status="active"), v1, NOW + timedelta(hours=1))
    v3 = version(body("birthday", reward=REWARD, status="paused"), v2, NOW + timedelta(hours=2))
    # Then each is the next version, and the activation time stays with the later versions
    assert [v.version for v in (v1, v2, v3)] == [1, 2, 3]
    assert v1.activated_at is None and v2.activated_at == v3.activated_at == NOW + timedelta(hours=1)


def test_a_draft_may_change_its_assignment() -> None:
    v1 = version(body("birthday", reward=REWARD, variants=AB))
    other = body("birthday", reward=REWARD, holdout_bp=2000, variants=[{"id": "p200", "weight_bp": 10_000}])
    assert version(other, v1).campaign.holdout_bp == 2000


@pytest.mark.parametrize(
    "change",
    [
        {"holdout_bp": 2000},
        {"variants": [{"id": "p200", "weight_bp": 4000}, {"id": "p500", "weight_bp": 6000}]},
        {"variants": [{"id": "p200", "weight_bp": 5000}, {"id": "p300", "weight_bp": 5000}]},
        {"variants": None},
    ],
)
def test_once_active_the_assignment_is_frozen(change: dict[str, Any]) -> None:
    # Given a campaign that has been active (and is paused now)
    active = version(body("birthday", reward=REWARD, status="active", variants=AB))
    paused = version(body("birthday", reward=REWARD, status="paused", variants=AB), active)
    # When its holdout or its variants' ids or weights change / Then 409 assignment_frozen
    with pytest.raises(Conflict) as caught:
        check_change(paused, merged(paused.campaign, change))
    assert caught.value.code == "assignment_frozen"


def test_once_active_the_rest_may_change() -> None:
    active = version(body("birthday", reward=REWARD, status="active", variants=AB))
    richer = [{**AB[0], "reward": {"points": 250, "lifetime_days": 30}}, AB[1]]
    changed = merged(active.campaign, {"variants": richer, "message": SMS, "attribution_days": 30})
    assert version(json.loads(json.dumps(changed.model_dump(mode="json"))), active).version == 2


@pytest.mark.parametrize(
    ("before", "after", "code"),
    [
        ("ended", "ended", "campaign_ended"),
        ("ended", "active", "campaign_ended"),
        ("active", "draft", "status_transition"),
        (None, "ended", "status_transition"),
    ],
)
def test_status_transitions(before: str | None, after: str, code: str) -> None:
    current = None
    if before is not None:
        current = version(body("birthday", reward=REWARD, status="active"))
        current = version(body("birthday", reward=REWARD, status=before), current)
    with pytest.raises(Conflict) as caught:
        check_change(current, parse(json.dumps(body("birthday", reward=REWARD, status=after))))
    assert caught.value.code == code


def test_a_put_keeps_what_it_omits_removes_nulls_and_cannot_rename_or_change_kind() -> None:
    current = parse(json.dumps(body("win_back", reward=REWARD, message=SMS)))
    assert merged(current, {"attribution_days": 30}).reward == current.reward
    assert merged(current, {"reward": None}).reward is None
    assert merged(current, {"version": 7, "effective_at": "x", "id": "c1"}) == current
    with pytest.raises(Unprocessable):
        merged(current, {"id": "c2"})
    with pytest.raises(Conflict) as caught:
        merged(current, {"kind": "birthday"})
    assert caught.value.code == "kind_frozen"
    with pytest.raises(Unprocessable):
        merged(current, {"reward": None, "message": None})  # a win-back with nothing to give
