"""The README walk-through over real HTTP: earn → quote → hold → paid with the hold → partial refund → history.

Numbers are docs/spec.md §2's worked example (5 %, a point = 100 minor): total 250000, shipping 10000, 50 points
redeemed → cash paid 245000, eligible 235000, earns 117.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import paid_event, refund_event
from tests.e2e.client import Api

pytestmark = pytest.mark.e2e
MEMBER = "flow-anna"


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def earn_first_50(api: Api) -> str:
    """50 points from an order paid 10 days ago; their expiry date (365 days after payment)."""
    paid_at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)
    answer = api.webhook(paid_event("flow-1", MEMBER, total=100_000, paid_at=paid_at))
    assert answer.status == 200, answer
    assert answer.body["points_earned"] == 50 and answer.body["balance"] == 50
    (lot,) = api.member(MEMBER)["lots"]
    assert ts(lot["expires_at"]) == paid_at + timedelta(days=365)
    return str(lot["expires_at"])


def quote_and_hold(api: Api) -> str:
    cart = {"currency": "RUB", "total_minor": 250_000, "shipping_minor": 10_000}
    quote = api.post("/checkout/quote", {"member_id": MEMBER, **cart})
    assert quote.status == 200, quote
    assert quote.body["available"] == 50
    assert quote.body["max_redeemable_points"] == 50 and quote.body["max_discount_minor"] == 5_000
    assert quote.body["points_to_earn"] == 120  # paid fully in cash: floor(240000 * 5% / 100)
    hold = api.post("/holds", {"member_id": MEMBER, "order_id": "flow-2", "points": 50})
    assert hold.status == 201, hold
    assert hold.body["points"] == 50 and hold.body["discount_minor"] == 5_000
    ttl = ts(hold.body["expires_at"]) - datetime.now(UTC)
    assert timedelta(minutes=14) < ttl <= timedelta(minutes=15, seconds=5)
    view = api.member(MEMBER)
    assert (view["held"], view["available"], view["balance"]) == (50, 0, 50)
    return str(hold.body["hold_id"])


def pay_with_hold(api: Api, hold_id: str) -> None:
    event = paid_event("flow-2", MEMBER, total=250_000, shipping_minor=10_000, points_redeemed=50, hold_id=hold_id)
    answer = api.webhook(event)
    assert answer.status == 200, answer
    assert answer.body["status"] == "applied"
    assert (answer.body["points_earned"], answer.body["points_redeemed"]) == (117, 50)
    view = api.member(MEMBER)
    assert (view["balance"], view["available"], view["held"]) == (117, 117, 0)
    assert view["lifetime_spend_minor"] == 100_000 + 245_000
    released = api.post(f"/holds/{hold_id}/release")
    assert (released.status, released.code) == (409, "hold_captured")


def refund_half(api: Api, first_expiry: str) -> None:
    answer = api.webhook(refund_event("flow-2", "flow-2-r1", 122_500))  # half of the cash paid
    assert answer.status == 200, answer
    assert (answer.body["points_reversed"], answer.body["points_restored"]) == (58, 25)  # floor(117/2), floor(50/2)
    view = api.member(MEMBER)
    assert view["balance"] == view["available"] == 117 - 58 + 25
    # soonest-expiring first: the 25 restored points keep the expiry of the lot they were spent from
    assert [(lot["remaining"], lot["source"]) for lot in view["lots"]] == [(25, "refund"), (117 - 58, "order")]
    assert view["lots"][0]["expires_at"] == first_expiry


def check_history(api: Api) -> None:
    (everything,) = api.history(MEMBER, limit=100)
    kinds = [entry["kind"] for entry in everything]
    assert kinds == ["restore", "reverse", "earn", "redeem", "earn"], kinds
    seqs = [entry["seq"] for entry in everything]
    assert seqs == sorted(seqs, reverse=True) == [5, 4, 3, 2, 1]
    assert everything[0]["balance_after"] == 84
    pages = api.history(MEMBER, limit=2)
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [entry for page in pages for entry in page] == everything


def test_readme_walk_through(api: Api) -> None:
    first_expiry = earn_first_50(api)
    hold_id = quote_and_hold(api)
    pay_with_hold(api, hold_id)
    refund_half(api, first_expiry)
    check_history(api)
