"""Transfers and feedback from the customer cabinet through API Gateway on the deployed package (issue 16 items 5, 6
and 10): a customer logs in with the SMS code, sees their points, sends some to a friend by phone (the friend's
balance seen through the merchant's API), and rates a paid order; the merchant lists the rating and the shop's staff
topic gets the complaint."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from scripts.deploy_local import DeployedStack
from tests.conftest import paid_event
from tests.deployed.stack import create_tenant, fetch, put, sms_to, staff_inbox, take_messages
from tests.e2e.client import Api

PHONE, FRIEND = "+79990007101", "+79990007102"
JSON = {"content-type": "application/json"}


def cabinet(stack: DeployedStack, tenant: str, path: str) -> str:
    return f"{stack.api_url}/v1/tenants/{tenant}/cabinet{path}"


def log_in(stack: DeployedStack, tenant: str, phone: str) -> dict[str, str]:
    """The session cookie of a login with the code of the SMS the emulator received."""
    asked, _ = fetch("POST", cabinet(stack, tenant, "/login"), json.dumps({"contact": phone}).encode(), JSON)
    assert asked.status == 202, asked
    code = re.search(r"\b(\d{6})\b", sms_to(stack, phone)[-1]["Message"]).group(1)  # type: ignore[union-attr]
    raw = json.dumps({"contact": phone, "code": code}).encode()
    verified, headers = fetch("POST", cabinet(stack, tenant, "/verify"), raw, JSON)
    assert verified.status == 200, verified
    return {"cookie": headers["Set-Cookie"].split(";")[0]}


def post(stack: DeployedStack, tenant: str, path: str, payload: Any, cookie: dict[str, str]) -> Any:
    answer, _ = fetch("POST", cabinet(stack, tenant, path), json.dumps(payload).encode(), {**JSON, **cookie})
    return answer


def test_a_customer_logs_in_sees_their_points_and_sends_some_to_a_friend(deployed: DeployedStack) -> None:
    # Given a shop that allows transfers, with a customer (100 points) and her friend (50), both with phones
    creds = create_tenant(deployed, "cab-xfer", "--currency", "RUB")
    shop = Api(deployed.api_url, creds)
    settings = {"cabinet": {"sms_calling_codes": ["7"]}, "transfer": {"enabled": True, "min_lot_age_days": 0}}
    assert put(shop, "/program", settings).status == 200
    for order, member_id, total, phone in (("x-1", "mia", 200_000, PHONE), ("x-2", "leo", 100_000, FRIEND)):
        event = paid_event(order, member_id, total, customer={"id": member_id, "phone": phone})
        assert shop.webhook(event).status == 200

    # When she logs in and looks at her points
    cookie = log_in(deployed, "cab-xfer", PHONE)
    mine, _ = fetch("GET", cabinet(deployed, "cab-xfer", "/me"), headers=cookie)
    assert (mine.status, mine.body["balance"]) == (200, 100), mine

    # When she sends 30 points to her friend's phone
    page_id = str(uuid.uuid4())
    sent = post(deployed, "cab-xfer", "/me/transfers", {"transfer_id": page_id, "to": FRIEND, "points": 30}, cookie)
    # Then the answer names the friend masked and her new balance, and the merchant sees the friend's 80 points
    assert (sent.status, sent.body["to"], sent.body["balance"]) == (201, "+7 *** *** 71 02", 70), sent
    assert (shop.member("leo")["balance"], shop.member("mia")["balance"]) == (80, 70)
    # And the page's retry answers the first transfer and moves nothing
    again = post(deployed, "cab-xfer", "/me/transfers", {"transfer_id": page_id, "to": FRIEND, "points": 30}, cookie)
    assert (again.status, again.body["status"]) == (200, "duplicate"), again
    assert shop.member("leo")["balance"] == 80


def test_a_customer_rates_an_order_the_merchant_lists_it_and_the_staff_get_the_complaint(
    deployed: DeployedStack,
) -> None:
    # Given a shop with its managers' topic, rewarding a rating with 10 points, and a customer who paid an order
    topic, inbox = staff_inbox(deployed, "cab-rate")
    creds = create_tenant(deployed, "cab-rate", "--currency", "RUB", "--staff-topic-arn", topic)
    shop = Api(deployed.api_url, creds)
    assert put(shop, "/program", {"cabinet": {"sms_calling_codes": ["7"], "feedback_reward_points": 10}}).status == 200
    assert shop.webhook(paid_event("r-1", "ada", 200_000, customer={"id": "ada", "phone": PHONE})).status == 200
    cookie = log_in(deployed, "cab-rate", PHONE)

    # When she rates it 2 with a comment
    rated = post(deployed, "cab-rate", "/me/feedback", {"order_id": "r-1", "score": 2, "comment": "Late"}, cookie)
    # Then it is kept with its reward, and a second rating is refused
    assert (rated.status, rated.body["reward_points"]) == (201, 10), rated
    assert shop.member("ada")["balance"] == 110
    twice = post(deployed, "cab-rate", "/me/feedback", {"order_id": "r-1", "score": 5}, cookie)
    assert (twice.status, twice.code) == (409, "feedback_exists")
    # And the merchant lists it
    listed = shop.get("/feedback")
    assert listed.status == 200, listed
    assert [(i["order_id"], i["score"], i["comment"]) for i in listed.body["items"]] == [("r-1", 2, "Late")]
    # And the staff topic got the complaint, naming the order and no contact
    [task] = [json.loads(m["Body"]) for m in take_messages(deployed, inbox)]
    assert (task["task"], task["order_id"], task["score"], task["comment"]) == ("feedback_complaint", "r-1", 2, "Late")
    assert "phone" not in task and "9990007101" not in json.dumps(task)
