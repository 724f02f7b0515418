"""A platform order that carries a hold code is never dropped, and its discount always costs points (issue 13 item 6);
a platform refund that names its lines takes back the bonus those lines gave (item 2).

The platform gave the discount before we heard of the order: refusing it would leave the discount unpaid and the
order's own points unearned. The points are taken from the customer who got the discount, into debt if they are gone.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from shared import clock
from tests.conftest import body, paid_event, post_webhook
from tests.integration.conftest import Clock
from tests.integration.platforms.conftest import fixture, platform_tenant, post
from tests.integration.platforms.test_shopify import SECRET, signed
from tests.integration.support import member
from tests.integration.test_webhook_logs import emf

CUSTOMER = "1073339475"  # the customer of the Shopify fixture


@pytest.fixture
def shop(aws: None) -> Any:
    return platform_tenant("shopify", SECRET, currency="USD", lifetime_days=3650)


def hold_code(client: Any, shop: Any, member_id: str, points: int) -> str:
    response = client.http.post(
        "/v1/tenants/shop/holds",
        body=json.dumps({"member_id": member_id, "order_id": f"cart-{member_id}", "points": points}),
        headers=shop.auth,
    )
    assert response.status_code == 201, response.body
    return str(body(response)["code"])


def shopify_paid_with(client: Any, code: str, webhook_id: str) -> dict[str, Any]:
    """The fixture's paid order (181.09 USD after the discount) carrying ``code``; its one result."""
    order = json.loads(fixture("shopify_orders_paid.json"))
    order["discount_codes"] = [{"code": code, "amount": "30.00", "type": "fixed_amount"}]
    raw = json.dumps(order).encode()
    response = post(client, "shop", "shopify", raw, signed(raw, "orders/paid", webhook_id))
    assert response.status_code == 200, response.body
    [result] = body(response)["results"]
    return dict(result)


def test_another_members_hold_code_charges_the_customer_who_got_the_discount(
    client: Any, shop: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given alice holds 30 points (her code), and the fixture's customer has 100 points
    post_webhook(client, shop, paid_event("a0", "alice", 200_000, currency="USD"))
    post_webhook(client, shop, paid_event("c0", CUSTOMER, 200_000, currency="USD"))
    code = hold_code(client, shop, "alice", 30)
    # When the customer's Shopify order carries alice's code
    capsys.readouterr()
    result = shopify_paid_with(client, code, "wh-1")
    # Then the case is counted (the HoldCodeCharged alarm watches it) and the answer says why
    assert [line["HoldCodeCharged"] for line in emf(capsys.readouterr().out) if "HoldCodeCharged" in line] == [[1.0]]
    assert result["reason"] == "hold_code_of_another_member"
    # And the order is applied for the customer: the 30 points of the discount are theirs to pay, and it earns
    assert (result["status"], result["points_redeemed"], result["points_earned"]) == ("applied", 30, 9)
    assert member(client, shop, CUSTOMER)["balance"] == 100 - 30 + 9
    # And alice's points are untouched (her hold stays hers until it lapses)
    view = member(client, shop, "alice")
    assert (view["balance"], view["held"]) == (100, 30)


def test_a_lapsed_hold_whose_points_were_spent_is_charged_into_debt(client: Any, shop: Any, frozen: Clock) -> None:
    # Given the customer held 30 of 100 points, the hold lapsed, and 90 were spent on an order that earned 4
    post_webhook(client, shop, paid_event("c0", CUSTOMER, 200_000, currency="USD"), ts=frozen.ts)
    code = hold_code(client, shop, CUSTOMER, 30)
    frozen.advance(timedelta(hours=1))
    spend = paid_event("c1", CUSTOMER, 18_000, currency="USD", points_redeemed=90, paid_at=clock.now())
    assert post_webhook(client, shop, spend, ts=frozen.ts).status_code == 200
    assert member(client, shop, CUSTOMER)["balance"] == 14
    # When the platform order with the code arrives after all
    result = shopify_paid_with(client, code, "wh-2")
    # Then it is applied, not rejected: the 30 are taken (14 points and 16 as debt), and its 9 points pay debt first
    assert (result["status"], result["points_redeemed"], result["points_earned"]) == ("applied", 30, 9)
    view = member(client, shop, CUSTOMER)
    assert (view["balance"], view["debt"]) == (-7, 7)


def test_a_shopify_refund_of_one_line_takes_the_combo_bonus_it_broke(client: Any, aws: None) -> None:
    # Given a Shopify shop with a 500-point combo on A + B, and an order of A (171.09) and B (10.00): 9 + 500 points
    shop = platform_tenant("shopify", SECRET, tenant_id="combo", currency="USD", lifetime_days=3650, combos=[COMBO])
    order = json.loads(fixture("shopify_orders_paid.json"))
    order["line_items"] = [shopify_line(1, "A", "171.09"), shopify_line(2, "B", "10.00")]
    raw = json.dumps(order).encode()
    paid = post(client, "combo", "shopify", raw, signed(raw, "orders/paid", "wh-c1"))
    assert body(paid)["results"][0]["points_earned"] == 509
    # When Shopify reports the refund of line B (refund_line_items) with its 10.00 cash transaction
    refund = {
        "id": 77,
        "order_id": order["id"],
        "refund_line_items": [{"id": 1, "quantity": 1, "line_item_id": 2, "line_item": shopify_line(2, "B", "10.00")}],
        "transactions": [
            {"kind": "refund", "status": "success", "gateway": "bogus", "amount": "10.00", "currency": "USD"}
        ],
    }
    raw = json.dumps(refund).encode()
    answer = post(client, "combo", "shopify", raw, signed(raw, "refunds/create", "wh-c2"))
    # Then what A alone earns (8) stays: 501 points go back, not 0 (the cash share of 10.00 in 181.09)
    assert body(answer)["results"][0]["points_reversed"] == 501
    assert member(client, shop, CUSTOMER)["balance"] == 8


COMBO = {"skus": ["A", "B"], "bonus_points": 500}


def shopify_line(line_id: int, sku: str, price: str) -> dict[str, Any]:
    return {"id": line_id, "sku": sku, "price": price, "quantity": 1, "product_type": ""}
