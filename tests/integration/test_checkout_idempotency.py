"""Checkout is idempotent by hold (issue 14 item 4): a capture is answered once, and a different one is a conflict."""

from __future__ import annotations

from typing import Any

from tests.conftest import TenantCreds, paid_event
from tests.integration.support import assert_error, ledger_items
from tests.integration.test_order_flow import api, place_hold, send


def test_a_repeated_capture_answers_the_first_and_a_different_one_is_409(client: Any, tenant: TenantCreds) -> None:
    # Given a hold of 40 captured for 30
    send(client, tenant, paid_event("o0", total=200_000))
    hold = place_hold(client, tenant, "o1", 40)
    path = f"/holds/{hold['hold_id']}/capture"
    first = api(client, tenant, path, {"points": 30})
    items = ledger_items()
    # When the same capture comes again, then it answers the first result and writes nothing
    assert api(client, tenant, path, {"points": 30}) == first
    assert ledger_items() == items
    # When a capture of other points comes, then it is a conflict, not a silent success
    response = client.http.post(
        f"/v1/tenants/{tenant.tenant_id}/holds/{hold['hold_id']}/capture", body=b'{"points": 35}', headers=tenant.auth
    )
    assert_error(response, 409, "capture_differs")
    assert ledger_items() == items
