"""Refund planning (docs/spec.md §3): cumulative proportional share, restoration of spent points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.errors import Unprocessable
from shared.ledger import LotChange
from shared.orders import OrderRecord, RefundPlan, RefundTotals, plan_refund

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
GRACE = 30


def order(
    *, earned: int = 117, redeemed: int = 50, total: int = 250_000, lots: tuple[LotChange, ...] | None = None
) -> OrderRecord:
    """The docs/spec.md §2 worked example: 250000 total, 50 points redeemed at 100 → 245000 cash, 117 earned."""
    if lots is None:
        lots = (LotChange("a", -redeemed, T0 + 200 * DAY),) if redeemed else ()
    return OrderRecord(
        order_id="o1",
        member_id="m1",
        currency="RUB",
        total_minor=total,
        shipping_minor=10_000,
        tax_minor=0,
        points_redeemed=redeemed,
        point_value_minor=100,
        earn_rate_bp=500,
        eligible_minor=235_000,
        points_earned=earned,
        paid_at=T0,
        program_version=1,
        earned_lot_ids=("e1",),
        redeemed_lots=lots,
    )


def after(before: RefundTotals, plan: RefundPlan) -> RefundTotals:
    return RefundTotals(
        plan.refunded_minor, before.reversed_points + plan.reverse_points, before.restored_points + plan.restored_points
    )


def test_cash_paid_excludes_redeemed_points() -> None:
    # Given the worked example, then the cash paid is 250000 - 50 * 100
    assert order().cash_paid_minor == 245_000


def test_partial_refund_reverses_floor_of_the_share() -> None:
    # Given the worked example order
    # When 100000 of 245000 cash is refunded
    plan = plan_refund(order(), RefundTotals(), 100_000, T0, GRACE)
    # Then floor(117 * 100000 / 245000) = 47 points are reversed and floor(50 * ...) = 20 restored
    assert plan.refunded_minor == 100_000
    assert plan.reverse_points == 47
    assert plan.restored_points == 20


def test_successive_refunds_use_the_cumulative_share() -> None:
    # Given three refunds of 81666, 81666 and 81668 (summing to the 245000 cash)
    record, totals, reversed_each = order(), RefundTotals(), []
    for amount in (81_666, 81_666, 81_668):
        plan = plan_refund(record, totals, amount, T0, GRACE)
        reversed_each.append(plan.reverse_points)
        totals = after(totals, plan)
    # Then each step reverses floor(117 * cumulative / cash) minus what was reversed before:
    # 38 (38.99), 77 - 38 = 39 (77.99), 117 - 77 = 40; per-refund flooring would have lost points
    assert reversed_each == [38, 39, 40]
    assert totals == RefundTotals(245_000, 117, 50)


def test_refund_exceeding_cash_paid_is_rejected() -> None:
    # Given 200000 already refunded out of 245000
    before = RefundTotals(200_000, 95, 40)
    # When another 45001 is refunded
    with pytest.raises(Unprocessable) as exc:
        plan_refund(order(), before, 45_001, T0, GRACE)
    # Then it is rejected with a stable code
    assert exc.value.code == "refund_exceeds_paid"
    assert exc.value.status == 422
    # And exactly the remaining cash is accepted, taking everything that is left
    plan = plan_refund(order(), before, 45_000, T0, GRACE)
    assert (plan.reverse_points, plan.restored_points) == (117 - 95, 50 - 40)


def test_cancellation_takes_back_the_rest() -> None:
    # Given a partial refund already applied
    first = plan_refund(order(), RefundTotals(), 100_000, T0, GRACE)
    totals = after(RefundTotals(), first)
    # When the order is cancelled (no amount)
    plan = plan_refund(order(), totals, None, T0, GRACE)
    # Then all the rest is reversed and restored, and the cash counts as fully refunded
    assert plan.refunded_minor == 245_000
    assert (first.reverse_points + plan.reverse_points, first.restored_points + plan.restored_points) == (117, 50)


def test_restore_keeps_original_expiry_when_still_in_future() -> None:
    # Given spent points that came from a lot expiring in 200 days
    # When the whole cash is refunded 10 days after payment
    plan = plan_refund(order(), RefundTotals(), 245_000, T0 + 10 * DAY, GRACE)
    # Then the 50 points come back as one refund lot with the original expiry, available at once
    (restored,) = plan.restore
    assert (restored.points, restored.source) == (50, "refund")
    assert restored.expires_at == T0 + 200 * DAY
    assert restored.available_at == T0 + 10 * DAY


def test_restore_gets_grace_days_when_original_expiry_has_passed() -> None:
    # Given spent points from a lot that expired on day 200
    now = T0 + 250 * DAY
    # When refunded on day 250
    plan = plan_refund(order(), RefundTotals(), 245_000, now, GRACE)
    # Then they come back expiring restore_grace_days from now
    (restored,) = plan.restore
    assert restored.points == 50
    assert restored.expires_at == now + GRACE * DAY


def test_restore_splits_by_source_lot_expiry() -> None:
    # Given 50 points spent as 20 from a lot expiring on day 5 then 30 from one expiring on day 100
    lots = (LotChange("a", -20, T0 + 5 * DAY), LotChange("b", -30, T0 + 100 * DAY))
    record = order(lots=lots)
    now = T0 + 10 * DAY
    # When everything is refunded on day 10
    plan = plan_refund(record, RefundTotals(), 245_000, now, GRACE)
    # Then the day-100 part keeps its expiry and the expired day-5 part gets the grace period
    assert sorted((c.expires_at, c.points) for c in plan.restore) == [
        (now + GRACE * DAY, 20),
        (T0 + 100 * DAY, 30),
    ]


def test_partial_restore_gives_back_latest_expiring_first_then_continues() -> None:
    # Given 50 points spent as 20 (day 50) then 30 (day 100)
    lots = (LotChange("a", -20, T0 + 50 * DAY), LotChange("b", -30, T0 + 100 * DAY))
    record = order(lots=lots)
    # When 40 % of the cash is refunded: 20 points restored
    first = plan_refund(record, RefundTotals(), 98_000, T0, GRACE)
    # Then they come from the last-consumed lot (day 100)
    assert [(c.points, c.expires_at) for c in first.restore] == [(20, T0 + 100 * DAY)]
    # When the rest is refunded: the remaining 10 of that lot and the 20 of the day-50 lot
    second = plan_refund(record, after(RefundTotals(), first), 147_000, T0, GRACE)
    assert sorted((c.expires_at, c.points) for c in second.restore) == [(T0 + 50 * DAY, 20), (T0 + 100 * DAY, 10)]


def test_order_without_redemption_restores_nothing() -> None:
    # Given an order paid entirely in cash
    record = order(redeemed=0, total=245_000)
    # When fully refunded
    plan = plan_refund(record, RefundTotals(), 245_000, T0, GRACE)
    # Then everything earned is reversed and no lot is restored
    assert (plan.reverse_points, plan.restore) == (117, ())


def test_refund_uses_recorded_amounts_not_current_rules() -> None:
    # Given an order recorded as earning 300 points (under a rate since changed)
    record = order(earned=300)
    # When half the cash is refunded
    plan = plan_refund(record, RefundTotals(), 122_500, T0, GRACE)
    # Then half of the recorded 300 is reversed
    assert plan.reverse_points == 150
