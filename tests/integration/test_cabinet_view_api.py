"""What the customer sees in the cabinet (issue 16 item 2): the shop's face before a login, the tier still to reach,
the share link, and the history with the messages sent, page by page, never another member's."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from scripts.infra_messaging import create_messaging
from shared.container import reset
from tests.conftest import TenantCreds, body, make_tenant, paid_event, post_webhook
from tests.integration.conftest import Clock
from tests.integration.scheduled.conftest import SENDER, aws_client
from tests.integration.support import assert_error
from tests.integration.test_cabinet_api import PHONE, call, log_in

TIERS = [{"name": "Silver", "min_spend_minor": 100_000, "earn_rate_bp": 700},
         {"name": "Gold", "min_spend_minor": 500_000, "earn_rate_bp": 1000}]  # fmt: skip


@pytest.fixture
def dynamodb_requests(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """The DynamoDB API requests served, by operation (moto's request handler: a BatchGetItem counts once)."""
    from moto.dynamodb.responses import DynamoHandler

    calls: Counter[str] = Counter()
    for name in ("batch_get_item", "get_item", "query", "scan", "transact_get_items"):
        original = getattr(DynamoHandler, name)

        def counted(self: Any, _name: str = name, _original: Any = original) -> Any:
            calls[_name] += 1
            return _original(self)

        monkeypatch.setattr(DynamoHandler, name, counted)
    return calls


@pytest.fixture
def shop(aws: None, client: Any, frozen: Clock) -> TenantCreds:
    """A shop with tiers whose member c1 spent 2000.00 over three orders (Silver; Gold at 5000.00)."""
    create_messaging(aws_client, SENDER)
    creds = make_tenant(
        "shop", language="ru", tiers=TIERS,
        cabinet={"sms_calling_codes": ["7"], "title": "Кофейня", "colour": "#aa3300"},
    )  # fmt: skip
    for n, total in enumerate((50_000, 70_000, 80_000)):
        event = paid_event(f"o{n}", total=total, customer={"id": "c1", "phone": PHONE})
        assert post_webhook(client, creds, event, ts=frozen.ts).status_code == 200
    return creds


def test_the_page_learns_the_shops_name_colour_and_language_before_any_login(client: Any, shop: TenantCreds) -> None:
    # When the page asks for the shop's face, without a session
    face = call(client, "get", "/shop")
    # Then it gets what to show and how one may log in, and nothing of any member; a cache may keep it a minute
    assert body(face) == {"tenant_id": "shop", "title": "Кофейня", "colour": "#aa3300", "language": "ru",
                          "currency": "RUB", "self_enrolment": False, "sms_login": True}  # fmt: skip
    assert face.headers["Cache-Control"] == "public, max-age=60"
    # And an unknown shop is 404
    assert_error(call(client, "get", "/shop", tenant="nope"), 404, "tenant_not_found")


def test_the_customer_sees_the_spend_still_needed_for_the_next_tier_and_a_link_to_share(
    client: Any, shop: TenantCreds
) -> None:
    cookie = log_in(client)
    # When c1 opens the cabinet
    mine = body(call(client, "get", "/me", cookie=cookie))
    # Then the tier reached and the spend to the next one show: 5000.00 - 2000.00
    assert (mine["tier"], mine["next_tier"]) == ("Silver", {"name": "Gold", "spend_needed_minor": 300_000})
    # And the share link carries the referral code (the cabinet page, as the shop set no link of its own)
    assert mine["share_link"].endswith(f"/v1/tenants/shop/cabinet?ref={mine['referral_code']}")


def test_the_shops_own_share_link_is_used_when_it_set_one(client: Any, shop: TenantCreds) -> None:
    program = {"cabinet": {"sms_calling_codes": ["7"], "share_url": "https://coffee.example/join?ref={code}"}}
    assert client.http.put("/v1/tenants/shop/program", body=json.dumps(program), headers=shop.auth).status_code == 200
    mine = body(call(client, "get", "/me", cookie=log_in(client)))
    assert mine["share_link"] == f"https://coffee.example/join?ref={mine['referral_code']}"


def test_the_history_is_the_merchants_history_page_by_page_and_only_the_customers_own(
    client: Any, shop: TenantCreds, frozen: Clock
) -> None:
    cookie = log_in(client)
    # When c1 reads the history two entries at a time
    first = call(client, "get", "/me/history?limit=2", cookie=cookie)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    page = body(first)
    rest = body(call(client, "get", f"/me/history?limit=2&cursor={page['next_cursor']}", cookie=cookie))
    # Then the pages together are what the merchant sees of c1, newest first
    merchant = client.http.get("/v1/tenants/shop/members/c1/history?limit=100", headers=shop.auth)
    assert page["entries"] + rest["entries"] == body(merchant)["entries"]
    assert [e["reference"] for e in page["entries"] + rest["entries"]] == ["o2", "o1", "o0"]
    # And a cursor of another member opens nothing of theirs
    for order in ("x1", "x2"):
        assert post_webhook(client, shop, paid_event(order, member_id="c2"), ts=frozen.ts).status_code == 200
    other = client.http.get("/v1/tenants/shop/members/c2/history?limit=1", headers=shop.auth)
    foreign = body(other)["next_cursor"]
    assert foreign
    assert_error(call(client, "get", f"/me/history?cursor={foreign}", cookie=cookie), 400, "invalid_cursor")
    # And without a session nothing is read
    assert_error(call(client, "get", "/me/history"), 401, "not_logged_in")


def test_me_reads_the_session_and_the_member_in_one_request(
    client: Any,
    shop: TenantCreds,
    dynamodb_requests: Counter[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a logged-in customer (the cookie names the member beside the token)
    cookie = log_in(client)
    assert cookie.endswith("~c1")
    # When the cabinet's view is read
    monkeypatch.setenv("TENANT_CACHE_SECONDS", "60")  # as deployed: the tenant is read once per container
    reset()
    call(client, "get", "/shop")
    dynamodb_requests.clear()
    assert call(client, "get", "/me", cookie=cookie).status_code == 200
    # Then it is one read request, as the merchant's member view
    assert dynamodb_requests == Counter({"batch_get_item": 1}), dynamodb_requests


def test_a_cookie_naming_another_member_opens_nothing(client: Any, shop: TenantCreds, frozen: Clock) -> None:
    # Given c2 bought too, and c1's cookie is edited to name c2
    assert post_webhook(client, shop, paid_event("x1", member_id="c2"), ts=frozen.ts).status_code == 200
    forged = log_in(client).rsplit("~", 1)[0] + "~c2"
    # When it asks for the view / Then nothing of c2 (or c1) is shown
    assert_error(call(client, "get", "/me", cookie=forged), 401, "not_logged_in")
    # And a cookie without the member part (an older one) still opens c1's own view
    assert body(call(client, "get", "/me", cookie=forged.rsplit("~", 1)[0]))["member_id"] == "c1"
