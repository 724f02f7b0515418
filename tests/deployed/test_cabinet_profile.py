"""The customer joins from the cabinet and fills in the questionnaire through API Gateway on the deployed package
(issue 16 item 3): self-enrolment with the welcome bonus by the code of the SMS the emulator received, the
questionnaire with consent, and a new phone confirmed by its own code; the merchant's member view shows it all."""

from __future__ import annotations

import json
import re

from scripts.deploy_local import DeployedStack
from tests.deployed.stack import create_tenant, fetch, put, sms_to
from tests.e2e.client import Api

PHONE, NEW_PHONE = "+79990007101", "+79990007102"
JSON = {"content-type": "application/json"}


def cabinet(stack: DeployedStack, path: str) -> str:
    return f"{stack.api_url}/v1/tenants/join-shop/cabinet{path}"


def last_code(stack: DeployedStack, phone: str) -> str:
    texts = sms_to(stack, phone)
    assert texts, f"no SMS to {phone}"
    found = re.search(r"\b(\d{6})\b", texts[-1]["Message"])
    assert found, texts[-1]
    return found.group(1)


def test_a_stranger_joins_with_the_welcome_bonus_and_fills_in_the_questionnaire(deployed: DeployedStack) -> None:
    # Given a shop that lets customers join from the cabinet with 75 welcome points
    creds = create_tenant(deployed, "join-shop", "--currency", "RUB")
    shop = Api(deployed.api_url, creds)
    settings = {"sms_calling_codes": ["7"], "self_enrolment": True, "welcome_bonus_points": 75}
    assert put(shop, "/program", {"cabinet": settings}).status == 200

    # When a phone that is no member's asks for a code, and gives back the one of the SMS
    asked, _ = fetch("POST", cabinet(deployed, "/login"), json.dumps({"contact": PHONE}).encode(), JSON)
    assert (asked.status, asked.body["status"]) == (202, "code_requested"), asked
    raw = json.dumps({"contact": PHONE, "code": last_code(deployed, PHONE)}).encode()
    verified, headers = fetch("POST", cabinet(deployed, "/verify"), raw, JSON)
    # Then a new member is made and logged in, with the welcome points in a lot of their own
    assert verified.status == 200, verified
    member_id = verified.body["member_id"]
    assert member_id.startswith("cab-")
    cookie = {"cookie": headers["Set-Cookie"].split(";")[0]}
    mine, _ = fetch("GET", cabinet(deployed, "/me"), headers=cookie)
    assert (mine.status, mine.body["phone"], mine.body["balance"]) == (200, PHONE, 75), mine
    assert [lot["points"] for lot in mine.body["lots"]] == [75]

    # When the customer fills in the questionnaire and opts out of calls
    answers = {"name": "Kira", "birthday": "1991-07-15", "consent": {"call": False, "email": True}}
    saved, _ = fetch("PUT", cabinet(deployed, "/me/profile"), json.dumps(answers).encode(), {**JSON, **cookie})
    assert saved.status == 200, saved
    # Then the cabinet and the merchant see the same answers
    mine, _ = fetch("GET", cabinet(deployed, "/me"), headers=cookie)
    merchants = shop.member(member_id)
    for view in (mine.body, merchants):
        assert (view["name"], view["birthday"]) == ("Kira", "1991-07-15")
        assert (view["consent"]["call"], view["consent"]["email"]) == (False, True)

    # When the customer gives a new phone / Then it is stored only with the code sent to it
    raw = json.dumps({"contact": NEW_PHONE}).encode()
    asked, _ = fetch("POST", cabinet(deployed, "/me/contact"), raw, {**JSON, **cookie})
    assert asked.status == 202, asked
    raw = json.dumps({"contact": NEW_PHONE, "code": last_code(deployed, NEW_PHONE)}).encode()
    confirmed, _ = fetch("POST", cabinet(deployed, "/me/contact/verify"), raw, {**JSON, **cookie})
    assert (confirmed.status, confirmed.body["phone"]) == (200, NEW_PHONE), confirmed
    assert shop.member(member_id)["phone"] == NEW_PHONE
