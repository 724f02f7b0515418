"""The campaign store's contract (issue 17 item 1): one suite, run on the DynamoDB store (over moto) and on the
in-memory one, so that a service test on ``MemoryCampaignStore`` proves what it would prove on the table."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from shared.campaigns import Campaign, CampaignVersion, next_version, parse
from shared.dal.memory_campaign_store import MemoryCampaignStore
from shared.ports import CampaignStore

T = "shop"
NOW = datetime(2026, 12, 1, 9, 0, 0, 700_000, tzinfo=UTC)  # kept to the second, as the table keeps it


def campaign(campaign_id: str = "wake", status: str = "draft", points: int = 300) -> Campaign:
    return parse(
        json.dumps(
            {
                "id": campaign_id,
                "kind": "win_back",
                "status": status,
                "audience": {"inactive_days": 90, "cooldown_days": 60},
                "reward": {"points": points, "lifetime_days": 14},
                "schedule": {"start_at": "2026-12-01T00:00:00+03:00"},
                "attribution_days": 14,
                "holdout_bp": 1000,
                "variants": [{"id": "a", "weight_bp": 5000}, {"id": "b", "weight_bp": 5000}],
            }
        )
    )


def first(campaign_id: str = "wake", status: str = "draft") -> CampaignVersion:
    return next_version(None, campaign(campaign_id, status), NOW)


def whole_seconds(version: CampaignVersion) -> CampaignVersion:
    at = version.activated_at.replace(microsecond=0) if version.activated_at else None
    return version.model_copy(update={"effective_at": version.effective_at.replace(microsecond=0), "activated_at": at})


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> Iterator[CampaignStore]:
    if request.param == "memory":
        yield MemoryCampaignStore()
    else:
        request.getfixturevalue("aws")
        from shared.container import container

        yield container().campaign_store


def test_a_campaign_is_created_once(store: CampaignStore) -> None:
    # Given no campaign / When one is created in place 0
    assert store.current(T, "wake") is None and store.listed(T) == []
    v1 = first(status="active")
    assert store.create(T, v1, 0) == "created"
    # Then it reads back whole (times to the second), as its version 1 and in the list
    assert store.current(T, "wake") == store.version(T, "wake", 1) == whole_seconds(v1)
    assert store.listed(T) == [whole_seconds(v1)]
    # And the same id again is "exists", even in a free place, and changes nothing
    assert store.create(T, first(), 1) == "exists"
    assert store.listed(T) == [whole_seconds(v1)]


def test_a_place_is_taken_once(store: CampaignStore) -> None:
    # Given a campaign in place 0 / When another is created in place 0 (a concurrent count) / Then "taken", no write
    assert store.create(T, first("one"), 0) == "created"
    assert store.create(T, first("two"), 0) == "taken"
    assert store.current(T, "two") is None
    # And in the next place it is created; the list is by id
    assert store.create(T, first("two"), 1) == "created"
    assert [v.campaign.id for v in store.listed(T)] == ["one", "two"]


def test_a_new_version_replaces_the_current_one_and_keeps_the_old(store: CampaignStore) -> None:
    v1 = first()
    assert store.create(T, v1, 0) == "created"
    # When version 2 is saved over version 1
    v2 = next_version(whole_seconds(v1), campaign(points=500), NOW + timedelta(hours=1))
    assert store.replace(T, v2)
    # Then it is current and listed; version 1 is still readable
    assert store.current(T, "wake") == whole_seconds(v2) and store.listed(T) == [whole_seconds(v2)]
    assert store.version(T, "wake", 1) == whole_seconds(v1) and store.version(T, "wake", 3) is None
    # And a second save over version 1 (a concurrent PUT) is refused and changes nothing
    stale = next_version(whole_seconds(v1), campaign(points=700), NOW + timedelta(hours=2))
    assert not store.replace(T, stale)
    assert store.current(T, "wake") == whole_seconds(v2)


def test_an_unknown_campaign_cannot_be_replaced(store: CampaignStore) -> None:
    v2 = next_version(first(), campaign(), NOW)
    assert not store.replace(T, v2)
    assert store.current(T, "wake") is None and store.version(T, "wake", 2) is None


def test_tenants_do_not_see_each_others_campaigns(store: CampaignStore) -> None:
    assert store.create(T, first(), 0) == "created"
    assert store.current("other", "wake") is None and store.listed("other") == []
    assert store.create("other", first(), 0) == "created"  # its own places, its own ids
