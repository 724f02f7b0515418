"""The scheduled VIP classification (issue 5 item 10): class A on accounts, then the VIP rate and discount apply."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from tests.conftest import TenantCreds, body, make_tenant, paid_event
from tests.integration.abc_support import DAY, seed_orders
from tests.integration.conftest import Clock
from tests.integration.scheduled.conftest import Jobs
from tests.integration.scheduled.test_expiry_at_scale import dynamodb_calls  # noqa: F401 (fixture)
from tests.integration.support import member
from tests.integration.test_program_api import put_program, send

VIP = {"earn_rate_bp": 1_000, "discount_bp": 500, "metric": "revenue", "period_days": 365}  # base rate: 500


def quote(client: Any, creds: TenantCreds, member_id: str, total: int = 100_000) -> dict[str, Any]:
    raw = json.dumps({"member_id": member_id, "currency": "RUB", "total_minor": total})
    response = client.http.post(f"/v1/tenants/{creds.tenant_id}/checkout/quote", body=raw, headers=creds.auth)
    assert response.status_code == 200, response.body
    return dict(body(response))


def vips(client: Any, creds: TenantCreds) -> set[str]:
    return {m for m in ("m1", "m2", "m3", "m4", "m5") if member(client, creds, m)["vip"]}


def test_class_a_members_earn_the_vip_rate_and_get_the_vip_discount_after_the_run(
    client: Any,
    jobs: Jobs,
    frozen: Clock,
    dynamodb_calls: Counter[str],  # noqa: F811
) -> None:
    # Given a tenant with vip (revenue, 365 days) whose m1 and m2 make 80 % of the revenue, and a tenant without vip
    creds = make_tenant(vip=VIP)
    seed_orders(client, creds, frozen)
    plain = make_tenant("plain")
    send(client, plain, paid_event("p1", "m1", 100_000))
    assert quote(client, creds, "m1")["tier_discount_minor"] == 0
    dynamodb_calls.clear()
    # When the classification runs
    summary = jobs.run("classify-vip", frozen.now)
    # Then only the vip tenant was classified, without a Scan: its five members, two accounts written
    assert summary.tasks == 1
    assert (summary.totals["members"], summary.totals["changed"], summary.totals["errors"]) == (5, 2, 0)
    assert dynamodb_calls["scan"] == 0
    assert vips(client, creds) == {"m1", "m2"}
    assert not member(client, plain, "m1")["vip"]
    # And a rerun of the same event changes nothing
    assert jobs.run("classify-vip", frozen.now).totals["changed"] == 0
    # And a class-A member's quote has the VIP discount (5 %), a class-C member's has none
    assert quote(client, creds, "m1")["tier_discount_minor"] == 5_000
    assert quote(client, creds, "m5")["tier_discount_minor"] == 0
    # And m1's next paid order earns at the VIP rate (10 %: 100 points), m5's at the base rate (5 %: 50)
    assert send(client, creds, paid_event("next-m1", "m1", 100_000))["points_earned"] == 100
    assert send(client, creds, paid_event("next-m5", "m5", 100_000))["points_earned"] == 50


def test_a_member_who_drops_out_of_a_loses_vip_at_the_next_run(client: Any, jobs: Jobs, frozen: Clock) -> None:
    # Given m1 and m2 classified A
    creds = make_tenant(vip=VIP)
    seed_orders(client, creds, frozen)
    jobs.run("classify-vip", frozen.now)
    assert vips(client, creds) == {"m1", "m2"}
    # When m5 buys for 3,000,000 and a day later the classification runs again
    send(client, creds, paid_event("whale", "m5", 3_000_000))
    now = frozen.advance(DAY)
    summary = jobs.run("classify-vip", now)
    # Then m5 and m1 are A (m1 starts at 76 %), m2 (starting at 88.5 %) lost VIP: two accounts written
    assert summary.totals["changed"] == 2
    assert vips(client, creds) == {"m5", "m1"}
    assert quote(client, creds, "m2")["tier_discount_minor"] == 0
    assert send(client, creds, paid_event("after-m2", "m2", 100_000))["points_earned"] == 50


def test_turning_vip_off_clears_every_vip_once(client: Any, jobs: Jobs, frozen: Clock) -> None:
    # Given classified VIPs
    creds = make_tenant(vip=VIP)
    seed_orders(client, creds, frozen)
    jobs.run("classify-vip", frozen.now)
    # When the merchant removes vip and the classification runs
    assert put_program(client, creds, {"vip": None}).status_code == 200
    cleared = jobs.run("classify-vip", frozen.advance(DAY))
    # Then the labels are gone, and the tenant leaves the registry (the next run has nothing to do)
    assert (cleared.tasks, cleared.totals["changed"]) == (1, 2)
    assert vips(client, creds) == set()
    assert jobs.run("classify-vip", frozen.advance(DAY)).tasks == 0
