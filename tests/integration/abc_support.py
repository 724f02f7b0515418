"""A tenant whose members have known revenue and orders for the ABC (VIP) tests, seeded through the webhook."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.conftest import TenantCreds, body, cancel_event, make_tenant, paid_event, refund_event
from tests.integration.conftest import Clock
from tests.integration.test_program_api import send

DAY = timedelta(days=1)
# Revenue in the last 365 days (cash paid minus refunds): 1,000,000 in all
REVENUE = {"m1": 500_000, "m2": 300_000, "m3": 100_000, "m4": 60_000, "m5": 40_000}
ORDERS = {"m1": 1, "m2": 1, "m3": 1, "m4": 2, "m5": 10}


def seed_orders(client: Any, creds: TenantCreds, frozen: Clock) -> None:
    """REVENUE / ORDERS above, plus what must not count: a cancelled order, an order 400 days old, a refund."""
    recent = frozen.now - 10 * DAY
    send(client, creds, paid_event("old-m3", "m3", 900_000, paid_at=frozen.now - 400 * DAY))
    send(client, creds, paid_event("o1", "m1", 600_000, paid_at=recent))
    send(client, creds, refund_event("o1", "r1", 100_000))  # m1: 600,000 - 100,000
    send(client, creds, paid_event("o2", "m2", 300_000, paid_at=recent))
    send(client, creds, paid_event("o2-cancelled", "m2", 200_000, paid_at=recent))
    send(client, creds, cancel_event("o2-cancelled"))
    send(client, creds, paid_event("o3", "m3", 100_000, paid_at=recent))
    for n in range(2):
        send(client, creds, paid_event(f"o4-{n}", "m4", 30_000, paid_at=recent))
    for n in range(10):
        send(client, creds, paid_event(f"o5-{n}", "m5", 4_000, paid_at=recent))


def seed_other_tenant(client: Any, frozen: Clock) -> TenantCreds:
    """Another tenant whose member m5 buys a lot: never counted in demo's analysis."""
    other = make_tenant("other")
    send(client, other, paid_event("big", "m5", 50_000_000, paid_at=frozen.now - DAY))
    return other


def report(client: Any, creds: TenantCreds, query: str = "") -> Any:
    return client.http.get(f"/v1/tenants/{creds.tenant_id}/reports/abc{query}", headers=creds.auth)


def report_ok(client: Any, creds: TenantCreds, query: str = "") -> dict[str, Any]:
    response = report(client, creds, query)
    assert response.status_code == 200, response.body
    return dict(body(response))


def classes(result: dict[str, Any]) -> dict[str, int]:
    return {k: v["members"] for k, v in result["classes"].items()}
