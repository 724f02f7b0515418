"""Stripe webhooks (issue 4) over the published fixtures, byte for byte, with their derived signature vectors."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.container import container
from shared.webhooks import stripe
from tests.conftest import TenantCreds, body, paid_event, post_webhook
from tests.integration.conftest import Clock
from tests.integration.platforms.conftest import VECTORS, fixture, platform_tenant, post, vector
from tests.integration.support import assert_error, history, ledger_items, member

SECRET = "whsec_test_secret"  # the secret of the derived vectors (test_vectors.json)
VECTOR_TS = 1_700_000_000  # the vectors' t: their signatures are fresh only while the clock is near it
VECTOR_FILES = [v["file"] for v in VECTORS["derived"] if v["scheme"] == "stripe"]
OTHER_FIXTURES = [
    "stripe_payment_intent_succeeded.json",
    "stripe_charge_succeeded.json",
    "stripe_charge_refund_updated.json",
    "stripe_openapi_fixture_charge.json",
    "stripe_openapi_fixture_checkout_session.json",
    "stripe_openapi_fixture_event_envelope.json",
    "stripe_openapi_fixture_payment_intent.json",
    "stripe_openapi_fixture_refund.json",
]


def signature(raw: bytes, ts: int, secret: str = SECRET) -> str:
    """Stripe's scheme, written out here independently of the adapter: hex HMAC-SHA256 of "<t>.<body>"."""
    return hmac.new(secret.encode(), f"{ts}.".encode() + raw, hashlib.sha256).hexdigest()


def signed(raw: bytes, ts: int, secret: str = SECRET) -> dict[str, str]:
    return {"content-type": "application/json", "Stripe-Signature": f"t={ts},v1={signature(raw, ts, secret)}"}


def vector_headers(file: str) -> dict[str, str]:
    """Headers carrying the vector's derived header value, not one computed by the test."""
    return {"content-type": "application/json", "Stripe-Signature": vector("stripe", file)["expected"]}


def send(client: Any, raw: bytes, headers: dict[str, str], tenant_id: str = "shop") -> Any:
    return post(client, tenant_id, "stripe", raw, headers)


def result_of(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.body
    [result] = body(response)["results"]
    return dict(result)


def event(kind: str, obj: dict[str, Any], event_id: str, created: int) -> bytes:
    return json.dumps(
        {"id": event_id, "object": "event", "created": created, "type": kind, "data": {"object": obj}}
    ).encode()


def session(**changes: Any) -> dict[str, Any]:
    """The checkout.session.completed fixture's session with ``changes``."""
    return {**json.loads(fixture("stripe_checkout_session_completed.json"))["data"]["object"], **changes}


def charge(**changes: Any) -> dict[str, Any]:
    """The charge.refunded fixture's charge with ``changes``."""
    return {**json.loads(fixture("stripe_charge_refunded.json"))["data"]["object"], **changes}


@pytest.fixture
def shop(aws: None, frozen: Clock) -> TenantCreds:
    # The clock is frozen at the wall clock's now; a ten-year lifetime keeps the points of old fixtures longer
    return platform_tenant("stripe", SECRET, currency="USD", lifetime_days=3650)


@pytest.fixture
def at_vector_time(aws: None, frozen: Clock) -> Clock:
    """The clock one minute after the vectors' t, so that their signatures are fresh."""
    frozen.now = datetime.fromtimestamp(VECTOR_TS + 60, UTC)
    return frozen


def test_the_derived_vectors_are_reproduced() -> None:
    # Given the Stripe vectors derived over the saved files (checked with stripe==16.1.0)
    assert len(VECTOR_FILES) == 3
    for v in (v for v in VECTORS["derived"] if v["scheme"] == "stripe"):
        raw = fixture(v["file"])
        # Then the scheme written out here and the adapter's own signer both give the published header
        assert f"t={v['timestamp']},v1={signature(raw, v['timestamp'], v['secret'])}" == v["expected"]
        assert stripe.sign(v["secret"], v["timestamp"], raw) == v["expected"]
        assert v["header"] == "Stripe-Signature"


@pytest.mark.parametrize(
    ("file", "status", "reason"),
    [
        # authentic, but its event was created in 2012, 11 years before its signature: out of the paid_at window
        ("stripe_checkout_session_completed.json", "rejected", "paid_at_out_of_range"),
        ("stripe_payment_intent_succeeded.json", "ignored", "event type payment_intent.succeeded is not used"),
        ("stripe_charge_refunded.json", "ignored", "order_not_found"),  # never paid here
    ],
)
def test_every_vector_file_is_accepted_with_its_derived_signature(
    client: Any, at_vector_time: Clock, file: str, status: str, reason: str | None
) -> None:
    platform_tenant("stripe", SECRET, currency="USD", lifetime_days=3650)
    # When Stripe delivers the fixture with the vector's header while it is fresh
    response = send(client, fixture(file), vector_headers(file))
    # Then it is authentic (no 401) and answered 200, or 422 for a payment time outside the window (issue 13)
    if status == "rejected":
        assert_error(response, 422, str(reason))
        return
    result = result_of(response)
    assert (result["status"], result.get("reason")) == (status, reason)


def test_checkout_session_completed_earns_and_a_retry_changes_nothing(client: Any, frozen: Clock) -> None:
    # Given the clock a minute after the fixture's event was created (2012-01-18T02:24:38Z): its signature is made
    # fresh over the fixture's bytes (the vector's t is 2023, out of the paid_at window of an event of 2012)
    frozen.now = datetime(2012, 1, 18, 2, 25, 38, tzinfo=UTC)
    shop = platform_tenant("stripe", SECRET, currency="USD", lifetime_days=3650)
    raw = fixture("stripe_checkout_session_completed.json")
    # When the paid session (25000 = 250.00 USD, no shipping or tax) arrives
    result = result_of(send(client, raw, signed(raw, frozen.ts)))
    # Then floor(25000 * 5 % / 100) = 12 points are earned by customer cus_…, on the PaymentIntent's order id
    assert (result["status"], result["order_id"], result["member_id"], result["points_earned"]) == (
        "applied",
        "pi_00000000000000",
        "cus_00000000000000",
        12,
    )
    assert member(client, shop, "cus_00000000000000")["email"] == "example@example.com"
    # And the order is paid at the event's created, its points living ten years
    [earn] = history(client, shop, "cus_00000000000000")
    assert (earn["kind"], earn["delta"], earn["details"]["paid_at"]) == ("earn", 12, "2012-01-18T02:24:38Z")
    assert earn["lots"][0]["expires_at"] == "2022-01-15T02:24:38Z"
    assert result["balance"] == member(client, shop, "cus_00000000000000")["balance"] == 12
    # And Stripe's retry of the same event answers 200 and writes nothing
    before = ledger_items()
    again = result_of(send(client, raw, signed(raw, frozen.ts + 60)))
    assert again["status"] == "duplicate"
    assert ledger_items() == before


def test_a_paid_session_earns_on_goods_only_and_a_guest_is_keyed_by_e_mail(client: Any, shop: TenantCreds) -> None:
    # Given a guest checkout (no Stripe customer): 500.00 USD with 60.00 shipping, of which 10.00 is shipping
    # tax, and 50.00 tax in all (total_details counts the shipping tax too)
    paid = session(
        id="cs_guest",
        payment_intent="pi_guest",
        customer=None,
        customer_details={"email": "Jane@Example.com", "phone": "+14155550123", "name": "Jane Doe"},
        amount_total=50_000,
        shipping_cost={"amount_subtotal": 5_000, "amount_tax": 1_000, "amount_total": 6_000},
        total_details={"amount_discount": 0, "amount_shipping": 5_000, "amount_tax": 5_000},
    )
    raw = event("checkout.session.completed", paid, "evt_guest", now_ts())
    result = result_of(send(client, raw, signed(raw, now_ts())))
    # Then it earns on 500 - 50 shipping - 50 tax = 400.00: 20 points (not 19: shipping tax is counted once)
    assert (result["order_id"], result["member_id"], result["points_earned"]) == ("pi_guest", "jane@example.com", 20)
    view = member(client, shop, "jane@example.com")
    assert (view["balance"], view["email"], view["phone"], view["name"]) == (
        20,
        "jane@example.com",
        "+14155550123",
        "Jane Doe",
    )


def test_a_tampered_body_another_secret_or_no_signature_is_401_and_writes_nothing(
    client: Any, at_vector_time: Clock
) -> None:
    platform_tenant("stripe", SECRET, currency="USD", lifetime_days=3650)
    raw = fixture("stripe_checkout_session_completed.json")
    headers = vector_headers("stripe_checkout_session_completed.json")
    before = ledger_items()
    # A body changed by one byte, a signature made with another secret, a header without v1, and none at all
    assert_error(send(client, raw.replace(b"25000", b"95000"), headers), 401, "invalid_signature")
    assert_error(send(client, raw, signed(raw, VECTOR_TS, "whsec_another")), 401, "invalid_signature")
    v0_only = {"content-type": "application/json", "Stripe-Signature": f"t={VECTOR_TS},v0={signature(raw, VECTOR_TS)}"}
    assert_error(send(client, raw, v0_only), 401, "invalid_signature")
    assert_error(send(client, raw, {"content-type": "application/json"}), 401, "invalid_signature")
    # And another tenant's URL does not accept this tenant's delivery
    assert_error(send(client, raw, headers, tenant_id="nobody"), 401, "invalid_signature")
    assert ledger_items() == before


def test_timestamps_older_or_newer_than_the_tolerance_are_401(client: Any, shop: TenantCreds) -> None:
    # Each answers the uniform 401 invalid_signature: the reason (a stale timestamp) is logged, never answered
    now = now_ts()
    raw = event("checkout.session.completed", session(), "evt_fresh", now)  # the fixture's session, paid now
    stale_raw = fixture("stripe_checkout_session_completed.json")
    before = ledger_items()
    # The vector itself is years old today
    stale = vector_headers("stripe_checkout_session_completed.json")
    assert_error(send(client, stale_raw, stale), 401, "invalid_signature")
    # 301 s old, and 301 s ahead (rejected too: see shared/webhooks/stripe.verify)
    assert_error(send(client, raw, signed(raw, now - 301)), 401, "invalid_signature")
    assert_error(send(client, raw, signed(raw, now + 301)), 401, "invalid_signature")
    assert ledger_items() == before
    # While exactly 300 s old is still fresh
    assert result_of(send(client, raw, signed(raw, now - 300)))["status"] == "applied"


def test_several_v1_with_one_valid_and_a_rotated_secret_are_accepted(client: Any, shop: TenantCreds) -> None:
    ts = now_ts()
    raw = event("checkout.session.completed", session(), "evt_rotated", ts)  # the fixture's session, paid now
    # Given a header with a wrong v1, the right one, and a v0 (ignored), spaces after the commas
    value = f"t={ts}, v1={'0' * 64}, v1={signature(raw, ts)}, v0={'f' * 64}"
    result = result_of(send(client, raw, {"content-type": "application/json", "Stripe-Signature": value}))
    assert result["status"] == "applied"
    # When the merchant rolls the endpoint secret, then deliveries signed with the old one still pass
    tenant = container().tenants.get("shop")
    assert tenant is not None
    container().tenants.set_webhook_secret(tenant, "stripe", "whsec_rolled")
    again = result_of(send(client, raw, signed(raw, ts)))
    assert again["status"] == "duplicate"
    assert result_of(send(client, raw, signed(raw, ts, "whsec_rolled")))["status"] == "duplicate"


def test_charge_refunded_fixture_reverses_the_whole_order(client: Any, at_vector_time: Clock) -> None:
    # Given a program where 1 point is worth 1 cent, and order ch_… paid 1.00 USD here (5 points); the fixture's
    # charge has no PaymentIntent and no metadata.order_id, so its own id is the order id
    shop = platform_tenant("stripe", SECRET, currency="USD", lifetime_days=3650, point_value_minor=1)
    order = "ch_000000000000000000000000"
    paid = post_webhook(client, shop, paid_event(order, "c1", 100, currency="USD"), ts=at_vector_time.ts)
    assert body(paid)["points_earned"] == 5
    # When charge.refunded reports amount_refunded 100 of 100, with its vector signature
    raw = fixture("stripe_charge_refunded.json")
    result = result_of(send(client, raw, vector_headers("stripe_charge_refunded.json")))
    # Then the 5 earned points are reversed
    assert (result["status"], result["order_id"], result["points_reversed"]) == ("applied", order, 5)
    assert member(client, shop, "c1")["balance"] == 0
    # And a retry of the same event changes nothing
    before = ledger_items()
    assert result_of(send(client, raw, vector_headers("stripe_charge_refunded.json")))["status"] == "duplicate"
    assert ledger_items() == before


def test_partial_refunds_follow_the_running_total_whatever_the_order_of_delivery(
    client: Any, shop: TenantCreds
) -> None:
    # Given a session paid 250.00 USD on PaymentIntent pi_partial: 12 points
    ts = now_ts()
    raw = event("checkout.session.completed", session(payment_intent="pi_partial"), "evt_paid", ts)
    assert result_of(send(client, raw, signed(raw, ts)))["points_earned"] == 12

    def refunded(event_id: str, cumulative: int) -> dict[str, Any]:
        obj = charge(id="ch_partial", payment_intent="pi_partial", amount=25_000, amount_refunded=cumulative)
        raw = event("charge.refunded", obj, event_id, ts)
        return result_of(send(client, raw, signed(raw, ts)))

    # When 100.00 is refunded: floor(12 * 10000 / 25000) = 4 points are reversed
    first = refunded("evt_r2", 10_000)
    assert (first["status"], first["order_id"], first["points_reversed"]) == ("applied", "pi_partial", 4)
    # And Stripe retries that event: nothing more
    before = ledger_items()
    assert refunded("evt_r2", 10_000)["status"] == "duplicate"
    # And an older event (the first refund, 50.00 in all) arrives late: nothing new is refunded
    late = refunded("evt_r1", 5_000)
    assert (late["status"], late["reason"]) == ("ignored", "nothing_new_refunded")
    assert ledger_items() == before
    # When the rest is refunded (250.00 in all): the other 8 points
    assert refunded("evt_r3", 25_000)["points_reversed"] == 8
    view = member(client, shop, "cus_00000000000000")
    assert view["balance"] == 0
    assert [e["delta"] for e in history(client, shop, "cus_00000000000000") if e["kind"] == "reverse"] == [-8, -4]


def test_a_loyalty_hold_code_in_the_session_metadata_captures_the_hold(client: Any, shop: TenantCreds) -> None:
    # Given customer cus_h with 100 points who holds 30 of them at checkout (a 30.00 USD discount)
    post_webhook(client, shop, paid_event("first", "cus_h", 200_000, currency="USD"), ts=now_ts())
    hold = client.http.post(
        "/v1/tenants/shop/holds",
        body=json.dumps({"member_id": "cus_h", "order_id": "cart-1", "points": 30}),
        headers=shop.auth,
    )
    assert hold.status_code == 201, hold.body
    code = body(hold)["code"]
    # When the paid session carries the code in metadata and charged 181.09 after the discount
    paid = session(
        customer="cus_h", payment_intent="pi_hold", amount_total=18_109, metadata={"loyalty_hold_code": code.lower()}
    )
    ts = now_ts()
    raw = event("checkout.session.completed", paid, "evt_hold", ts)
    result = result_of(send(client, raw, signed(raw, ts)))
    # Then the hold is captured (30 points) and the order earns on the cash paid: 181.09 -> 9 points
    assert (result["points_redeemed"], result["points_earned"]) == (30, 9)
    view = member(client, shop, "cus_h")
    assert (view["held"], view["balance"]) == (0, 100 - 30 + 9)


def test_a_delayed_payment_earns_when_it_succeeds(client: Any, shop: TenantCreds) -> None:
    ts = now_ts()
    # Given a SEPA checkout: completed while unpaid, then async_payment_succeeded once the money arrived
    unpaid = event("checkout.session.completed", session(payment_status="unpaid"), "evt_c", ts)
    paid = event("checkout.session.async_payment_succeeded", session(), "evt_a", ts)
    first = result_of(send(client, unpaid, signed(unpaid, ts)))
    assert (first["status"], first["reason"]) == ("ignored", "the checkout session is not paid (unpaid)")
    assert result_of(send(client, paid, signed(paid, ts)))["points_earned"] == 12


def test_amounts_follow_stripe_units_zero_decimal_yen(client: Any, aws: None, frozen: Clock) -> None:
    # Given a JPY tenant (zero decimals, a point worth 100 yen): Stripe's 5000 is ¥5,000
    platform_tenant("stripe", SECRET, "jp", currency="JPY", lifetime_days=3650)
    ts = now_ts()
    raw = event("checkout.session.completed", session(currency="jpy", amount_total=5_000), "evt_jpy", ts)
    # Then it earns floor(5000 * 5 % / 100) = 2 points
    assert result_of(send(client, raw, signed(raw, ts), tenant_id="jp"))["points_earned"] == 2
    # And a USD session at the JPY tenant is rejected with 200 (Stripe must not retry it)
    usd = event("checkout.session.completed", session(payment_intent="pi_usd"), "evt_usd", ts)
    rejected = result_of(send(client, usd, signed(usd, ts), tenant_id="jp"))
    assert (rejected["status"], rejected["reason"]) == ("rejected", "currency_mismatch")


@pytest.mark.parametrize("file", OTHER_FIXTURES)
def test_other_event_types_and_bare_objects_are_200_ignored(client: Any, shop: TenantCreds, file: str) -> None:
    # payment_intent.succeeded and charge.succeeded come with every Checkout payment, but without the
    # session's customer details, shipping and tax: the session alone earns. The openapi files are bare objects
    raw = fixture(file)
    before = ledger_items()
    result = result_of(send(client, raw, signed(raw, now_ts())))
    assert result["status"] == "ignored" and result["reason"].startswith("event type")
    assert ledger_items() == before


def test_unpaid_sessions_and_charges_with_nothing_refunded_are_200_ignored(client: Any, shop: TenantCreds) -> None:
    ts = now_ts()
    # Stripe's openapi Checkout Session (unpaid, no amounts) and Charge (nothing refunded) in an event envelope
    envelope = json.loads(fixture("stripe_openapi_fixture_event_envelope.json"))
    cases = [
        ("checkout.session.completed", "stripe_openapi_fixture_checkout_session.json"),
        ("charge.refunded", "stripe_openapi_fixture_charge.json"),
    ]
    before = ledger_items()
    for kind, file in cases:
        raw = json.dumps({**envelope, "type": kind, "data": {"object": json.loads(fixture(file))}}).encode()
        assert result_of(send(client, raw, signed(raw, ts)))["status"] == "ignored"
    free = event("checkout.session.completed", session(payment_status="no_payment_required"), "evt_free", ts)
    assert result_of(send(client, free, signed(free, ts)))["status"] == "ignored"
    assert ledger_items() == before


def test_a_malformed_body_of_a_known_type_is_400(client: Any, shop: TenantCreds) -> None:
    ts = now_ts()
    good = json.loads(event("checkout.session.completed", session(), "evt_bad", ts))
    broken: list[Any] = [
        b"not json",
        {k: v for k, v in good.items() if k != "id"},  # no event id
        {**good, "data": {}},  # no object
        {**good, "data": {"object": {**session(), "object": "charge"}}},  # not a session
        {**good, "data": {"object": session(amount_total="250.00")}},  # not Stripe's integer
        {**good, "data": {"object": session(amount_total=-1)}},
        {**good, "data": {"object": session(currency=None)}},
        {**good, "data": {"object": session(currency="zzz")}},  # no such currency
        {**good, "created": "yesterday"},
        json.loads(event("charge.refunded", charge(amount_refunded=None), "evt_bad", ts)),
    ]
    before = ledger_items()
    for case in broken:
        raw = case if isinstance(case, bytes) else json.dumps(case).encode()
        assert_error(send(client, raw, signed(raw, ts)), 400, "malformed_payload")
    assert ledger_items() == before


def now_ts() -> int:
    from shared import clock

    return int(clock.now().timestamp())
