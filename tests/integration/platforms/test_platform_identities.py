"""A platform's guest is one member however the shop wrote the contact (issue 13 item 16): phones are normalised to
E.164 and e-mails to NFKC + casefold before they become member ids."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import TenantCreds, body
from tests.integration.platforms.conftest import fixture, platform_tenant, post
from tests.integration.platforms.test_shopify import SECRET as SHOPIFY_SECRET
from tests.integration.platforms.test_shopify import signed as shopify_signed
from tests.integration.support import member

PHONES = ["+79991234567", "+7-999-123-45-67", "+7 (999) 123-45-67"]


@pytest.fixture
def shop(aws: None) -> TenantCreds:
    return platform_tenant("shopify", SHOPIFY_SECRET, currency="USD", lifetime_days=3650)


def guest_order(order_id: int, **contact: Any) -> bytes:
    """The orders/paid fixture (181.09 USD, 9 points) as a guest's order carrying only ``contact``."""
    order = json.loads(fixture("shopify_orders_paid.json"))
    order.update({"id": order_id, "customer": None, "email": None, "contact_email": None, "phone": None, **contact})
    return json.dumps(order).encode()


def deliver(client: Any, raw: bytes, webhook_id: str) -> dict[str, Any]:
    response = post(client, "shop", "shopify", raw, shopify_signed(raw, "orders/paid", webhook_id))
    assert response.status_code == 200, response.body
    [result] = body(response)["results"]
    return dict(result)


def test_one_phone_written_three_ways_is_one_member(client: Any, shop: TenantCreds) -> None:
    # When three guest orders carry the same phone written three ways
    results = [deliver(client, guest_order(n, phone=p), f"wh-{n}") for n, p in enumerate(PHONES, start=1)]
    # Then each earns 9 points for the one member +79991234567 (none is rejected)
    assert [(r["status"], r["member_id"], r["points_earned"]) for r in results] == [("applied", "+79991234567", 9)] * 3
    view = member(client, shop, "+79991234567")
    assert (view["balance"], view["phone"]) == (27, "+79991234567")


def test_one_email_in_other_unicode_forms_is_one_member(client: Any, shop: TenantCreds) -> None:
    # When two guest orders carry one address, once in fullwidth capitals and once plainly
    first = deliver(client, guest_order(1, email="ＪＯＨＮ＠ＥＸＡＭＰＬＥ．ＣＯＭ"), "wh-1")
    second = deliver(client, guest_order(2, email="john@example.com"), "wh-2")
    # Then both earn for the one member john@example.com
    assert {first["member_id"], second["member_id"]} == {"john@example.com"}
    assert member(client, shop, "john@example.com")["balance"] == 18


def test_a_phone_without_its_country_identifies_nobody(client: Any, shop: TenantCreds) -> None:
    # When a guest order carries only a national phone number
    result = deliver(client, guest_order(1, phone="8 (999) 123-45-67"), "wh-1")
    # Then it earns nothing, and says why
    assert (result["status"], result["points_earned"]) == ("ignored", 0)
    assert "customer" in result["reason"]
