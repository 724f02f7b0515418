"""The digital card through API Gateway on the deployed package (issue 16 item 4): a customer logged in by SMS code
sees the card's QR code (segno is in the Lambda package), the till resolves the token with the merchant's key, and a
rotation makes the old token unknown at once."""

from __future__ import annotations

import json
import re

from scripts.deploy_local import DeployedStack
from tests.conftest import paid_event
from tests.deployed.stack import create_tenant, fetch, put, sms_to
from tests.e2e.client import Api

PHONE = "+79990007002"
JSON = {"content-type": "application/json"}


def cabinet(stack: DeployedStack, path: str) -> str:
    return f"{stack.api_url}/v1/tenants/card-shop/cabinet{path}"


def log_in(stack: DeployedStack) -> dict[str, str]:
    asked, _ = fetch("POST", cabinet(stack, "/login"), json.dumps({"contact": PHONE}).encode(), JSON)
    assert asked.status == 202, asked
    [sms] = sms_to(stack, PHONE)
    code = re.search(r"\b(\d{6})\b", sms["Message"]).group(1)  # type: ignore[union-attr]
    verified, headers = fetch(
        "POST", cabinet(stack, "/verify"), json.dumps({"contact": PHONE, "code": code}).encode(), JSON
    )
    assert verified.status == 200, verified
    return {"cookie": headers["Set-Cookie"].split(";")[0]}


def test_a_customer_shows_the_card_the_till_resolves_it_and_a_rotation_retires_it(deployed: DeployedStack) -> None:
    # Given a shop whose cabinet sends codes by SMS to Russian numbers, and a customer who bought there, logged in
    creds = create_tenant(deployed, "card-shop", "--currency", "RUB")
    shop = Api(deployed.api_url, creds)
    assert put(shop, "/program", {"cabinet": {"sms_calling_codes": ["7"]}}).status == 200
    assert shop.webhook(paid_event("d-1", "dina", 150_000, customer={"id": "dina", "phone": PHONE})).status == 200
    cookie = log_in(deployed)

    # When the customer opens the card
    shown, headers = fetch("GET", cabinet(deployed, "/me/card"), headers=cookie)
    # Then an opaque token and its QR code come back, never cached, with no member id or phone in either
    assert shown.status == 200, shown
    assert headers["Cache-Control"] == "no-store"
    token, svg = shown.body["token"], shown.body["qr_svg"]
    assert re.fullmatch(r"LC-[A-Z2-7]{32}", token) and svg.startswith("<svg ") and "<title>" in svg
    assert all(secret not in svg + token for secret in ("dina", PHONE, PHONE[1:]))
    # And opening it again shows the same card
    again, _ = fetch("GET", cabinet(deployed, "/me/card"), headers=cookie)
    assert again.body == shown.body

    # When the till scans it with the merchant's key / Then it gets the member view
    found = shop.get(f"/members/by-card/{token}")
    assert found.status == 200 and found.body == shop.member("dina"), found

    # When the customer rotates the card
    rotated, _ = fetch("POST", cabinet(deployed, "/me/card/rotate"), b"{}", {**JSON, **cookie})
    assert rotated.status == 200 and rotated.body["token"] != token, rotated
    # Then the old token is unknown at the till at once, and the new one is the customer
    old = shop.get(f"/members/by-card/{token}")
    assert (old.status, old.code) == (404, "card_not_found")
    new = shop.get(f"/members/by-card/{rotated.body['token']}")
    assert (new.status, new.body["member_id"]) == (200, "dina")
