"""Stripe's signature, amounts and ids (issue 4), shared/webhooks/stripe.py, without AWS."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.webhooks import stripe
from shared.webhooks.commands import Customer, Ignore, Paid, Refund
from shared.webhooks.signatures import SignatureRefused

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
SECRET = "whsec_test_secret"
BODY = b'{"id":"evt_1","object":"event","type":"ping"}'
TOLERANCE = 300


def v1(ts: int = TS, body: bytes = BODY, secret: str = SECRET) -> str:
    # the key is the whole "whsec_..." string as UTF-8, not base64-decoded (unlike Standard Webhooks)
    return hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()


def rejected(value: str | None, secrets: tuple[str, ...] = (SECRET,), body: bytes = BODY) -> str:
    with pytest.raises(SignatureRefused) as exc:
        stripe.verify(value, body, list(secrets), NOW, TOLERANCE)
    # every failure answers the same 401 body (issue 13); the reason is kept for the log only
    assert (exc.value.status, exc.value.code, exc.value.message) == (
        401,
        "invalid_signature",
        "signature does not match",
    )
    return exc.value.reason


def test_sign_is_the_documented_scheme_and_verify_returns_the_timestamp() -> None:
    assert stripe.sign(SECRET, TS, BODY) == f"t={TS},v1={v1()}"
    assert stripe.verify(f"t={TS},v1={v1()}", BODY, [SECRET], NOW, TOLERANCE) == TS


def test_any_v1_against_any_secret_is_accepted_and_other_schemes_are_ignored() -> None:
    # Given a header with a v0, a stale v1 and the valid one, in any order, with spaces
    value = f"v0={v1(secret='whsec_old')}, t={TS}, v1={'a' * 64}, v1={v1(secret='whsec_old')}"
    # Then a tenant holding the old secret among others accepts it
    assert stripe.verify(value, BODY, ["whsec_new", "whsec_old"], NOW, TOLERANCE) == TS


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (None, "missing_signature"),
        ("", "missing_signature"),
        (f"v1={v1()}", "invalid_signature"),  # no t
        (f"t={TS}", "invalid_signature"),  # no v1
        (f"t={TS},v0={v1()}", "invalid_signature"),  # only another scheme
        (f"t=1_7{TS},v1={v1()}", "invalid_signature"),  # not digits
        (f"t={TS},v1={v1().upper()}", "invalid_signature"),  # Stripe sends lower-case hex
        (f"t={TS},v1={v1(body=BODY + b' ')}", "invalid_signature"),  # another body
        (f"t={TS + 1},v1={v1()}", "invalid_signature"),  # the timestamp is signed
        (f"t={TS},v1=é", "invalid_signature"),  # not ASCII: compared as bytes, never a 500
    ],
)
def test_bad_headers_are_401(value: str | None, code: str) -> None:
    assert rejected(value) == code


def test_no_secret_configured_accepts_nothing() -> None:
    assert rejected(f"t={TS},v1={v1()}", secrets=()) == "invalid_signature"


@pytest.mark.parametrize(("offset", "fresh"), [(-300, True), (-301, False), (300, True), (301, False)])
def test_the_tolerance_is_five_minutes_either_way(offset: int, fresh: bool) -> None:
    value = f"t={TS + offset},v1={v1(TS + offset)}"
    if fresh:
        assert stripe.verify(value, BODY, [SECRET], NOW, TOLERANCE) == TS + offset
    else:
        assert rejected(value) == "timestamp_out_of_tolerance"


def test_a_stale_timestamp_with_a_wrong_signature_says_only_that_the_signature_is_wrong() -> None:
    assert rejected(f"t={TS - 3600},v1={'0' * 64}") == "invalid_signature"


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (25_000, "USD", 25_000),
        (5_000, "JPY", 5_000),  # zero-decimal at Stripe and in ISO 4217
        (12_340, "KWD", 12_340),  # three decimals in both
        (1_000, "MGA", 100_000),  # zero-decimal at Stripe, 2 digits in ISO 4217
        (50_000, "ISK", 500),  # two-decimal at Stripe ("100 = 1 króna"), 0 digits in ISO 4217
        (0, "USD", 0),
    ],
)
def test_stripe_amounts_become_iso_minor_units_exactly(amount: int, currency: str, minor: int) -> None:
    assert stripe.minor(amount, currency) == minor


@pytest.mark.parametrize(
    ("amount", "currency"), [(50_050, "ISK"), (-1, "USD"), (1.5, "USD"), ("100", "USD"), (True, "USD"), (None, "USD")]
)
def test_amounts_that_are_not_stripe_integers_or_not_whole_units_raise(amount: Any, currency: str) -> None:
    with pytest.raises(ValueError):
        stripe.minor(amount, currency)


def session(**changes: Any) -> dict[str, Any]:
    return {
        "id": "cs_1",
        "object": "checkout.session",
        "payment_status": "paid",
        "currency": "usd",
        "amount_total": 10_000,
        "customer": "cus_1",
        "customer_details": {"email": "A@B.example", "phone": "+14155550123", "name": "Ann"},
        "payment_intent": "pi_1",
        "client_reference_id": "user-42",
        "metadata": {"order_id": "A-1001"},
        **changes,
    }


def receive(kind: str, obj: dict[str, Any], created: int = TS) -> Any:
    raw = json.dumps({"id": "evt_1", "object": "event", "type": kind, "created": created, "data": {"object": obj}})
    body = raw.encode()
    delivery = stripe.receive({"stripe-signature": stripe.sign(SECRET, TS, body)}, body, [SECRET], NOW, TOLERANCE)
    assert delivery.key == "evt_1" and delivery.topic == kind
    [command] = delivery.commands
    return command


def test_a_paid_session_maps_to_paid() -> None:
    command = receive("checkout.session.completed", session(metadata={"loyalty_hold_code": "LOYABCDEFGHJK"}))
    assert isinstance(command, Paid)
    assert (command.order_id, command.currency, command.paid_at, command.hold_codes) == (
        "pi_1",
        "USD",
        NOW,
        ("LOYABCDEFGHJK",),
    )
    assert command.customer == Customer(member_id="cus_1", email="A@B.example", phone="+14155550123", name="Ann")


@pytest.mark.parametrize(
    ("changes", "order_id"),
    [
        ({}, "pi_1"),  # the PaymentIntent: what the refunded charge carries
        ({"payment_intent": {"id": "pi_x", "object": "payment_intent"}}, "pi_x"),  # expanded
        ({"payment_intent": None}, "A-1001"),  # no PaymentIntent (subscription mode): the merchant's order id
        ({"payment_intent": None, "metadata": {}}, "cs_1"),  # never client_reference_id: often a customer id
    ],
)
def test_the_order_id_of_a_session(changes: dict[str, Any], order_id: str) -> None:
    assert stripe.order_id_of_session(session(**changes)) == order_id


@pytest.mark.parametrize(
    ("changes", "order_id"),
    [
        ({"payment_intent": "pi_1", "metadata": {"order_id": "A-1001"}}, "pi_1"),
        ({"payment_intent": None, "metadata": {"order_id": "A-1001"}}, "A-1001"),
        ({"payment_intent": None, "metadata": {}}, "ch_1"),
    ],
)
def test_the_order_id_of_a_charge_is_the_same_key(changes: dict[str, Any], order_id: str) -> None:
    assert stripe.order_id_of_charge({"id": "ch_1", **changes}) == order_id


@pytest.mark.parametrize(
    ("changes", "member_id"),
    [
        ({}, "cus_1"),
        ({"customer": None}, "a@b.example"),  # a guest: the e-mail, lower-cased
        ({"customer": None, "customer_details": {"email": None}, "customer_email": "C@D.example"}, "c@d.example"),
        ({"customer": None, "customer_details": {"phone": "+14155550123"}}, "+14155550123"),
    ],
)
def test_the_member_of_a_session(changes: dict[str, Any], member_id: str) -> None:
    customer = stripe.customer_of(session(**changes))
    assert customer is not None and customer.member_id == member_id


def test_a_session_without_any_customer_is_ignored() -> None:
    command = receive("checkout.session.completed", session(customer=None, customer_details={}))
    assert isinstance(command, Ignore)


def test_charge_refunded_maps_to_a_cumulative_refund_keyed_by_the_event() -> None:
    charge = {"id": "ch_1", "object": "charge", "currency": "mga", "amount_refunded": 700, "payment_intent": "pi_1"}
    command = receive("charge.refunded", charge)
    assert command == Refund(
        order_id="pi_1", refund_id="evt_1", amount_minor=None, cumulative_minor=70_000, currency="MGA"
    )
