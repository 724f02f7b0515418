"""The digital card through HTTP (issue 16 item 4): the cabinet shows a QR code of an opaque card token, the customer
rotates it (a lost phone), and the merchant's till resolves a scanned card to the member view."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import TenantCreds, body, make_tenant, paid_event, post_webhook
from tests.integration.conftest import Clock
from tests.integration.scheduled.notify_support import sms
from tests.integration.support import assert_error, ledger_items, member
from tests.integration.test_cabinet_api import EMAIL, PHONE, open_cabinet_shop
from tests.integration.test_response_schemas import documented

CARD = "/v1/tenants/{tenant}/cabinet/me/card"


@pytest.fixture
def shop(aws: None, client: Any, frozen: Clock) -> TenantCreds:
    return open_cabinet_shop(client, frozen)


def log_in(client: Any, tenant: str = "shop", contact: str = PHONE) -> dict[str, str]:
    """The cookie header of a session of ``contact``'s member, opened with the code of the last SMS."""
    json_headers = {"content-type": "application/json"}
    url = f"/v1/tenants/{tenant}/cabinet"
    asked = client.http.post(f"{url}/login", body=json.dumps({"contact": contact}), headers=json_headers)
    assert asked.status_code == 202, asked.body
    code = re.search(r"\b(\d{6})\b", [text for to, text in sms() if to == contact][-1]).group(1)  # type: ignore[union-attr]
    verified = client.http.post(
        f"{url}/verify", body=json.dumps({"contact": contact, "code": code}), headers=json_headers
    )
    assert verified.status_code == 200, verified.body
    return {"cookie": verified.headers["Set-Cookie"].split(";")[0]}


def my_card(client: Any, cookie: dict[str, str], tenant: str = "shop") -> Any:
    return client.http.get(CARD.format(tenant=tenant), headers=cookie)


def rotate(client: Any, cookie: dict[str, str], tenant: str = "shop") -> Any:
    headers = {"content-type": "application/json", **cookie}
    return client.http.post(CARD.format(tenant=tenant) + "/rotate", body="{}", headers=headers)


def by_card(client: Any, creds: TenantCreds, token: str) -> Any:
    return client.http.get(f"/v1/tenants/{creds.tenant_id}/members/by-card/{token}", headers=creds.auth)


def test_the_cabinet_shows_the_same_card_until_it_is_rotated_and_the_till_resolves_it(
    client: Any, shop: TenantCreds, frozen: Clock
) -> None:
    cookie = log_in(client)
    # When the customer opens the card for the first time
    first = my_card(client, cookie)
    # Then it is an opaque token with its QR code, never cached
    assert first.status_code == 200, first.body
    assert first.headers["Cache-Control"] == "no-store"
    card = body(first)
    assert set(card) == {"token", "qr_svg", "rotated_at"} and re.fullmatch(r"LC-[A-Z2-7]{32}", card["token"])
    # And the QR code is an inline SVG image with a title, and shows neither the member id nor the phone
    svg = card["qr_svg"]
    assert svg.startswith("<svg ") and svg.endswith("</svg>") and "<?xml" not in svg
    assert 'role="img"' in svg and re.search(r"<title>[^<]+</title>", svg)
    assert all(secret not in svg and secret not in card["token"] for secret in ("c1", PHONE, PHONE[1:], EMAIL))
    # When the customer opens it again later / Then it is the same card
    frozen.advance(timedelta(hours=1))
    assert body(my_card(client, cookie)) == card
    # When the till scans it / Then the merchant gets the member view, as GET members/{id} gives it
    found = by_card(client, shop, card["token"])
    assert found.status_code == 200, found.body
    assert body(found) == member(client, shop)
    # And a cashier typing it in lower case finds the same member
    assert body(by_card(client, shop, card["token"].lower()))["member_id"] == "c1"
    # And every answer is what docs/openapi.json says
    documented(first, CARD.format(tenant="{tenant_id}"), "get")
    documented(found, "/v1/tenants/{tenant_id}/members/by-card/{token}", "get")
    documented(rotate(client, cookie), CARD.format(tenant="{tenant_id}") + "/rotate", "post")
    missing = by_card(client, shop, "LC-" + "A" * 32)
    assert documented(missing, "/v1/tenants/{tenant_id}/members/by-card/{token}", "get")["error"]["code"] == (
        "card_not_found"
    )


def test_a_rotated_card_is_not_found_at_the_till_and_the_new_one_is(
    client: Any, shop: TenantCreds, frozen: Clock
) -> None:
    cookie = log_in(client)
    old = body(my_card(client, cookie))
    # When the customer rotates the card (a lost phone)
    frozen.advance(timedelta(minutes=3))
    rotated = rotate(client, cookie)
    # Then a new token and QR code are answered, never cached, and the cabinet shows the new card from now on
    assert rotated.status_code == 200, rotated.body
    assert rotated.headers["Cache-Control"] == "no-store"
    new = body(rotated)
    assert new["token"] != old["token"] and new["qr_svg"] != old["qr_svg"] and new["rotated_at"] > old["rotated_at"]
    assert body(my_card(client, cookie)) == new
    # And at the till the old token is not found, the new one is c1
    assert_error(by_card(client, shop, old["token"]), 404, "card_not_found")
    assert body(by_card(client, shop, new["token"]))["member_id"] == "c1"


def test_a_card_resolves_only_in_its_own_shop(client: Any, shop: TenantCreds, frozen: Clock) -> None:
    # Given c1's card in this shop, and another shop with its own member c1
    token = body(my_card(client, log_in(client)))["token"]
    other = make_tenant("other")
    assert post_webhook(client, other, paid_event("o1", total=100_000), ts=frozen.ts).status_code == 200
    # When the other shop's till scans it / Then it finds no card
    assert_error(by_card(client, other, token), 404, "card_not_found")
    # And its own key does not open this shop's look-up
    response = client.http.get(f"/v1/tenants/shop/members/by-card/{token}", headers=other.auth)
    assert response.status_code == 403, response.body


def test_what_is_no_card_token_is_422_and_an_unknown_one_404_and_nothing_is_written(
    client: Any, shop: TenantCreds
) -> None:
    before = ledger_items()
    # When the till sends a product's barcode, a member id, a token cut short / Then each is 422 invalid_card_token
    for scanned in ("4006381333931", "c1", "LC-ABCDEFGHIJKLMNOPQRSTUVWXYZ23456"):
        assert_error(by_card(client, shop, scanned), 422, "invalid_card_token")
    # When it sends a well-formed token no card has / Then 404 card_not_found
    assert_error(by_card(client, shop, "LC-" + "A" * 32), 404, "card_not_found")
    # And without the API key the look-up is refused
    assert client.http.get("/v1/tenants/shop/members/by-card/LC-" + "A" * 32).status_code == 401
    assert ledger_items() == before


def test_without_a_session_the_card_routes_are_401_and_create_nothing(client: Any, shop: TenantCreds) -> None:
    before = ledger_items()
    assert_error(my_card(client, {}), 401, "not_logged_in")
    assert_error(rotate(client, {}), 401, "not_logged_in")
    assert_error(my_card(client, {"cookie": "cabinet_session=" + "A" * 43}), 401, "not_logged_in")
    assert ledger_items() == before


def test_another_shops_session_opens_no_card_here(client: Any, shop: TenantCreds) -> None:
    # Given a session of this shop / When it is used at another shop's cabinet / Then it is not logged in there
    cookie = log_in(client)
    make_tenant("other")
    assert_error(my_card(client, cookie, tenant="other"), 401, "not_logged_in")
    assert_error(rotate(client, cookie, tenant="other"), 401, "not_logged_in")
