"""Bad deliveries to the Standard Webhooks endpoint (issue 2 item 6, docs/spec.md §5): each answers the right status
with a JSON error carrying a stable code, and writes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from shared.dal.ledger_store import DynamoLedgerStore
from shared.ports import StoreUnavailable, VersionConflict
from tests.conftest import TenantCreds, body, make_tenant, paid_event, post_webhook, refund_event, signed_headers
from tests.integration.support import assert_error, history, ledger_items, member

State = tuple[list[str], dict[str, Any], list[dict[str, Any]]]


@pytest.fixture
def funded(client: Any, tenant: TenantCreds) -> Iterator[TenantCreds]:
    """A tenant whose member c1 holds 500 points from order o0 (so "writes nothing" has something to keep)."""
    response = post_webhook(client, tenant, paid_event("o0", total=1_000_000))
    assert response.status_code == 200 and body(response)["points_earned"] == 500
    yield tenant


def state(client: Any, creds: TenantCreds) -> State:
    return ledger_items(), member(client, creds), history(client, creds)


def url(creds: TenantCreds) -> str:
    return f"/v1/tenants/{creds.tenant_id}/webhooks/standard"


def post_raw(client: Any, creds: TenantCreds, raw: bytes, **headers: str) -> Any:
    return client.http.post(url(creds), body=raw, headers={**signed_headers(creds.secret, raw), **headers})


def with_data(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The event with fields of ``data`` replaced; a value of ``...`` removes the field."""
    data = {k: v for k, v in {**event["data"], **changes}.items() if v is not ...}
    return {**event, "data": data}


def test_malformed_json_is_400(client: Any, funded: TenantCreds) -> None:
    # Given a signed body that is not JSON
    before = state(client, funded)
    for raw in (b'{"type": "order.paid", "data": ', b"\xff\xfe not utf-8", b""):
        # When delivered
        response = post_raw(client, funded, raw)
        # Then it is a 400 malformed_json and nothing changed
        assert_error(response, 400, "malformed_json")
    assert state(client, funded) == before


@pytest.mark.parametrize(
    "event",
    [
        pytest.param([paid_event("o1")], id="array-body"),
        pytest.param({"type": "order.paid", "data": paid_event("o1")["data"]}, id="no-timestamp"),
        pytest.param({"type": "order.paid", "timestamp": "2026-01-01T00:00:00Z"}, id="no-data"),
        pytest.param({k: v for k, v in paid_event("o1").items() if k != "type"}, id="no-type"),
        pytest.param(with_data(paid_event("o1"), order_id=...), id="no-order-id"),
        pytest.param(with_data(paid_event("o1"), customer=...), id="no-customer"),
        pytest.param(with_data(paid_event("o1"), customer={}), id="customer-without-id"),
        pytest.param(with_data(paid_event("o1"), customer={"id": "has space"}), id="invalid-member-id"),
        pytest.param(with_data(paid_event("o1"), order_id="o 1"), id="invalid-order-id"),
        pytest.param(with_data(paid_event("o1"), currency=...), id="no-currency"),
        pytest.param(with_data(paid_event("o1"), currency="rub"), id="lowercase-currency"),
        pytest.param(with_data(paid_event("o1"), total_minor=...), id="no-total"),
        pytest.param(with_data(paid_event("o1"), paid_at=...), id="no-paid-at"),
        pytest.param(with_data(paid_event("o1"), paid_at="2026-01-01T10:00:00"), id="naive-paid-at"),
        pytest.param(with_data(paid_event("o1"), paid_at="yesterday"), id="garbage-paid-at"),
        pytest.param(with_data(paid_event("o1"), total_minor=10_000, shipping_minor=20_000), id="shipping-over-total"),
        pytest.param(with_data(refund_event("o0", "r1", 100), refund_id=...), id="refund-without-id"),
        pytest.param(with_data(refund_event("o0", "r1", 100), amount_minor=...), id="refund-without-amount"),
        pytest.param(with_data(refund_event("o0", "CANCEL", 100)), id="reserved-refund-id"),
        pytest.param({"type": "order.cancelled", "timestamp": "2026-01-01T00:00:00Z", "data": {}}, id="cancel-no-id"),
    ],
)
def test_missing_or_invalid_fields_are_422(client: Any, funded: TenantCreds, event: Any) -> None:
    # Given a signed delivery with a missing or invalid field
    before = state(client, funded)
    # When delivered
    response = post_webhook(client, funded, event)
    # Then it is a 422 validation_error and nothing changed
    assert_error(response, 422, "validation_error")
    assert state(client, funded) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("total_minor", -1),
        ("total_minor", 0),
        ("total_minor", 10**13),
        ("total_minor", 10**30),
        ("total_minor", 1000.0),
        ("total_minor", 1000.5),
        ("total_minor", "1000"),
        ("total_minor", True),
        ("total_minor", None),
        ("shipping_minor", -5),
        ("shipping_minor", 1.5),
        ("tax_minor", "10"),
        ("points_redeemed", -1),
        ("points_redeemed", 2.0),
        ("points_redeemed", 10**20),
    ],
)
def test_bad_order_amounts_are_422(client: Any, funded: TenantCreds, field: str, value: Any) -> None:
    # Given an order.paid whose amount is negative, zero, absurd, a float or a string
    before = state(client, funded)
    # When delivered
    response = post_webhook(client, funded, with_data(paid_event("o1"), **{field: value}))
    # Then it is a 422 naming the field, and nothing changed
    error = assert_error(response, 422, "validation_error")
    assert field in error["message"]
    assert state(client, funded) == before


@pytest.mark.parametrize("amount", [0, -100, 10**13, 100.0, "100", None])
def test_bad_refund_amounts_are_422(client: Any, funded: TenantCreds, amount: Any) -> None:
    # Given a refund of the funded order with a zero, negative, absurd, float or string amount
    before = state(client, funded)
    # When delivered
    response = post_webhook(client, funded, with_data(refund_event("o0", "r1", 1), amount_minor=amount))
    # Then it is a 422 and nothing changed
    assert_error(response, 422, "validation_error")
    assert state(client, funded) == before


def test_points_redeemed_worth_more_than_the_order_is_rejected(client: Any, funded: TenantCreds) -> None:
    # Given a member with 500 points and an order of 10000 minor claiming 200 points (20000 minor) redeemed
    before = state(client, funded)
    # When delivered
    response = post_webhook(client, funded, paid_event("o1", total=10_000, points_redeemed=200))
    # Then it is refused as invalid (cash paid cannot be negative) and nothing changed
    assert response.status_code == 422, response.body
    assert state(client, funded) == before


def test_refund_above_cash_paid_is_422(client: Any, funded: TenantCreds) -> None:
    # Given order o0 paid 1000000 in cash
    before = state(client, funded)
    # When a refund of 1000001 arrives
    response = post_webhook(client, funded, refund_event("o0", "r1", 1_000_001))
    # Then it is refused and nothing changed
    assert_error(response, 422, "refund_exceeds_paid")
    assert state(client, funded) == before


def test_wrong_currency_is_422(client: Any, funded: TenantCreds) -> None:
    # Given a RUB tenant, when an order in USD arrives
    before = state(client, funded)
    response = post_webhook(client, funded, with_data(paid_event("o1"), currency="USD"))
    # Then it is a 422 currency_mismatch and nothing changed
    assert_error(response, 422, "currency_mismatch")
    assert state(client, funded) == before


def test_unknown_event_type_is_422(client: Any, funded: TenantCreds) -> None:
    # Given a well-formed, signed event of a type the platform does not handle
    before = state(client, funded)
    event = {**paid_event("o1"), "type": "order.shipped"}
    # When delivered, then it is a 422 unknown_event_type and nothing changed
    assert_error(post_webhook(client, funded, event), 422, "unknown_event_type")
    assert state(client, funded) == before


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_signature_headers_are_401(client: Any, funded: TenantCreds, missing: str) -> None:
    # Given a valid order whose delivery lacks one signature header
    before = state(client, funded)
    raw = json.dumps(paid_event("o1")).encode()
    headers = {k: v for k, v in signed_headers(funded.secret, raw).items() if k != missing}
    # When delivered
    response = client.http.post(url(funded), body=raw, headers=headers)
    # Then it is the uniform 401 invalid_signature (the reason is logged, never answered) and nothing changed
    assert_error(response, 401, "invalid_signature")
    assert state(client, funded) == before


def test_wrong_signature_is_401(client: Any, funded: TenantCreds) -> None:
    # Given a valid order signed with another secret, and one whose body was altered after signing
    before = state(client, funded)
    raw = json.dumps(paid_event("o1")).encode()
    other = make_tenant("other")
    forged = client.http.post(url(funded), body=raw, headers=signed_headers(other.secret, raw))
    headers = signed_headers(funded.secret, raw)
    tampered = client.http.post(url(funded), body=raw.replace(b"100000", b"900000"), headers=headers)
    # Then both are 401 invalid_signature and nothing changed
    assert_error(forged, 401, "invalid_signature")
    assert_error(tampered, 401, "invalid_signature")
    assert state(client, funded) == before


@pytest.mark.parametrize("offset", [-301, 301, -3600])
def test_timestamp_outside_five_minutes_is_401(client: Any, funded: TenantCreds, offset: int) -> None:
    # Given a correctly signed order whose signature timestamp is more than 5 minutes off
    from shared import clock

    before = state(client, funded)
    ts = int(clock.now().timestamp()) + offset
    # When delivered
    response = post_webhook(client, funded, paid_event("o1"), ts=ts)
    # Then it is the uniform 401 invalid_signature (the reason is logged, never answered) and nothing changed
    assert_error(response, 401, "invalid_signature")
    assert state(client, funded) == before


def test_body_over_256_kib_is_413(client: Any, funded: TenantCreds) -> None:
    # Given a signed, otherwise valid order padded past 256 KiB
    before = state(client, funded)
    event = with_data(paid_event("o1"), padding="x" * (256 * 1024))
    raw = json.dumps(event).encode()
    assert len(raw) > 256 * 1024
    # When delivered, signed or not
    signed = post_raw(client, funded, raw)
    unsigned = client.http.post(url(funded), body=raw, headers={"content-type": "application/json"})
    # Then both are 413 and nothing changed
    assert_error(signed, 413, "payload_too_large")
    assert_error(unsigned, 413, "payload_too_large")
    assert state(client, funded) == before


def test_body_of_exactly_256_kib_is_accepted(client: Any, funded: TenantCreds) -> None:
    # Given a valid order padded to exactly 256 KiB
    event = with_data(paid_event("o1"), padding="")
    raw = json.dumps(event).encode()
    event = with_data(paid_event("o1"), padding="x" * (256 * 1024 - len(raw)))
    raw = json.dumps(event).encode()
    assert len(raw) == 256 * 1024
    # When delivered, then it is applied (the limit is inclusive of 256 KiB)
    assert post_raw(client, funded, raw).status_code == 200


def test_unknown_tenant_answers_like_a_bad_signature(client: Any, funded: TenantCreds) -> None:
    # Given a delivery to a tenant that does not exist, and one to a real tenant with a wrong signature
    before = state(client, funded)
    raw = json.dumps(paid_event("o1")).encode()
    headers = signed_headers(funded.secret, raw)
    unknown = client.http.post("/v1/tenants/no-such-tenant/webhooks/standard", body=raw, headers=headers)
    forged = client.http.post(url(funded), body=raw, headers={**headers, "webhook-signature": "v1,AAAA"})
    # Then both answer the same 401 body, so the endpoint does not reveal which tenants exist
    assert_error(unknown, 401, "invalid_signature")
    assert (unknown.status_code, body(unknown)) == (forged.status_code, body(forged))
    assert state(client, funded) == before


@pytest.mark.parametrize(
    "fault", [StoreUnavailable("throttled"), VersionConflict()], ids=["store-unavailable", "version-conflict"]
)
def test_transient_store_fault_is_503_and_writes_nothing(
    client: Any, funded: TenantCreds, monkeypatch: pytest.MonkeyPatch, fault: Exception
) -> None:
    # Given DynamoDB failing every commit (throttling, or a conflict on every bounded retry)
    before = state(client, funded)
    calls: list[int] = []

    def failing(self: DynamoLedgerStore, writes: Any) -> None:
        calls.append(len(writes))
        raise fault

    monkeypatch.setattr(DynamoLedgerStore, "_transact", failing)
    # When an order, a refund and a cancellation arrive
    events = [paid_event("o1"), refund_event("o0", "r1", 1_000), {**paid_event("o0"), "type": "order.cancelled"}]
    for event in events:
        response = post_webhook(client, funded, event, msg_id="msg_retry")
        # Then each answers 503 with a JSON error so the sender retries
        assert response.status_code == 503, response.body
        error = body(response)["error"]
        assert error["code"] and error["message"]
    assert calls, "the commit was never attempted"
    monkeypatch.undo()
    # And nothing was written
    assert state(client, funded) == before
    # And the sender's retry of the same delivery is applied once the store recovers
    retried = post_webhook(client, funded, paid_event("o1"), msg_id="msg_retry")
    assert (retried.status_code, body(retried)["status"]) == (200, "applied")


def test_version_conflict_is_retried_before_giving_up(
    client: Any, funded: TenantCreds, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a store whose first two commits lose a race
    real = DynamoLedgerStore._transact
    attempts: list[int] = []

    def flaky(self: DynamoLedgerStore, writes: Any) -> None:
        attempts.append(1)
        if len(attempts) <= 2:
            raise VersionConflict()
        real(self, writes)

    monkeypatch.setattr(DynamoLedgerStore, "_transact", flaky)
    # When an order arrives
    response = post_webhook(client, funded, paid_event("o1"))
    # Then it is applied once after the retries
    assert (response.status_code, body(response)["status"]) == (200, "applied")
    assert len(attempts) == 3
    assert member(client, funded)["available"] == 550
