"""The log formatter masks secrets and personal data in every record, whatever a caller passes (issue 6 item 3)."""

from __future__ import annotations

import pytest

from shared.log_masking import mask_record, mask_text, mask_value
from shared.observability import logger
from tests.logs import captured_logs

WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw/KvGi+Lk2mA="
API_KEY = "lk_Zr3xv0m9Q5bM1cLr8yTqH2wK7nS4dFgJ6pVaE0uIoXc"
SHOPIFY_HMAC = "XWmrwMey6OsLMeiZKwP4FppHH3cmAiiJJAweH5Jo4bM="
STRIPE_SIG = "t=1492774577,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd"
STANDARD_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
HEX_SECRET = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("call +79991234567 now", "call <phone ..67> now"),
        ("Invalid phone +7 (999) 123-45-67", "Invalid phone <phone ..67>"),
        ("US number 555-010-0199", "US number <phone ..99>"),
        ("Address blacklisted: anna.k+tag@mail.example.com", "Address blacklisted: <email>"),
        (f"Authorization: Bearer {API_KEY}", "Authorization: Bearer ***"),
        (f"key {API_KEY} leaked", "key lk_*** leaked"),
        (f"secret {WHSEC}", "secret whsec_***"),
        (f"hmac {SHOPIFY_HMAC}", "hmac ***"),
        (
            f"Stripe-Signature {STRIPE_SIG}",
            "Stripe-Signature t=<phone ..77>,v1=***",
        ),  # a 10-digit number may be a phone
        (f"webhook-signature {STANDARD_SIG}", "webhook-signature v1,***"),
        (f"woo secret {HEX_SECRET}", "woo secret ***"),
    ],
)
def test_text_loses_secrets_and_contacts(raw: str, masked: str) -> None:
    assert mask_text(raw) == masked


@pytest.mark.parametrize(
    "kept",
    [
        "run started at 2026-03-01T10:05:00+00:00 for 2026-03-01 10:05",
        "order 10042 paid 181.09 USD, 9 points, lifetime 365 days",
        "msg_2b0c1f0e9a8d4c7b8a6f5e4d3c2b1a09 from shop-1/webhooks/standard",
        "evt_1NG8Du2eZvKYlo2CUI79vXWy",
        "File /var/task/shared/services/orders.py, line 212, in paid",
        "6d1f4b3a-2c1e-4f7a-9b8c-0d1e2f3a4b5c",
        "Missing final '@domain'",
    ],
)
def test_ordinary_text_is_kept(kept: str) -> None:
    assert mask_text(kept) == kept


def test_keys_name_what_they_hold_at_any_depth() -> None:
    payload = {
        "headers": {
            "Authorization": f"Bearer {API_KEY}",
            "X-Shopify-Hmac-Sha256": SHOPIFY_HMAC,
            "Stripe-Signature": STRIPE_SIG,
            "webhook-signature": STANDARD_SIG,
            "X-WC-Webhook-Signature": "short",
            "X-Shopify-Topic": "orders/paid",
        },
        "customer": {
            "id": 7,
            "email": "jane@example.com",
            "phone": "+15550100199",
            "first_name": "Jane",
            "name": "Jane Doe",
            "default_address": {"city": "Ottawa"},
            "birthday": "1990-05-01",
        },
        "webhook_secrets": {"standard": [WHSEC]},
        "api_key_hashes": ["ab" * 32],
        "phones": ["+79991234567"],
        "total_minor": 18109,
    }
    masked = mask_value(payload)
    assert masked == {
        "headers": {
            "Authorization": "***",
            "X-Shopify-Hmac-Sha256": "***",
            "Stripe-Signature": "***",
            "webhook-signature": "***",
            "X-WC-Webhook-Signature": "***",
            "X-Shopify-Topic": "orders/paid",
        },
        "customer": {
            "id": 7,
            "email": "<email>",
            "phone": "<phone ..99>",
            "first_name": "***",
            "name": "***",
            "default_address": "***",
            "birthday": "***",
        },
        "webhook_secrets": "***",
        "api_key_hashes": "***",
        "phones": ["<phone ..67>"],
        "total_minor": 18109,
    }
    assert payload["customer"]["email"] == "jane@example.com"  # the caller's object is untouched


def test_ids_keep_long_numbers_but_not_addresses() -> None:
    record = {
        "order_id": "1073459981",
        "member_id": "1073339475",
        "tenant_id": "shop-1",
        "correlation_id": "b3c5a2f1-0f4e-4c1a-9d2e-7a6b5c4d3e2f",
        "timestamp": "2026-03-01 10:05:00,123+0000",
        "location": "functions.webhooks:standard_webhook:48",
        "xray_trace_id": "1-5759e988-bd862e3fe1be46a994272793",
        "note": "customer 1073339475",
        "other_member_id": "jane@example.com",
    }
    masked = mask_record(record)
    assert masked == {**record, "note": "customer <phone ..75>", "other_member_id": "<email>"}


def test_bytes_and_objects_are_masked_as_their_text() -> None:
    class Opaque:
        def __str__(self) -> str:
            return f"Opaque(secret={WHSEC}, to=anna@example.com)"

    assert mask_value(b"from +79991234567") == "from <phone ..67>"
    assert mask_value(Opaque()) == "Opaque(secret=whsec_***, to=<email>)"


def test_the_powertools_logger_writes_masked_json() -> None:
    # Given a careless call that logs a whole request
    logger.append_keys(tenant_id="shop-1")
    with captured_logs() as lines:
        logger.info(
            f"delivery to anna@example.com with {WHSEC}",
            extra={"payload": {"headers": {"authorization": f"Bearer {API_KEY}"}, "phone": "+79991234567"}},
        )
        try:
            raise ValueError(f"bad signature {STANDARD_SIG} for +79991234567")
        except ValueError:
            logger.exception("failed")
    logger.remove_keys(["tenant_id"])
    # Then each line is JSON, keeps the tenant id and Powertools' keys, and holds none of the values
    records = lines.records
    assert [r["message"] for r in records] == ["delivery to <email> with whsec_***", "failed"]
    assert records[0]["payload"] == {"headers": {"authorization": "***"}, "phone": "<phone ..67>"}
    assert all(r["tenant_id"] == "shop-1" and r["service"] == "loyalty" and r["timestamp"] for r in records)
    assert "bad signature v1,*** for <phone ..67>" in records[1]["exception"]
    text = lines.text
    for secret in (WHSEC, API_KEY, "anna@example.com", "79991234567", STANDARD_SIG.split(",")[1]):
        assert secret not in text


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("+79991234567", "<phone ..67>"),  # E.164, as members are often identified by phone
        ("+7 (999) 123-45-67", "<phone ..67>"),
        ("8 (999) 123-45-67", "<phone ..67>"),
        ("79991234567", "<phone ..67>"),  # bare digits that read as a valid international number
        ("14155550123", "<phone ..23>"),
        ("anna@example.com", "<email>"),
    ],
)
def test_phone_and_email_shaped_ids_are_masked(value: str, masked: str) -> None:
    # Given a member id that is a phone number or an e-mail address
    record = {"member_id": value, "other_member_id": value}
    # When the record is masked, then neither id shows the contact
    assert mask_record(record) == {"member_id": masked, "other_member_id": masked}


@pytest.mark.parametrize(
    "value",
    [
        "1073339475",  # a platform's numeric customer id: not a valid number when read as international
        "5012345678901",  # a 13-digit order id
        "c8a1e3f0-5b7d-4e2a-9c6b-1d2e3f4a5b6c",  # a uuid
        "1-5759e988-bd862e3fe1be46a994272793",  # an X-Ray trace id
        "4f3c2a1b-0000-4000-8000-000000000001",
        "msg_2b0c1f0e9a8d4c7b",
        "o-1001",
        "2026-03-01",
    ],
)
def test_real_ids_stay_readable(value: str) -> None:
    # Given ids that are not contacts (request ids, uuids, trace ids, platform numbers), then they are kept
    record = {"request_id": value, "order_id": value, "correlation_id": value}
    assert mask_record(record) == record
