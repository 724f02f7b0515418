"""Tier downgrades of the rolling 12-month basis through the scheduled evaluation (issue 5 item 1)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from tests.conftest import make_tenant, paid_event
from tests.integration.conftest import Clock
from tests.integration.scheduled.conftest import Jobs
from tests.integration.scheduled.notify_support import email_data, emails, set_contact
from tests.integration.scheduled.test_expiry_at_scale import dynamodb_calls  # noqa: F401  (a fixture)
from tests.integration.support import history, member
from tests.integration.test_order_flow import send

TIERS = [
    {"name": "Silver", "min_spend_minor": 100_000, "earn_rate_bp": 700, "discount_bp": 0},
    {"name": "Gold", "min_spend_minor": 500_000, "earn_rate_bp": 1000, "discount_bp": 0},
]
MARCH_2026, DECEMBER_2026 = datetime(2026, 3, 10, 9, tzinfo=UTC), datetime(2026, 12, 10, 9, tzinfo=UTC)
FEB_1_2027 = datetime(2027, 1, 31, 21, 30, tzinfo=UTC)  # 00:30 on 1 February in Moscow
MAR_1_2027 = datetime(2027, 2, 28, 21, 30, tzinfo=UTC)  # 00:30 on 1 March in Moscow


def order(client: Any, creds: Any, frozen: Clock, at: datetime, order_id: str, member_id: str, total: int) -> None:
    frozen.now = at
    send(client, creds, paid_event(order_id, member_id, total))


def test_a_member_whose_spend_leaves_the_window_is_downgraded_by_email_while_one_whose_spend_holds_keeps_gold(
    client: Any,
    jobs: Jobs,
    frozen: Clock,
    dynamodb_calls: Counter[str],  # noqa: F811  (the imported fixture)
) -> None:
    # Given a Moscow tenant with Silver and Gold on the rolling 12-month basis
    creds = make_tenant("shop", timezone="Europe/Moscow", tiers=TIERS, tier_basis="rolling_12m")
    set_contact(client, creds, "c1", email="anna@example.com", name="Anna")
    set_contact(client, creds, "c2", email="boris@example.com", name="Boris")
    # And c1 spent 6,000 in March 2026 and 2,000 in December; c2 6,000 in each of those months (both reach Gold)
    order(client, creds, frozen, MARCH_2026, "o1", "c1", 600_000)
    order(client, creds, frozen, DECEMBER_2026, "o2", "c1", 200_000)
    order(client, creds, frozen, MARCH_2026, "o3", "c2", 600_000)
    order(client, creds, frozen, DECEMBER_2026, "o4", "c2", 600_000)
    assert (member(client, creds, "c1")["tier"], member(client, creds, "c2")["tier"]) == ("Gold", "Gold")
    dynamodb_calls.clear()
    # When the evaluation runs on 1 February 2027, while March 2026 is still in the window
    frozen.now = FEB_1_2027
    early = jobs.run("tier-review", FEB_1_2027)
    # Then both members are looked at, and both keep Gold
    assert (early.totals["members"], early.totals["changed"], early.totals.get("messages", 0)) == (2, 0, 0)
    assert emails() == []
    # When it runs on 1 March 2027, when March 2026 has left the window
    frozen.now = MAR_1_2027
    review = jobs.run("tier-review", MAR_1_2027)
    # Then c1 (2,000 left in the window) drops to Silver with one e-mail; c2 (6,000) keeps Gold
    assert (review.totals["members"], review.totals["changed"], review.totals["messages"]) == (2, 1, 1)
    assert (member(client, creds, "c1")["tier"], member(client, creds, "c2")["tier"]) == ("Silver", "Gold")
    [mail] = emails()
    assert mail.template == "loyalty-tier-downgrade-en" and mail.destinations["ToAddresses"] == ["anna@example.com"]
    assert email_data(mail) == {"name": "Anna", "merchant": "shop", "old_tier": "Gold", "new_tier": "Silver"}
    [notice] = [e for e in history(client, creds, "c1") if e["kind"] == "notification"]
    assert (notice["reference"], notice["details"]["status"]) == ("tier_downgrade", "sent")
    # And a rerun of the same evaluation finds nobody due and sends nothing
    assert jobs.run("tier-review", MAR_1_2027).totals.get("members", 0) == 0
    assert len(emails()) == 1
    # And the members were found through the review index, never a Scan
    assert dynamodb_calls["scan"] == 0
    # And the next order earns at Silver's rate (the downgraded tier is the kept one)
    order(client, creds, frozen, datetime(2027, 3, 2, 9, tzinfo=UTC), "o5", "c1", 100_000)
    assert member(client, creds, "c1")["tier"] == "Silver"
    [paid] = [e for e in history(client, creds, "c1") if e["entry"] == "ORDER#o5/PAID"]
    assert paid["details"]["tier"] == "Silver" and paid["delta"] == 70


def test_all_spend_leaving_the_window_drops_the_tier_entirely(client: Any, jobs: Jobs, frozen: Clock) -> None:
    # Given a member who reached Gold with one order in March 2026 and bought nothing since
    creds = make_tenant("shop", timezone="Europe/Moscow", tiers=TIERS, tier_basis="rolling_12m")
    set_contact(client, creds, "c1", email="anna@example.com")
    order(client, creds, frozen, MARCH_2026, "o1", "c1", 600_000)
    # When the evaluation runs late, on 1 March 2027 only (the April 2026 review was never run)
    frozen.now = MAR_1_2027
    summary = jobs.run("tier-review", MAR_1_2027)
    # Then the member has no tier any more and was told so
    assert (summary.totals["changed"], summary.totals["messages"]) == (1, 1)
    assert member(client, creds, "c1")["tier"] is None
    assert email_data(emails()[0])["new_tier"] == ""
    # And without a tier the member leaves the review index
    assert jobs.run("tier-review", datetime(2027, 4, 1, 0, tzinfo=UTC)).totals.get("members", 0) == 0


def test_the_lifetime_basis_has_nothing_to_evaluate(client: Any, jobs: Jobs, frozen: Clock) -> None:
    # Given a tenant on the lifetime basis and a member who reached Gold in March 2026
    creds = make_tenant("forever", timezone="Europe/Moscow", tiers=TIERS)
    set_contact(client, creds, "c1", email="anna@example.com")
    order(client, creds, frozen, MARCH_2026, "o1", "c1", 600_000)
    # When the evaluation runs two years later
    frozen.now = datetime(2028, 4, 1, 0, tzinfo=UTC)
    summary = jobs.run("tier-review", frozen.now)
    # Then nobody is due, the member keeps Gold, and nothing is sent
    assert summary.totals.get("members", 0) == 0
    assert member(client, creds, "c1")["tier"] == "Gold"
    assert emails() == []
