"""Bad bulk grant requests (issue 5 item 7): 422 naming the field, 409 for a reused id, 404; nothing written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import TenantCreds, make_tenant
from tests.integration.conftest import Clock
from tests.integration.scheduled.conftest import Jobs
from tests.integration.scheduled.grant_support import create_grant, grant_body, post_grant
from tests.integration.support import assert_error, ledger_items

NOON = datetime(2026, 12, 24, 12, 0, tzinfo=UTC)
TIERS = [{"name": "gold", "min_spend_minor": 0, "earn_rate_bp": 700, "discount_bp": 0}]

CASES = [
    ({"segment": {}}, "segment"),
    ({"segment": {"all": True, "tier": "gold"}}, "segment"),
    ({"segment": {"all": False}}, "segment"),
    ({"segment": {"everyone": True}}, "segment.everyone"),
    ({"segment": {"tier": "platinum"}}, "segment.tier"),
    ({"segment": {"member_ids": []}}, "segment.member_ids"),
    ({"segment": {"member_ids": [f"m{n}" for n in range(10_001)]}}, "segment.member_ids"),
    ({"segment": {"member_ids": ["bad id"]}}, "segment.member_ids.0"),
    ({"points": 0}, "points"),
    ({"points": -5}, "points"),
    ({"points": "5"}, "points"),
    ({"expires_at": "2027-01-01T00:00:00Z"}, "expires_at"),  # and lifetime_days: both
    ({"lifetime_days": None}, "expires_at"),  # neither
    ({"lifetime_days": None, "expires_at": "2026-12-24T11:59:59Z"}, "expires_at"),  # in the past
    ({"notify": ["fax"]}, "notify.0"),
    ({"reason": ""}, "reason"),
    ({"grant_id": "with space"}, "grant_id"),
]


@pytest.mark.parametrize(("change", "field"), CASES, ids=[c[1] + f"-{n}" for n, c in enumerate(CASES)])
def test_a_bad_grant_is_a_422_naming_the_field_and_changes_nothing(
    client: Any, jobs: Jobs, frozen: Clock, change: dict[str, Any], field: str
) -> None:
    # Given a tenant with a gold tier, at noon
    frozen.now = NOON
    creds = make_tenant("shop", tiers=TIERS)
    before = ledger_items()
    # When a grant with one bad field is posted
    error = assert_error(post_grant(client, creds, grant_body() | change), 422, "validation_error")
    # Then the error names that field, and nothing was written or enqueued
    assert field in [d["field"] for d in error["details"]], error
    assert ledger_items() == before
    assert jobs.drain().invocations == 0


def test_a_reused_grant_id_with_another_body_is_a_conflict_and_unknown_ids_are_404(
    client: Any, jobs: Jobs, frozen: Clock
) -> None:
    # Given a grant g1
    frozen.now = NOON
    creds: TenantCreds = make_tenant("shop")
    create_grant(client, creds, grant_body("g1"))
    # When g1 is posted again with other points, then it is a conflict
    assert_error(post_grant(client, creds, grant_body("g1", points=51)), 409, "grant_id_conflict")
    # And an unknown grant id reads as 404, another tenant's key gets 403
    unknown = client.http.get("/v1/tenants/shop/grants/nope", headers=creds.auth)
    assert_error(unknown, 404, "grant_not_found")
    other = make_tenant("other")
    assert_error(client.http.get("/v1/tenants/shop/grants/g1", headers=other.auth), 403, "forbidden")
