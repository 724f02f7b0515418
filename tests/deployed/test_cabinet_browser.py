"""The customer cabinet as a person uses it (issue 16 items 7 and 8): the page served by the deployed stack through
API Gateway, in Debian's Chromium driven by Playwright, at a phone's and a desktop's viewport.

A customer logs in with the code of the SMS the emulator received, sees every lot with its date, changes a consent,
rotates the card, sends points to a friend and rates an order; axe-core finds no serious or critical accessibility
fault on any screen; the page's CSP refuses nothing of its own. Screenshots of the main screens go to
docs/screenshots/ (the README shows one). Each step is named, so that a failure says which one and what it saw.
"""

from __future__ import annotations

import gzip
import re
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scripts.deploy_local import DeployedStack
from shared import clock
from tests.browser import axe
from tests.browser.session import Tab, chromium, tab
from tests.conftest import paid_event
from tests.deployed.stack import create_tenant, eventually, put, sms_to
from tests.e2e.client import Api

TENANT = "cab-browser"
ZONE = ZoneInfo("Europe/Moscow")
CUSTOMERS = {"anna": "+79990008001", "boris": "+79990008002", "carla": "+79990008003"}
FRIEND_OF = {"phone": ("anna", "boris"), "desktop": ("boris", "anna")}
SENT = 25
ASSET_BUDGET = 100 * 1024  # issue 16 item 7: JavaScript and CSS, compressed


@dataclass(frozen=True)
class Shop:
    api: Api
    page_url: str  # the cabinet's page as a customer opens it

    def order_of(self, member: str) -> str:
        return f"o-{member}"


@contextmanager
def step(name: str) -> Iterator[None]:
    """A named step: its failure (an API not there yet included) says which step and what it saw."""
    try:
        yield
    except Exception as error:
        raise AssertionError(f"step {name!r} failed: {type(error).__name__}: {error}") from error


@pytest.fixture(scope="module")
def shop(deployed: DeployedStack) -> Shop:
    """A shop whose cabinet sends codes to Russian numbers, with transfers, a promotion (its lot expires before the
    order's), tiers and a boost, and three customers who each paid an order."""
    creds = create_tenant(deployed, TENANT, "--currency", "RUB", "--timezone", "Europe/Moscow")
    api = Api(deployed.api_url, creds)
    now = clock.now()
    program = {
        "language": "en",
        "cabinet": {"title": "Green Grocer", "colour": "#0b6e4f", "sms_calling_codes": ["7"]},
        "transfer": {"enabled": True, "min_lot_age_days": 0},
        "tiers": [
            {"name": "Bronze", "min_spend_minor": 0, "earn_rate_bp": 500},
            {"name": "Silver", "min_spend_minor": 1_000_000, "earn_rate_bp": 700},
        ],
        "post_purchase_boost": {"days": 30, "multiplier_bp": 15_000, "discount_bp": 0},
        "promotions": [
            {
                "id": "winter",
                "name": "Winter",
                "starts_at": clock.iso(now - timedelta(days=1)),
                "ends_at": clock.iso(now + timedelta(days=30)),
                "earn_rate_bp": 300,
                "lifetime_days": 60,
            }
        ],
    }
    answer = put(api, "/program", program)
    assert answer.status == 200, answer
    for member, phone in CUSTOMERS.items():
        event = paid_event(f"o-{member}", member, 300_000, customer={"id": member, "phone": phone})
        assert api.webhook(event).status == 200
    return Shop(api, f"{deployed.api_url}/v1/tenants/{TENANT}/cabinet")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


# -- what a step does in the page ------------------------------------------------------------------------------------


def in_page(t: Tab, method: str, path: str) -> Any:
    """The cabinet API as the page calls it (its cookie, its origin): the JSON answer, or {"status": <error>}."""
    return t.page.evaluate(
        """async ([method, path]) => {
            const r = await fetch(location.pathname.replace(/\\/+$/, '') + path, {method, cache: 'no-store'});
            return r.ok ? r.json() : {status: r.status};
        }""",
        [method, path],
    )


def accessible(t: Tab, screen: str) -> None:
    found = axe.violations(t.page)
    assert not found, f"axe on the {screen} screen ({t.viewport}):\n{axe.describe(found)}"


def log_in(t: Tab, stack: DeployedStack, phone: str, wrong_code_first: bool = False) -> None:
    page = t.page
    page.get_by_label("Phone or e-mail").fill(phone)
    before = len(sms_to(stack, phone))
    page.get_by_role("button", name="Get a code").click()
    page.get_by_label("Code", exact=True).wait_for()
    sms = eventually(lambda: sms_to(stack, phone)[before:], timeout=30, what="the login SMS")
    code = re.search(r"\b(\d{6})\b", sms[-1]["Message"])
    assert code, sms[-1]
    if wrong_code_first:
        wrong = "000000" if code.group(1) != "000000" else "111111"
        page.get_by_label("Code", exact=True).fill(wrong)
        page.get_by_role("button", name="Log in").click()
        # the live region says it, and the code field has the focus back
        page.locator("#alert").filter(has_text="That code is wrong").wait_for()
        assert page.evaluate("document.activeElement.id") == "login-code"
    page.get_by_label("Code", exact=True).fill(code.group(1))
    page.get_by_role("button", name="Log in").click()


def expiry_text(lot: dict[str, Any], now: datetime) -> str:
    """How the page writes a lot in English (en-GB dates in the browser's zone): "120 points expire on 14 March"."""
    day = datetime.fromisoformat(lot["expires_at"]).astimezone(ZONE)
    when = f"{day.day} {day:%B}" + (f" {day.year}" if day.year != now.astimezone(ZONE).year else "")
    n = lot["remaining"]
    return f"{n:,} point expires on {when}" if n == 1 else f"{n:,} points expire on {when}"


# -- the tests -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_customer_logs_in_sees_their_lots_and_uses_every_screen(
    deployed: DeployedStack, shop: Shop, browser: Any, viewport: str
) -> None:
    member, friend = FRIEND_OF[viewport]
    with tab(browser, viewport) as t:
        page = t.page
        with step("open the page and see the login form"):
            # Given the cabinet's page of the shop, as the customer opens it
            page.goto(shop.page_url)
            page.get_by_role("heading", name="Log in").wait_for()
            # Then it wears the shop's name, in the shop's language
            assert page.locator("h1").inner_text() == "Green Grocer"
            assert page.evaluate("document.documentElement.lang") == "en"
            accessible(t, "login")
            t.screenshot("login")

        with step("log in with the code of the SMS"):
            # When the customer asks for a code and types the one of the SMS (a wrong one first, on the phone)
            log_in(t, deployed, CUSTOMERS[member], wrong_code_first=viewport == "phone")
            # Then the balance shows every lot with its date
            page.locator("#lots").wait_for()

        with step("see the balance and every lot with its expiry date"):
            me = in_page(t, "GET", "/me")
            assert me["member_id"] == member and me["lots"], me
            assert page.locator("#available").inner_text() == f"{me['available']:,}"
            shown = page.locator("#lots li").all_inner_texts()
            expected = [expiry_text(lot, clock.now()) for lot in me["lots"] if lot["remaining"]]
            assert len(expected) >= 2, me["lots"]  # the order's lot and the promotion's, with different dates
            for text in expected:
                assert any(text in line for line in shown), (text, shown)
            # And the figures are the merchant's
            assert me["available"] == shop.api.member(member)["available"]
            accessible(t, "balance")
            t.screenshot("balance")

        with step("change a consent in the questionnaire"):
            page.get_by_role("link", name="Profile").click()
            box = page.get_by_label("SMS", exact=True)
            was = box.is_checked()
            box.set_checked(not was)
            page.get_by_role("button", name="Save").click()
            page.locator("#status").filter(has_text="Saved.").wait_for()
            assert bool(in_page(t, "GET", "/me")["consent"].get("sms")) is (not was)
            accessible(t, "profile")

        with step("see the card and rotate it"):
            page.get_by_role("link", name="Card").click()
            page.locator("#qr").wait_for()
            old = page.locator("#card-token").inner_text()
            assert page.get_attribute("#qr", "src").startswith("data:image/svg+xml")  # type: ignore[union-attr]
            # the QR code is drawn (an SVG image that fails to load has no natural size)
            page.wait_for_function("() => document.getElementById('qr').complete")
            assert page.evaluate("document.getElementById('qr').naturalWidth") > 0
            assert CUSTOMERS[member] not in old and member not in old
            accessible(t, "card")
            t.screenshot("card")
            page.get_by_role("button", name="Replace the card").click()
            page.get_by_role("button", name="Yes, replace").click()
            page.locator("#card-token").filter(has_not_text=old).wait_for()
            new = page.locator("#card-token").inner_text()
            # the till finds the member by the new card only
            assert shop.api.get(f"/members/by-card/{new}").body["member_id"] == member
            assert shop.api.get(f"/members/by-card/{old}").status == 404

        with step("send points to a friend"):
            before, friend_before = in_page(t, "GET", "/me")["available"], shop.api.member(friend)["available"]
            page.get_by_role("link", name="Transfer").click()
            page.get_by_label("Friend's phone, e-mail or referral code").fill(CUSTOMERS[friend])
            page.get_by_label("Points", exact=True).fill(str(SENT))
            accessible(t, "transfer")
            page.get_by_role("button", name="Send points").click()
            page.locator("#transfer-result").filter(has_text=f"Sent {SENT} points").wait_for()
            assert in_page(t, "GET", "/me")["available"] == before - SENT
            assert shop.api.member(friend)["available"] == friend_before + SENT

        with step("see the history and rate the paid order"):
            page.get_by_role("link", name="History").click()
            page.locator("#history").wait_for()
            page.locator("#history li[data-kind=transfer_out]").first.wait_for()
            accessible(t, "history")
            t.screenshot("history")
            page.locator(f"button.rate[data-order='{shop.order_of(member)}']").click()
            page.get_by_role("heading", name="Rate your order").wait_for()
            page.locator("label", has_text="4").click()
            page.get_by_label("Comment (optional)").fill("Fresh bread, friendly staff")
            accessible(t, "feedback")
            page.get_by_role("button", name="Send", exact=True).click()
            page.get_by_role("heading", name="Thank you for your feedback!").wait_for()
            listed = shop.api.get("/feedback").body["items"]
            assert {(f["member_id"], f["order_id"], f["score"]) for f in listed} >= {(member, f"o-{member}", 4)}

        with step("log out"):
            page.get_by_role("button", name="Log out").click()
            page.get_by_role("heading", name="Log in").wait_for()
            assert in_page(t, "GET", "/me") == {"status": 401}

        assert not t.unexpected_errors(), t.unexpected_errors()


def test_a_rating_link_of_a_message_opens_the_form_after_login_and_russian_is_remembered(
    deployed: DeployedStack, shop: Shop, browser: Any
) -> None:
    with tab(browser, "desktop") as t:
        page = t.page
        with step("open a message's rating link and log in"):
            # Given the link of a message to rate an order, opened with the trailing slash a hand-typed URL may have
            page.goto(f"{shop.page_url}/?rate=o-carla")
            # When the customer logs in / Then the rating form of that order opens
            log_in(t, deployed, CUSTOMERS["carla"])
            page.get_by_role("heading", name="Rate your order").wait_for()
            assert "o-carla" in page.locator("#feedback-order").inner_text()

        with step("rate it 2 with a comment"):
            page.locator("label", has_text="2").click()
            page.get_by_label("Comment (optional)").fill("The milk was sour")
            page.get_by_role("button", name="Send", exact=True).click()
            page.get_by_role("heading", name="Thank you for your feedback!").wait_for()
            # and the link is spent: a reload does not offer the form again
            assert "rate=" not in page.url

        with step("switch to Russian and find it remembered"):
            page.get_by_label("Language").select_option("ru")
            page.get_by_role("link", name="Баланс").click()
            page.locator("#lots").wait_for()
            page.reload()
            page.locator("#lots").wait_for()
            assert page.evaluate("document.documentElement.lang") == "ru"
            assert "сгор" in page.locator("#lots").inner_text()  # "… баллов сгорят 14 марта"
            accessible(t, "balance in Russian")

        assert not t.unexpected_errors(), t.unexpected_errors()


def test_the_page_and_its_assets_are_served_with_a_strict_policy_and_within_budget(shop: Shop) -> None:
    # Given the page as API Gateway serves it
    with urllib.request.urlopen(shop.page_url, timeout=60) as answer:
        html, headers = answer.read().decode(), answer.headers
    # Then it is HTML with a CSP that allows no inline script or style and no framing
    assert headers["Content-Type"].startswith("text/html")
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-cache"
    # And its script and style, linked by their content's hash, are at most 100 KB compressed together
    links = re.findall(r'(?:src|href)="cabinet/(app\.(?:js|css)\?v=[0-9a-f]+)"', html)
    assert len(links) == 2, html
    total = 0
    for link in links:
        with urllib.request.urlopen(f"{shop.page_url}/{link}", timeout=60) as asset:
            assert "immutable" in asset.headers["Cache-Control"], link
            assert asset.headers["X-Content-Type-Options"] == "nosniff"
            total += len(gzip.compress(asset.read(), compresslevel=9))
    assert total <= ASSET_BUDGET, total
