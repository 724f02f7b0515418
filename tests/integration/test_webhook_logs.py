"""What a webhook writes to the logs and metrics (issue 6 item 3): every log line of a delivery carries its
correlation id, tenant and order, and none carries a secret, an API key, a signature, an e-mail or a phone number;
its EMF metrics are in the one namespace with the default dimension only (the tenant is metadata)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import TenantCreds, make_tenant, paid_event, post_webhook, signed_headers
from tests.integration.conftest import Clock
from tests.integration.platforms.conftest import fixture, platform_tenant, post
from tests.integration.platforms.test_shopify import SECRET, fixture_headers
from tests.logs import LogLines, captured_logs

PHONE, EMAIL = "+79991234567", "anna.petrova@example.com"


def emf(stdout: str) -> list[dict[str, Any]]:
    """The EMF lines Metrics printed (one per invocation that recorded a metric)."""
    lines = (json.loads(line) for line in stdout.splitlines() if line.startswith('{"_aws"'))
    return list(lines)


def assert_no_leak(logs: LogLines, *values: str) -> None:
    assert logs.records, "nothing was logged"
    for value in values:
        assert value not in logs.text, value


def test_a_standard_webhook_logs_its_ids_and_no_secret_or_contact(
    client: Any, frozen: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    creds: TenantCreds = make_tenant("shop-1")
    customer = {"id": "c1", "email": EMAIL, "phone": PHONE, "name": "Anna Petrova"}
    event = paid_event("o-42", "c1", 100_000, customer=customer)
    raw = json.dumps(event).encode()
    headers = signed_headers(creds.secret, raw, "msg_logs42", frozen.ts)
    capsys.readouterr()
    with captured_logs() as logs:
        # When the paid order arrives, then the same delivery again, then one with a contact that is not valid
        for _ in range(2):
            response = client.http.post("/v1/tenants/shop-1/webhooks/standard", body=raw, headers=headers)
            assert response.status_code == 200, response.body
        odd = paid_event("o-43", "c2", 1_000, customer={"id": "c2", "phone": "12ab", "email": "not-an-address"})
        assert post_webhook(client, creds, odd, "msg_logs43", ts=frozen.ts).status_code == 200
        # And a merchant call with the API key
        assert client.http.get("/v1/tenants/shop-1/members/c1", headers=creds.auth).status_code == 200
    # Then the order's lines carry the webhook id as correlation id, the tenant and the order
    lines = logs.with_message("order event")
    assert [(r["correlation_id"], r["tenant_id"], r["order_id"], r["status"]) for r in lines] == [
        ("msg_logs42", "shop-1", "o-42", "applied"),
        ("msg_logs42", "shop-1", "o-42", "duplicate"),
        ("msg_logs43", "shop-1", "o-43", "applied"),
    ]
    warnings = [r for r in logs.records if r["level"] == "WARNING"]
    assert warnings and all(r["correlation_id"] == "msg_logs43" and r["order_id"] == "o-43" for r in warnings)
    # And no line holds the secret, the API key, the signature, the e-mail, the phone or the name
    signature = headers["webhook-signature"].split(",", 1)[1]
    secret_bytes = creds.secret.removeprefix("whsec_")
    assert_no_leak(logs, creds.secret, secret_bytes, creds.api_key, signature, EMAIL, PHONE, PHONE[1:], "Petrova")
    # And each delivery printed one EMF line: namespace Loyalty, the service dimension only, the tenant as metadata
    metrics = emf(capsys.readouterr().out)
    assert len(metrics) == 3
    for line in metrics:
        [directive] = line["_aws"]["CloudWatchMetrics"]
        assert (directive["Namespace"], directive["Dimensions"]) == ("Loyalty", [["service"]])
        assert (line["service"], line["tenant_id"]) == ("loyalty", "shop-1")
    first, second, _ = metrics
    assert {m["Name"] for m in first["_aws"]["CloudWatchMetrics"][0]["Metrics"]} == {"Webhook_applied", "PointsAccrued"}
    assert (first["Webhook_applied"], first["PointsAccrued"], second["Webhook_duplicate"]) == ([1.0], [50.0], [1.0])


def test_a_shopify_delivery_logs_its_ids_and_no_secret_or_contact(
    client: Any, aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    platform_tenant("shopify", SECRET, currency="USD", lifetime_days=3650)
    raw, headers = fixture("shopify_orders_paid.json"), fixture_headers("shopify_orders_paid.json", "orders/paid")
    capsys.readouterr()
    with captured_logs() as logs:
        response = post(client, "shop", "shopify", raw, headers)
    assert response.status_code == 200, response.body
    [line] = logs.with_message("platform event")
    assert (line["correlation_id"], line["tenant_id"], line["order_id"], line["platform"]) == (
        "wh-1",
        "shop",
        "1073459981",
        "shopify",
    )
    assert_no_leak(logs, SECRET, headers["X-Shopify-Hmac-Sha256"], "jane@example.com", "+18885551234", "8885551234")
    [metric] = emf(capsys.readouterr().out)
    assert metric["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]] and metric["Webhook_applied"] == [1.0]
