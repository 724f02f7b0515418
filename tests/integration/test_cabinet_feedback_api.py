"""Feedback on a paid order through HTTP (issue 16 item 6): the customer rates their own paid order once, a low score
reaches the shop's staff as a complaint, a reward never depends on the score, and the merchant lists the ratings."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from scripts.infra_messaging import create_messaging
from tests.conftest import TenantCreds, body, make_tenant, paid_event, post_webhook
from tests.integration.conftest import Clock
from tests.integration.scheduled.conftest import SENDER, aws_client
from tests.integration.scheduled.notify_support import staff_tasks, staff_topic
from tests.integration.support import assert_error, history, ledger_items, member
from tests.integration.test_cabinet_api import PHONE, call, log_in

FRIEND_PHONE = "+79990007001"


def open_shop(client: Any, frozen: Clock, reward: int = 0, **program: Any) -> tuple[TenantCreds, str]:
    """A shop with a staff topic (its inbox URL returned) where c1 paid o1 and o2, and c2 paid o3."""
    create_messaging(aws_client, SENDER)
    topic, inbox = staff_topic("loyalty-staff-shop")
    cabinet = {"sms_calling_codes": ["7"], "feedback_reward_points": reward}
    creds = make_tenant("shop", cabinet=cabinet, staff_topic_arn=topic, **program)
    for order, member_id, phone in (("o1", "c1", PHONE), ("o2", "c1", PHONE), ("o3", "c2", FRIEND_PHONE)):
        event = paid_event(order, total=200_000, customer={"id": member_id, "phone": phone})
        assert post_webhook(client, creds, event, ts=frozen.ts).status_code == 200
    return creds, inbox


@pytest.fixture
def shop(aws: None, client: Any, frozen: Clock) -> tuple[TenantCreds, str]:
    return open_shop(client, frozen)


def rate(client: Any, cookie: str | None, order_id: str, score: int, comment: str | None = None) -> Any:
    payload = {"order_id": order_id, "score": score, **({"comment": comment} if comment is not None else {})}
    return call(client, "post", "/me/feedback", payload, cookie=cookie)


def merchant_list(client: Any, creds: TenantCreds, query: str = "") -> Any:
    return client.http.get(f"/v1/tenants/{creds.tenant_id}/feedback{query}", headers=creds.auth)


def test_a_customer_rates_a_paid_order_once_and_a_five_bothers_no_one(
    client: Any, shop: tuple[TenantCreds, str], frozen: Clock
) -> None:
    creds, inbox = shop
    cookie = log_in(client)
    # When c1 rates o1 five stars with a comment
    rated = rate(client, cookie, "o1", 5, "Быстро и вкусно")
    # Then it is kept, and no complaint goes to the staff
    assert rated.status_code == 201, rated.body
    assert body(rated) == {"order_id": "o1", "score": 5, "comment": "Быстро и вкусно", "reward_points": 0,
                           "created_at": frozen.now.strftime("%Y-%m-%dT%H:%M:%SZ")}  # fmt: skip
    assert staff_tasks(inbox) == []
    # When c1 rates o1 again, even with another score / Then it is refused and the first rating stays
    before = ledger_items()
    assert_error(rate(client, cookie, "o1", 1, "changed my mind"), 409, "feedback_exists")
    assert ledger_items() == before
    [listed] = body(merchant_list(client, creds))["items"]
    assert (listed["score"], listed["comment"], listed["member_id"]) == (5, "Быстро и вкусно", "c1")


def test_a_score_of_two_reaches_the_staff_as_a_complaint_without_the_customers_contact(
    client: Any, shop: tuple[TenantCreds, str]
) -> None:
    _, inbox = shop
    assert rate(client, log_in(client), "o2", 2, "Cold soup").status_code == 201
    [task] = staff_tasks(inbox)
    assert {k: task[k] for k in ("task", "order_id", "score", "comment")} == {
        "task": "feedback_complaint",
        "order_id": "o2",
        "score": 2,
        "comment": "Cold soup",
    }
    assert "9990001001" not in json.dumps(task) and "c1" not in json.dumps(task)


def test_another_customers_order_and_an_unknown_one_are_not_found_and_nothing_is_written(
    client: Any, shop: tuple[TenantCreds, str]
) -> None:
    cookie = log_in(client)
    before = ledger_items()
    assert_error(rate(client, cookie, "o3", 1), 404, "order_not_found")  # c2's
    assert_error(rate(client, cookie, "o404", 1), 404, "order_not_found")
    assert ledger_items() == before


@pytest.mark.parametrize("score", [1, 5])
def test_the_reward_is_the_same_whatever_the_score_and_paid_once(client: Any, aws: None, frozen: Clock,
                                                                  score: int) -> None:  # fmt: skip
    # Given a shop that gives 25 points for rating an order
    creds, _ = open_shop(client, frozen, reward=25)
    cookie = log_in(client)
    before = member(client, creds)["balance"]
    # When c1 rates o1 with this score
    rated = rate(client, cookie, "o1", score)
    # Then c1 gets 25 points in a lot of their own, whatever the score, and the history says why
    assert (rated.status_code, body(rated)["reward_points"]) == (201, 25)
    after = member(client, creds)
    assert after["balance"] == before + 25 and 25 in [lot["points"] for lot in after["lots"]]
    assert [e["reference"] for e in history(client, creds) if e["reference"] == "feedback:o1"] == ["feedback:o1"]
    # And a second try pays nothing more
    assert_error(rate(client, cookie, "o1", 5 if score == 1 else 1), 409, "feedback_exists")
    assert member(client, creds)["balance"] == before + 25


def test_the_merchant_lists_ratings_since_a_time_oldest_first_in_pages(
    client: Any, shop: tuple[TenantCreds, str], frozen: Clock
) -> None:
    creds, _ = shop
    # Given three ratings over two months (c1's o1 and o2, c2's o3)
    start = frozen.now
    assert rate(client, log_in(client), "o1", 4).status_code == 201
    frozen.advance(timedelta(days=40))
    assert rate(client, log_in(client), "o2", 3).status_code == 201
    frozen.advance(timedelta(seconds=1))
    assert rate(client, log_in(client, FRIEND_PHONE), "o3", 5).status_code == 201
    since = start.strftime("%Y-%m-%dT%H:%M:%SZ")
    # When the merchant asks from the first one, two a page
    first = merchant_list(client, creds, f"?since={since}&limit=2")
    assert first.status_code == 200, first.body
    page = body(first)
    assert [i["order_id"] for i in page["items"]] == ["o1", "o2"] and page["next_cursor"]
    rest = body(merchant_list(client, creds, f"?limit=2&cursor={page['next_cursor']}"))
    assert ([i["order_id"] for i in rest["items"]], rest["next_cursor"]) == (["o3"], None)
    # And from a second after the first, the first is left out
    later = (start + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [i["order_id"] for i in body(merchant_list(client, creds, f"?since={later}"))["items"]] == ["o2", "o3"]
    # And the default (30 days back) starts after o1
    assert [i["order_id"] for i in body(merchant_list(client, creds))["items"]] == ["o2", "o3"]


def test_the_merchants_list_refuses_a_window_too_long_a_forged_cursor_and_no_key(
    client: Any, shop: tuple[TenantCreds, str], frozen: Clock
) -> None:
    creds, _ = shop
    old = (frozen.now - timedelta(days=93)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert_error(merchant_list(client, creds, f"?since={old}"), 422, "since_too_old")
    assert_error(merchant_list(client, creds, "?cursor=forged"), 400, "invalid_cursor")
    assert_error(merchant_list(client, creds, "?since=yesterday"), 422, "validation_error")
    assert_error(client.http.get("/v1/tenants/shop/feedback"), 401, "missing_api_key")


@pytest.mark.parametrize(
    "payload",
    [
        {"order_id": "o1", "score": 0},
        {"order_id": "o1", "score": 6},
        {"order_id": "o1", "score": "5"},
        {"order_id": "o1", "score": 4.5},
        {"order_id": "o1"},
        {"order_id": "o1", "score": 4, "comment": "x" * 1001},
        {"order_id": "", "score": 4},
        {"score": 4},
    ],
)
def test_bad_ratings_are_refused_and_nothing_is_written(
    client: Any, shop: tuple[TenantCreds, str], payload: Any
) -> None:
    cookie = log_in(client)
    before = ledger_items()
    assert_error(call(client, "post", "/me/feedback", payload, cookie=cookie), 422, "validation_error")
    assert_error(rate(client, None, "o1", 4), 401, "not_logged_in")
    assert ledger_items() == before


def test_a_long_comment_in_cyrillic_fits(client: Any, shop: tuple[TenantCreds, str]) -> None:
    assert rate(client, log_in(client), "o1", 3, "ж" * 1000).status_code == 201


def test_every_answer_is_what_the_document_says(client: Any, shop: tuple[TenantCreds, str]) -> None:
    from tests.integration.test_response_schemas import documented

    creds, _ = shop
    path = "/v1/tenants/{tenant_id}/cabinet/me/feedback"
    cookie = log_in(client)
    documented(rate(client, cookie, "o1", 2, "late"), path, "post")  # 201
    documented(rate(client, cookie, "o1", 2), path, "post")  # 409
    documented(rate(client, cookie, "o3", 2), path, "post")  # 404
    documented(merchant_list(client, creds), "/v1/tenants/{tenant_id}/feedback", "get")  # 200
    documented(merchant_list(client, creds, "?cursor=x"), "/v1/tenants/{tenant_id}/feedback", "get")  # 400
