"""The customer cabinet through API Gateway on the deployed package (issue 16 items 1, 2, 9, 10): a customer logs in
with the code of the SMS the emulator received, sees their own balance and lots, and logs out; the session cookie
opens nothing of another shop."""

from __future__ import annotations

import json
import re

from scripts.deploy_local import DeployedStack
from tests.conftest import paid_event
from tests.deployed.stack import create_tenant, fetch, put, sms_to
from tests.e2e.client import Api

PHONE = "+79990007001"
JSON = {"content-type": "application/json"}


def cabinet(stack: DeployedStack, tenant: str, path: str) -> str:
    return f"{stack.api_url}/v1/tenants/{tenant}/cabinet{path}"


def test_a_customer_logs_in_with_the_sms_code_sees_their_points_and_logs_out(deployed: DeployedStack) -> None:
    # Given a shop whose cabinet sends codes by SMS to Russian numbers, and a customer who bought there
    creds = create_tenant(deployed, "cab-shop", "--currency", "RUB")
    shop = Api(deployed.api_url, creds)
    assert put(shop, "/program", {"cabinet": {"sms_calling_codes": ["7"]}}).status == 200
    assert shop.webhook(paid_event("k-1", "kira", 200_000, customer={"id": "kira", "phone": PHONE})).status == 200

    # When the customer asks for a code with their phone
    asked, _ = fetch("POST", cabinet(deployed, "cab-shop", "/login"), json.dumps({"contact": PHONE}).encode(), JSON)
    # Then it is answered 202, and the emulator holds one SMS with a 6-digit code
    assert (asked.status, asked.body["status"]) == (202, "code_requested"), asked
    [sms] = sms_to(deployed, PHONE)
    code = re.search(r"\b(\d{6})\b", sms["Message"]).group(1)  # type: ignore[union-attr]

    # When the code is given back
    raw = json.dumps({"contact": PHONE, "code": code}).encode()
    verified, headers = fetch("POST", cabinet(deployed, "cab-shop", "/verify"), raw, JSON)
    # Then a session opens in an HttpOnly cookie
    assert (verified.status, verified.body["member_id"]) == (200, "kira"), verified
    set_cookie = headers["Set-Cookie"]
    attributes = {part.strip().partition("=")[0]: part.strip().partition("=")[2] for part in set_cookie.split(";")}
    assert {"HttpOnly", "Secure", "SameSite"} <= set(attributes) and attributes["SameSite"] == "Strict"
    # And a browser sends it back to the cabinet's routes however the API is served (stage, emulator's path-style URL)
    assert attributes["Path"] == "/"
    cookie = {"cookie": set_cookie.split(";")[0]}

    # And with it the customer sees what the merchant sees of them: the balance and every lot with its expiry
    mine, _ = fetch("GET", cabinet(deployed, "cab-shop", "/me"), headers=cookie)
    assert mine.status == 200, mine
    merchant_view = {k: v for k, v in mine.body.items() if k not in ("currency", "share_link")}
    assert merchant_view == shop.member("kira") and mine.body["lots"][0]["points"] == mine.body["balance"] > 0
    # And the link to share carries the referral code
    assert mine.body["share_link"].endswith(f"/v1/tenants/cab-shop/cabinet?ref={mine.body['referral_code']}")
    # And the history is the merchant's: the paid order
    history, _ = fetch("GET", cabinet(deployed, "cab-shop", "/me/history?limit=5"), headers=cookie)
    assert history.status == 200, history
    assert [e["reference"] for e in history.body["entries"]] == ["k-1"]

    # And the page learns the shop's face without a session
    face, _ = fetch("GET", cabinet(deployed, "cab-shop", "/shop"))
    assert (face.status, face.body["title"], face.body["sms_login"]) == (200, "cab-shop", True), face

    # And another shop's cabinet does not know the session
    create_tenant(deployed, "cab-other", "--currency", "RUB")
    other, _ = fetch("GET", cabinet(deployed, "cab-other", "/me"), headers=cookie)
    assert (other.status, other.code) == (401, "not_logged_in")

    # When the customer logs out / Then the cookie opens nothing any more
    out, _ = fetch("POST", cabinet(deployed, "cab-shop", "/logout"), b"{}", {**JSON, **cookie})
    assert out.status == 200
    after, _ = fetch("GET", cabinet(deployed, "cab-shop", "/me"), headers=cookie)
    assert (after.status, after.code) == (401, "not_logged_in")
