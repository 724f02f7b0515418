"""Holiday / bulk grants (issue 5 item 7): to all members, to a tier, to a list; progress, expiry, history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.clock import iso, parse_ts
from tests.conftest import make_tenant, paid_event
from tests.integration.conftest import Clock
from tests.integration.scheduled.conftest import Jobs
from tests.integration.scheduled.grant_support import counters, create_grant, grant_body, grant_lots, progress
from tests.integration.support import history, member
from tests.integration.test_order_flow import send

NOON = datetime(2026, 12, 24, 12, 0, tzinfo=UTC)
TIERS = [
    {"name": "base", "min_spend_minor": 0, "earn_rate_bp": 500, "discount_bp": 0},
    {"name": "gold", "min_spend_minor": 150_000, "earn_rate_bp": 700, "discount_bp": 0},
]


def test_a_grant_to_all_members_reaches_each_once_with_its_expiry_and_leaves_other_tenants_alone(
    client: Any, jobs: Jobs, frozen: Clock
) -> None:
    # Given a shop with three members and another tenant with a member of the same id
    frozen.now = NOON
    shop, other = make_tenant("shop"), make_tenant("other")
    for n in (1, 2, 3):
        send(client, shop, paid_event(f"o{n}", f"c{n}", 100_000))
    send(client, other, paid_event("x1", "c1", 100_000))
    # When the shop grants 50 points for 30 days to all members
    created = create_grant(client, shop, grant_body("xmas", {"all": True}))
    # Then the answer is immediate: queued, nothing granted yet
    assert counters(created) == ("queued", 0, 0, 0, 0, 0) and created["segment"] == {"all": True}
    # When the worker drains the queue
    jobs.drain()
    # Then the grant is done: three members targeted and granted
    done = progress(client, shop, "xmas")
    assert counters(done) == ("done", 3, 3, 0, 0, 0)
    assert done["tasks"]["chains_done"] == done["tasks"]["chains"] == 64 and done["finished_at"]
    # And each member has a lot of source grant expiring 30 days after the grant's creation
    expected_expiry = iso(parse_ts(created["created_at"]) + timedelta(days=30))
    assert created["expires_at"] == expected_expiry
    for n in (1, 2, 3):
        [lot] = grant_lots(client, shop, f"c{n}")
        assert (lot["points"], lot["remaining"], lot["expires_at"]) == (50, 50, expected_expiry)
        assert member(client, shop, f"c{n}")["available"] == 50 + 50
        # And the history shows a grant entry with the reason
        [entry] = [e for e in history(client, shop, f"c{n}") if e["kind"] == "grant"]
        assert entry["delta"] == 50 and entry["reference"] == "xmas" and entry["entry"] == f"M#c{n}/GRANT#xmas"
        assert entry["details"] == {"grant_id": "xmas", "reason": "Happy holidays", "points": 50}
    # And the other tenant's member got nothing
    assert grant_lots(client, other, "c1") == []
    assert [e["kind"] for e in history(client, other, "c1")] == ["earn"]


def test_a_tier_grant_reaches_only_that_tiers_members_with_the_fixed_expiry(
    client: Any, jobs: Jobs, frozen: Clock
) -> None:
    # Given members in gold (spent 2,000.00) and in base (spent 100.00)
    frozen.now = NOON
    shop = make_tenant("shop", tiers=TIERS)
    send(client, shop, paid_event("o1", "gold1", 200_000))
    send(client, shop, paid_event("o2", "base1", 10_000))
    send(client, shop, paid_event("o3", "gold2", 200_000))
    assert member(client, shop, "gold1")["tier"] == "gold"
    # When the shop grants gold members 100 points until a fixed date
    until = "2027-01-10T20:59:59Z"
    create_grant(client, shop, grant_body("vip", {"tier": "gold"}, points=100, lifetime_days=None, expires_at=until))
    jobs.drain()
    # Then only the two gold members got them, expiring at that instant
    assert counters(progress(client, shop, "vip")) == ("done", 2, 2, 0, 0, 0)
    for member_id in ("gold1", "gold2"):
        [lot] = grant_lots(client, shop, member_id)
        assert (lot["points"], lot["expires_at"]) == (100, until)
    assert grant_lots(client, shop, "base1") == []


def test_a_list_grant_skips_unknown_ids_and_counts_each_id_once(client: Any, jobs: Jobs, frozen: Clock) -> None:
    # Given two known members (one only through contact data) and a list with an unknown id and a repeated id
    frozen.now = NOON
    shop = make_tenant("shop")
    send(client, shop, paid_event("o1", "c1", 100_000))
    response = client.http.put("/v1/tenants/shop/members/c2", body='{"name": "Bo"}', headers=shop.auth)
    assert response.status_code == 200
    ids = ["c1", "ghost", "c2", "c1"]
    # When the shop grants to that list
    created = create_grant(client, shop, grant_body("list", {"member_ids": ids}))
    assert created["targeted"] == 3 and created["segment"] == {"member_ids": 3}
    jobs.drain()
    # Then the known members got the points once and the unknown id is skipped, not created
    assert counters(progress(client, shop, "list")) == ("done", 3, 2, 1, 0, 0)
    assert [lot["points"] for lot in grant_lots(client, shop, "c1")] == [50]
    assert [lot["points"] for lot in grant_lots(client, shop, "c2")] == [50]
    assert client.http.get("/v1/tenants/shop/members/ghost", headers=shop.auth).status_code == 404
