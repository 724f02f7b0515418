"""Bad requests to the merchant APIs (issue 2 item 6, docs/spec.md §4, §6): right status, stable code, nothing written."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import TenantCreds, body, make_tenant, paid_event, post_webhook
from tests.integration.conftest import Clock
from tests.integration.support import assert_error, history, ledger_items, member


def base(creds: TenantCreds) -> str:
    return f"/v1/tenants/{creds.tenant_id}"


def post(client: Any, creds: TenantCreds, path: str, payload: Any, headers: dict[str, str] | None = None) -> Any:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.http.post(base(creds) + path, body=raw, headers=headers or creds.auth)


def fund(client: Any, creds: TenantCreds, points: int, member_id: str = "c1", order_id: str = "o0", **kw: Any) -> None:
    """Give the member ``points`` through a paid order (default program: 5 %, 100 minor per point)."""
    response = post_webhook(client, creds, paid_event(order_id, member_id, total=points * 2_000), **kw)
    assert response.status_code == 200 and body(response)["points_earned"] == points, response.body


def hold(client: Any, creds: TenantCreds, points: int, order_id: str = "o1", **cart: Any) -> Any:
    return post(client, creds, "/holds", {"member_id": "c1", "order_id": order_id, "points": points, **cart})


# -- tenant isolation (docs/spec.md §6) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("get", "/members/c1", None),
        ("get", "/members/c1/history", None),
        ("get", "/members?email=a@example.com", None),
        ("put", "/members/c1", {"name": "Eve"}),
        ("get", "/program", None),
        ("put", "/program", {"earn_rate_bp": 10_000}),
        ("post", "/checkout/quote", {"member_id": "c1", "currency": "RUB", "total_minor": 1000}),
        ("post", "/holds", {"member_id": "c1", "order_id": "o9", "points": 1}),
        ("post", "/holds/h_x/capture", {}),
        ("post", "/holds/h_x/release", {}),
    ],
)
def test_unknown_tenant_and_other_tenants_key_get_the_same_403(
    client: Any, tenant: TenantCreds, method: str, path: str, payload: Any
) -> None:
    # Given tenant "demo" with a funded member, and a second tenant "other"
    fund(client, tenant, 100)
    other = make_tenant("other")
    before = ledger_items()
    raw = None if payload is None else json.dumps(payload)
    call = getattr(client.http, method)
    # When demo's data is addressed with other's key, and an unknown tenant with a valid key
    foreign = call(f"/v1/tenants/demo{path}", headers=other.auth, **({"body": raw} if raw else {}))
    unknown = call(f"/v1/tenants/nobody{path}", headers=tenant.auth, **({"body": raw} if raw else {}))
    missing = call(
        f"/v1/tenants/demo{path}", headers={"content-type": "application/json"}, **({"body": raw} if raw else {})
    )
    # Then a key that does not open the tenant answers 403 with an identical body, no key at all 401 (RFC 9110),
    # and nothing was written
    error = assert_error(foreign, 403, "forbidden")
    assert (unknown.status_code, body(unknown)) == (403, {"error": error})
    assert_error(missing, 401, "missing_api_key")
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert ledger_items() == before


def test_no_bearer_key_is_401_and_a_made_up_key_403(client: Any, tenant: TenantCreds) -> None:
    # Given the right key sent with another scheme or none, an empty Bearer, and a made-up key
    for header, status, code in (
        (f"Basic {tenant.api_key}", 401, "missing_api_key"),
        (tenant.api_key, 401, "missing_api_key"),
        ("Bearer ", 401, "missing_api_key"),
        ("Bearer lk_made_up", 403, "forbidden"),
    ):
        # When the program is read, then no Bearer key is 401, a wrong one 403
        response = client.http.get(f"{base(tenant)}/program", headers={"authorization": header})
        assert_error(response, status, code)


# -- checkout holds (docs/spec.md §4) ------------------------------------------------------------------------


def test_capture_of_an_expired_hold_is_409(client: Any, tenant: TenantCreds, frozen: Clock) -> None:
    # Given a hold of 40 of 100 points, 15 minutes TTL
    fund(client, tenant, 100, ts=frozen.ts)
    hold_id = body(hold(client, tenant, 40))["hold_id"]
    # When 16 minutes pass
    frozen.advance(timedelta(minutes=16))
    before = ledger_items(), member(client, tenant), history(client, tenant)
    # Then the points are available again and the capture is a 409 hold_not_active that writes nothing
    assert (before[1]["available"], before[1]["held"]) == (100, 0)
    assert_error(post(client, tenant, f"/holds/{hold_id}/capture", {}), 409, "hold_not_active")
    assert (ledger_items(), member(client, tenant), history(client, tenant)) == before


def test_capture_of_a_released_hold_is_409(client: Any, tenant: TenantCreds) -> None:
    # Given a hold that was released
    fund(client, tenant, 100)
    hold_id = body(hold(client, tenant, 40))["hold_id"]
    released = post(client, tenant, f"/holds/{hold_id}/release", b"")
    assert (released.status_code, body(released)["status"]) == (200, "released")
    before = ledger_items(), member(client, tenant)
    # When it is captured, then it is a 409 hold_not_active and nothing changed
    assert_error(post(client, tenant, f"/holds/{hold_id}/capture", {"points": 40}), 409, "hold_not_active")
    assert (ledger_items(), member(client, tenant)) == before
    assert before[1]["available"] == 100


def test_release_of_a_captured_hold_is_409(client: Any, tenant: TenantCreds) -> None:
    # Given a captured hold
    fund(client, tenant, 100)
    hold_id = body(hold(client, tenant, 40))["hold_id"]
    assert post(client, tenant, f"/holds/{hold_id}/capture", b"").status_code == 200
    before = ledger_items()
    # When it is released, then it is a 409 and nothing changed
    assert_error(post(client, tenant, f"/holds/{hold_id}/release", b""), 409, "hold_captured")
    assert ledger_items() == before


def test_unknown_hold_is_404(client: Any, tenant: TenantCreds) -> None:
    # Given no such hold, when captured or released, then 404
    assert_error(post(client, tenant, "/holds/h_nope/capture", {}), 404, "hold_not_found")
    assert_error(post(client, tenant, "/holds/h_nope/release", {}), 404, "hold_not_found")


def test_hold_above_the_balance_is_422(client: Any, tenant: TenantCreds) -> None:
    # Given 100 points, 60 of them already held for another order
    fund(client, tenant, 100)
    assert hold(client, tenant, 60, order_id="o1").status_code == 201
    before = ledger_items(), member(client, tenant)
    # When 41 more are held, then it is a 422 insufficient_points and nothing changed
    assert_error(hold(client, tenant, 41, order_id="o2"), 422, "insufficient_points")
    assert (ledger_items(), member(client, tenant)) == before
    # And exactly the 40 left can be held
    assert hold(client, tenant, 40, order_id="o2").status_code == 201


def test_hold_of_pending_points_is_422(client: Any, aws: None) -> None:
    # Given points still pending (pending_days = 7)
    creds = make_tenant("pend", pending_days=7)
    fund(client, creds, 100)
    before = ledger_items()
    # When they are held, then it is refused
    assert_error(hold(client, creds, 1), 422, "insufficient_points")
    assert ledger_items() == before


def test_hold_above_the_allowed_share_of_the_cart_is_422(client: Any, tenant: TenantCreds) -> None:
    # Given 1000 points and a cart of 100000 with 10000 shipping: 50 % of the 90000 goods is 450 points
    fund(client, tenant, 1_000)
    before = ledger_items()
    cart: dict[str, Any] = {"currency": "RUB", "total_minor": 100_000, "shipping_minor": 10_000}
    # When 451 points are held for it
    response = hold(client, tenant, 451, **cart)
    # Then it is a 422 exceeds_redeem_share and nothing changed
    error = assert_error(response, 422, "exceeds_redeem_share")
    assert "450" in error["message"]
    assert ledger_items() == before
    # And 450 points are allowed
    assert hold(client, tenant, 450, **cart).status_code == 201


def test_hold_below_min_redeem_points_is_422(client: Any, aws: None) -> None:
    # Given a program with a minimum of 50 points per redemption and a member with 100
    creds = make_tenant("mini", min_redeem_points=50)
    fund(client, creds, 100)
    before = ledger_items()
    # When 49 points are held, then it is refused and nothing changed
    response = hold(client, creds, 49)
    assert_error(response, 422, "below_minimum")
    assert ledger_items() == before
    # And 50 are allowed
    assert hold(client, creds, 50).status_code == 201


def test_hold_in_another_currency_is_422(client: Any, tenant: TenantCreds) -> None:
    # Given a RUB tenant, when a hold names a USD cart, then it is a currency_mismatch
    fund(client, tenant, 100)
    before = ledger_items()
    assert_error(hold(client, tenant, 10, currency="USD", total_minor=10_000), 422, "currency_mismatch")
    assert ledger_items() == before


@pytest.mark.parametrize(
    "payload",
    [
        {"order_id": "o1", "points": 10},
        {"member_id": "c1", "points": 10},
        {"member_id": "c1", "order_id": "o1"},
        {"member_id": "c1", "order_id": "o1", "points": 0},
        {"member_id": "c1", "order_id": "o1", "points": -5},
        {"member_id": "c1", "order_id": "o1", "points": 10.0},
        {"member_id": "c1", "order_id": "o1", "points": "10"},
        {"member_id": "c1", "order_id": "o1", "points": 10**12},
        {"member_id": "c 1", "order_id": "o1", "points": 10},
    ],
)
def test_invalid_hold_requests_are_422(client: Any, tenant: TenantCreds, payload: dict[str, Any]) -> None:
    # Given a funded member, when a hold request misses a field or has an invalid one
    fund(client, tenant, 100)
    before = ledger_items()
    # Then it is a 422 validation_error and nothing changed
    assert_error(post(client, tenant, "/holds", payload), 422, "validation_error")
    assert ledger_items() == before


def test_invalid_capture_points_are_422(client: Any, tenant: TenantCreds) -> None:
    # Given a hold of 40
    fund(client, tenant, 100)
    hold_id = body(hold(client, tenant, 40))["hold_id"]
    before = ledger_items()
    # When captured for more than held, zero, or a float, then 422 and nothing changed
    assert_error(post(client, tenant, f"/holds/{hold_id}/capture", {"points": 41}), 422, "invalid_points")
    for points in (0, 1.5, "10"):
        assert_error(post(client, tenant, f"/holds/{hold_id}/capture", {"points": points}), 422, "validation_error")
    assert ledger_items() == before


def test_malformed_json_on_the_apis_is_400(client: Any, tenant: TenantCreds) -> None:
    # Given a body that is not JSON, when sent to each JSON route, then 400 malformed_json
    for path in ("/checkout/quote", "/holds"):
        assert_error(post(client, tenant, path, b"{not json"), 400, "malformed_json")
    response = client.http.put(f"{base(tenant)}/program", body=b"{", headers=tenant.auth)
    assert_error(response, 400, "malformed_json")
    response = client.http.put(f"{base(tenant)}/members/c1", body=b"[", headers=tenant.auth)
    assert_error(response, 400, "malformed_json")


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"member_id": "c1", "currency": "USD", "total_minor": 10_000}, 422, "currency_mismatch"),
        ({"member_id": "c1", "currency": "RUB", "total_minor": 0}, 422, "validation_error"),
        ({"member_id": "c1", "currency": "RUB", "total_minor": -1}, 422, "validation_error"),
        ({"member_id": "c1", "currency": "RUB", "total_minor": 99.5}, 422, "validation_error"),
        ({"member_id": "c1", "currency": "RUB", "total_minor": 10**15}, 422, "validation_error"),
        ({"member_id": "c1", "currency": "RUB"}, 422, "validation_error"),
        ({"currency": "RUB", "total_minor": 10_000}, 422, "validation_error"),
    ],
)
def test_invalid_quotes(client: Any, tenant: TenantCreds, payload: dict[str, Any], status: int, code: str) -> None:
    # Given a quote request with a wrong currency or a bad amount, then the right error
    assert_error(post(client, tenant, "/checkout/quote", payload), status, code)


def test_refund_of_an_unknown_order_is_404(client: Any, tenant: TenantCreds) -> None:
    # Given no order o404, when a refund of it arrives
    from tests.conftest import refund_event

    before = ledger_items()
    response = post_webhook(client, tenant, refund_event("o404", "r1", 1_000))
    # Then it is a 404 order_not_found and nothing changed
    assert_error(response, 404, "order_not_found")
    assert ledger_items() == before


def test_unknown_member_is_404(client: Any, tenant: TenantCreds) -> None:
    # Given no member c9, when viewed, then 404 member_not_found
    response = client.http.get(f"{base(tenant)}/members/c9", headers=tenant.auth)
    assert_error(response, 404, "member_not_found")
