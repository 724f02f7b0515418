"""The README walk-through on the deployed stack, through API Gateway: each step's request as the README writes it
(member ``anna``, orders ``o-1001`` and ``o-1002``, refund ``r-1``), each answer checked against what the README
promises: statuses and figures exactly.
"""

from __future__ import annotations

import json
import urllib.parse
from datetime import UTC, datetime, timedelta
from typing import Any

from scripts.deploy_local import DeployedStack
from tests.conftest import paid_event, refund_event, signed_headers
from tests.deployed.stack import create_tenant
from tests.e2e.client import Answer, Api

MEMBER = "anna"


def applied(answer: Answer, **figures: int) -> dict[str, Any]:
    assert (answer.status, answer.body["status"]) == (200, "applied"), answer
    assert {name: answer.body[name] for name in figures} == figures, answer.body
    return dict(answer.body)


def earn(api: Api) -> dict[str, Any]:
    """1. Anna pays o-1001 of 1000.00 RUB and earns 5 %."""
    first = api.webhook(paid_event("o-1001", MEMBER, total=100_000))
    return applied(first, points_earned=50, balance=50)


def quote_and_hold(api: Api) -> str:
    """2. The quote for a 2500.00 cart with 100.00 of shipping; 3. the hold of her 50 points for o-1002."""
    cart = {"member_id": MEMBER, "currency": "RUB", "total_minor": 250_000, "shipping_minor": 10_000}
    quote = api.post("/checkout/quote", cart)
    assert quote.status == 200, quote
    assert quote.body == {
        "available": 50,
        "max_redeemable_points": 50,
        "max_discount_minor": 5_000,
        "points_to_earn": 120,
        "points_to_earn_at_max_redeem": 117,
        "tier": None,
        "tier_discount_minor": 0,
        "boost_discount_minor": 0,
    }
    hold = api.post("/holds", {"member_id": MEMBER, "order_id": "o-1002", "points": 50})
    assert hold.status == 201, hold
    assert hold.body["hold_id"].startswith("h_")
    assert (hold.body["points"], hold.body["discount_minor"], hold.body["status"]) == (50, 5_000, "active")
    ttl = datetime.fromisoformat(hold.body["expires_at"]) - datetime.now(UTC)
    assert timedelta(minutes=14) < ttl <= timedelta(minutes=15, seconds=5)  # 15 minutes
    assert (api.member(MEMBER)["available"], api.member(MEMBER)["held"]) == (0, 50)
    return str(hold.body["hold_id"])


def pay_with_hold(api: Api, hold_id: str) -> None:
    """4. The paid-order webhook names the hold: 2450.00 paid in cash earns 117."""
    event = paid_event("o-1002", MEMBER, total=250_000, shipping_minor=10_000, points_redeemed=50, hold_id=hold_id)
    applied(api.webhook(event), points_earned=117, points_redeemed=50, balance=117)
    view = api.member(MEMBER)
    assert (view["available"], view["held"], view["lifetime_spend_minor"]) == (117, 0, 345_000)
    assert [(lot["source"], lot["remaining"]) for lot in view["lots"]] == [("order", 117)]  # o-1001's 50 spent
    expiries = [lot["expires_at"] for lot in view["lots"]]
    assert expiries == sorted(expiries)  # soonest first


def refund_half(api: Api, first_expiry: str) -> None:
    """5. Half of the cash refunded: half of the earned points taken back, half of the spent ones restored with
    their original expiry date."""
    applied(api.webhook(refund_event("o-1002", "r-1", 122_500)), points_reversed=58, points_restored=25, balance=84)
    lots = [(lot["expires_at"], lot["source"], lot["remaining"]) for lot in api.member(MEMBER)["lots"]]
    assert lots == sorted(lots, key=lambda lot: lot[0])  # soonest first (o-1001 and o-1002 may share the second)
    assert sorted(lot[1:] for lot in lots) == [("order", 59), ("refund", 25)]
    assert (first_expiry, "refund", 25) in lots


def history_pages(api: Api) -> None:
    """6. The history, newest first, 3 entries a page."""
    page1 = api.get(f"/members/{MEMBER}/history?limit=3")
    assert page1.status == 200, page1
    cursor = page1.body["next_cursor"]
    assert cursor
    page2 = api.get(f"/members/{MEMBER}/history?limit=3&cursor={urllib.parse.quote(cursor, safe='')}")
    assert page2.status == 200, page2
    assert page2.body["next_cursor"] is None
    pages = [[(e["kind"], e["delta"]) for e in page.body["entries"]] for page in (page1, page2)]
    assert pages == [[("restore", 25), ("reverse", -58), ("earn", 117)], [("redeem", -50), ("earn", 50)]]
    entries = page1.body["entries"] + page2.body["entries"]
    assert [e["balance_after"] for e in entries] == [84, 59, 117, 0, 50]
    assert [e["reference"] for e in entries] == ["o-1002", "o-1002", "o-1002", "o-1002", "o-1001"]
    assert all(e["lots"] for e in entries), entries  # the lots each entry touched


def replays_and_refusals(deployed: DeployedStack, api: Api, first: dict[str, Any]) -> None:
    """o-1001 sent again, twice under one webhook-id: duplicates with the first result; then the README's refusals."""
    for _ in range(2):
        again = api.webhook(paid_event("o-1001", MEMBER, total=100_000), msg_id="msg_again")
        assert (again.status, again.body) == (200, {**first, "status": "duplicate"}), again
    assert api.member(MEMBER)["balance"] == 84
    raw = json.dumps(paid_event("o-1003", MEMBER, total=100_000)).encode()
    forged = api.webhook_raw(raw, signed_headers("whsec_" + "B" * 32, raw))
    assert (forged.status, forged.code) == (401, "invalid_signature")
    assert isinstance(forged.body["error"]["message"], str)
    huge = json.dumps({"type": "order.paid", "padding": "x" * 256 * 1024}).encode()
    assert api.webhook_raw(huge, signed_headers(api.creds.secret, huge)).status == 413
    other = create_tenant(deployed, "shop-other", "--currency", "RUB")
    assert Api(deployed.api_url, other).get(f"/members/{MEMBER}", tenant=api.creds.tenant_id).status == 403


def test_readme_walk_through_over_api_gateway(deployed: DeployedStack, api: Api) -> None:
    first = earn(api)
    [first_lot] = api.member(MEMBER)["lots"]
    hold_id = quote_and_hold(api)
    pay_with_hold(api, hold_id)
    refund_half(api, first_lot["expires_at"])
    history_pages(api)
    replays_and_refusals(deployed, api, first)
