"""Attribution of orders, revenue, refunds and reward cost to campaigns (issue 17 item 2): pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.attribution import (
    Conversion,
    Participation,
    StatsDelta,
    Touch,
    attribute,
    conversion_key,
    convert,
    cost_delta,
    holdout_assignment,
    join,
    kept_revenue,
    movement_reward_cost,
    refund,
    revenue_by_campaign,
    reward_cost,
    usd_micros_in_minor,
)
from shared.experiments import HOLDOUT, GroupStats
from shared.ledger import Credit, Ledger, LotChange, credit, expire, spend

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def touch(
    campaign: str = "win-back",
    at: datetime = T0,
    *,
    days: int = 7,
    variant: str | None = "a",
    member: str = "m1",
    channel: str | None = "sms",
    cost: int = 7_500,
) -> Touch:
    return Touch(
        tenant="t1",
        campaign_id=campaign,
        variant=variant,
        member_id=member,
        channel=channel,  # type: ignore[arg-type]
        sent_at=at,
        attribution_days=days,
        cost_usd_micros=cost,
    )


def order(
    state: Participation | None, t: Touch, order_id: str, paid_at: datetime, revenue: int, cash: int | None = None
) -> tuple[Participation, Conversion, StatsDelta]:
    return convert(
        state,
        t,
        order_id=order_id,
        paid_at=paid_at,
        revenue_minor=revenue,
        cash_paid_minor=revenue if cash is None else cash,
    )


# --- last touch within the window ---------------------------------------------------------------------------------


def test_an_order_inside_the_window_goes_to_the_last_touch_before_it() -> None:
    # Given two messages of one campaign, on day 0 and day 3, each with a 7-day window
    first, second = touch(at=T0), touch(at=T0 + timedelta(days=3), channel="email")
    # When an order is paid on day 5
    chosen = attribute(T0 + timedelta(days=5), [second, first])
    # Then the later message gets it
    assert chosen == second


def test_the_window_is_after_the_touch_and_at_most_its_days_long() -> None:
    # Given a message with a 7-day window
    t = touch(days=7)
    # Then an order at the same instant or before is not its; exactly 7 days later is; a second later is not
    assert attribute(T0, [t]) is None
    assert attribute(T0 - timedelta(hours=1), [t]) is None
    assert attribute(T0 + timedelta(days=7), [t]) == t
    assert attribute(T0 + timedelta(days=7, seconds=1), [t]) is None


def test_a_later_touch_whose_window_has_closed_leaves_the_order_to_an_earlier_one_still_open() -> None:
    # Given campaign A (30 days) on day 0 and campaign B (1 day) on day 5
    a, b = touch("a", T0, days=30), touch("b", T0 + timedelta(days=5), days=1)
    # When the order is paid on day 10, B's window has closed
    # Then A, whose window still holds the order, gets it
    assert attribute(T0 + timedelta(days=10), [a, b]) == a


def test_two_campaigns_the_latest_wins_and_the_order_goes_to_one_campaign() -> None:
    # Given a birthday message on day 0 and a win-back message on day 2, both windows open on day 4
    birthday, win_back = touch("birthday", T0, days=14), touch("win-back", T0 + timedelta(days=2))
    # When the order is attributed
    chosen = attribute(T0 + timedelta(days=4), [win_back, birthday])
    # Then only the latest campaign has it
    assert chosen is not None and chosen.campaign_id == "win-back"


def test_ties_at_the_same_instant_are_broken_by_campaign_then_variant_then_channel_whatever_the_order() -> None:
    # Given touches sent at the same instant by two campaigns, and one campaign by e-mail and SMS
    touches = [touch("alpha"), touch("beta", channel="email"), touch("beta", channel="sms")]
    paid = T0 + timedelta(days=1)
    # When attributed in any order
    chosen = {attribute(paid, order_) for order_ in (touches, touches[::-1], touches[1:] + touches[:1])}
    # Then always the same touch: the greatest campaign id, then the greatest channel
    assert chosen == {touches[2]}


def test_touches_need_a_time_zone_a_window_and_a_holdout_sends_nothing() -> None:
    with pytest.raises(ValueError, match="time zone"):
        touch(at=datetime(2026, 3, 1))  # a naive time
    with pytest.raises(ValueError, match="attribution_days"):
        touch(days=0)
    with pytest.raises(ValueError, match="attribution_days"):
        touch(days=91)
    with pytest.raises(ValueError, match="holdout"):
        touch(variant=HOLDOUT, channel="sms", cost=0)
    with pytest.raises(ValueError, match="holdout"):
        touch(variant=HOLDOUT, channel=None, cost=10)
    with pytest.raises(ValueError, match="non-negative"):
        touch(cost=-1)


# --- holdout ------------------------------------------------------------------------------------------------------


def test_a_holdout_members_purchase_in_the_window_counts_for_the_holdout_group() -> None:
    # Given a member assigned to the holdout of a win-back campaign (nothing sent)
    assigned = holdout_assignment(tenant="t1", campaign_id="win-back", member_id="m2", at=T0, attribution_days=14)
    state, joined = join(None, assigned)
    # When the member buys within the window
    chosen = attribute(T0 + timedelta(days=10), [assigned])
    assert chosen == assigned
    after, conversion, change = order(state, assigned, "o1", T0 + timedelta(days=10), 5_000)
    # Then the order is the holdout's: the holdout group counts one member, one conversion and the revenue
    stats = change.apply(joined.apply(GroupStats()))
    assert (conversion.variant, conversion.first, after.revenue_minor) == (HOLDOUT, True, 5_000)
    assert stats == GroupStats(members=1, converted=1, revenue_minor_sum=5_000, revenue_minor_sumsq=25_000_000)
    assert assigned.channel is None and assigned.cost_usd_micros == 0


def test_a_later_message_of_another_campaign_takes_a_holdout_members_order_as_it_would_a_treated_members() -> None:
    # Given a holdout assignment of campaign A, then a message of campaign B
    assigned = holdout_assignment(tenant="t1", campaign_id="a", member_id="m1", at=T0, attribution_days=30)
    b = touch("b", T0 + timedelta(days=1))
    # Then an order on day 2 is B's: the last touch rule is the same for every group
    assert attribute(T0 + timedelta(days=2), [assigned, b]) == b


# --- one conversion per member per campaign ---------------------------------------------------------------------


def test_one_conversion_per_member_per_campaign_later_orders_add_revenue() -> None:
    # Given a treated member touched once
    t = touch(days=30)
    state, joined = join(None, t)
    # When the member pays two orders in the window
    state, first, change1 = order(state, t, "o1", T0 + timedelta(days=1), 3_000)
    state, second, change2 = order(state, t, "o2", T0 + timedelta(days=9), 2_000)
    # Then the first converts, the second only adds revenue; the group counts one member, one conversion, 5,000
    assert (first.first, second.first) == (True, False)
    assert (state.converted_order_id, state.converted_at, state.orders) == ("o1", T0 + timedelta(days=1), 2)
    stats = change2.apply(change1.apply(joined.apply(GroupStats())))
    assert stats == GroupStats(members=1, converted=1, revenue_minor_sum=5_000, revenue_minor_sumsq=5_000**2)


def test_a_second_touch_of_the_same_campaign_does_not_count_the_member_again() -> None:
    # Given a member already in a campaign
    state, _ = join(None, touch())
    # When the campaign touches the member again (after its cooldown)
    again, change = join(state, touch(at=T0 + timedelta(days=60)))
    # Then nothing changes: the member is counted once
    assert (again, change) == (state, StatsDelta())


def test_a_members_group_never_changes_and_touches_stay_with_their_member() -> None:
    state, _ = join(None, touch(variant="a"))
    with pytest.raises(ValueError, match="group"):
        join(state, touch(variant="b"))
    with pytest.raises(ValueError, match="another member"):
        join(state, touch(member="m9"))


def test_the_conversion_key_is_one_item_per_member_per_campaign() -> None:
    state, _ = join(None, touch())
    assert state.key == conversion_key("win-back", "m1") == ("M#m1", "CAMPAIGN#win-back")
    assert conversion_key("birthday", "m1") != conversion_key("win-back", "m1")


def test_an_order_outside_the_touchs_window_is_refused() -> None:
    with pytest.raises(ValueError, match="window"):
        order(None, touch(days=7), "o1", T0 + timedelta(days=8), 1_000)


def test_the_first_order_converts_without_a_prior_join() -> None:
    # Given no participation stored yet (the touch's write and the order raced)
    state, conversion, change = order(None, touch(), "o1", T0 + timedelta(hours=1), 1_000)
    # Then the order joins and converts the member at once
    assert conversion.first and state.converted
    assert change == StatsDelta(members=1, converted=1, revenue_minor_sum=1_000, revenue_minor_sumsq=1_000_000)


# --- refunds ------------------------------------------------------------------------------------------------------


def test_a_partial_refund_takes_its_share_back_and_a_full_one_all_of_it() -> None:
    # Given an attributed order of 10,000 paid in cash
    state, conversion, _ = order(None, touch(), "o1", T0 + timedelta(days=1), 10_000)
    # When 3,000 are refunded, then the rest
    partial, change = refund(state, conversion, 0, 3_000)
    full, change2 = refund(partial, conversion, 3_000, 10_000)
    # Then 7,000 stay, then nothing; the conversion stays; the counters move by the difference
    assert (partial.revenue_minor, full.revenue_minor) == (7_000, 0)
    assert full.converted
    assert change == StatsDelta(revenue_minor_sum=-3_000, revenue_minor_sumsq=7_000**2 - 10_000**2)
    stats = GroupStats().add(10_000)
    assert change2.apply(change.apply(stats)) == stats.revise(10_000, 0)


def test_kept_revenue_with_points_paid_shrinks_by_the_refunded_share_of_the_cash() -> None:
    # Given an order of 10,000 of which 2,000 were paid in points (8,000 in cash)
    # Then a refund of 4,000 cash (half) keeps half the total; the whole cash keeps nothing
    assert kept_revenue(10_000, 4_000, cash_paid_minor=8_000) == 5_000
    assert kept_revenue(10_000, 8_000, cash_paid_minor=8_000) == 0
    assert kept_revenue(10_000, 0, cash_paid_minor=8_000) == 10_000
    # And without points it is revenue minus refunds, never below 0; an order paid in points only is cancelled whole
    assert kept_revenue(10_000, 2_500) == 7_500
    assert kept_revenue(10_000, 12_000) == 0
    assert kept_revenue(4_000, 0, cash_paid_minor=0) == 4_000
    assert kept_revenue(4_000, 0, cash_paid_minor=0, cancelled=True) == 0
    with pytest.raises(ValueError):
        kept_revenue(100, 0, cash_paid_minor=200)
    with pytest.raises(ValueError):
        kept_revenue(100, -1)


def test_a_refund_total_that_goes_down_takes_nothing_back_and_a_cancellation_takes_the_rest() -> None:
    state, conversion, _ = order(None, touch(), "o1", T0 + timedelta(days=1), 10_000)
    partial, _ = refund(state, conversion, 0, 4_000)
    late, change = refund(partial, conversion, 4_000, 1_000)
    assert (late.revenue_minor, change) == (6_000, StatsDelta())
    cancelled, _ = refund(partial, conversion, 4_000, 4_000, cancelled=True)
    assert cancelled.revenue_minor == 0


def test_a_refund_of_one_order_leaves_the_members_other_orders() -> None:
    t = touch(days=30)
    state, first, _ = order(None, t, "o1", T0 + timedelta(days=1), 3_000)
    state, _, _ = order(state, t, "o2", T0 + timedelta(days=2), 2_000)
    after, _ = refund(state, first, 0, 3_000)
    assert after.revenue_minor == 2_000 and after.converted_order_id == "o1"


def test_a_refund_names_its_own_member_and_campaign() -> None:
    _, conversion, _ = order(None, touch(), "o1", T0 + timedelta(days=1), 1_000)
    other, _ = join(None, touch(member="m2"))
    with pytest.raises(ValueError, match="another member"):
        refund(other, conversion, 0, 100)


# --- reward cost ---------------------------------------------------------------------------------------------------


def ledger_with_reward() -> tuple[Ledger, str, str]:
    """A member with 500 order points (expiring later) and a 300-point win-back lot expiring in 14 days."""
    ledger, earned = credit(
        Ledger("m1"), "earn", [Credit(500, "order", T0, T0 + timedelta(days=365))], T0 - timedelta(days=1)
    )
    ledger, granted = credit(ledger, "grant", [Credit(300, "grant", T0, T0 + timedelta(days=14))], T0)
    return ledger, granted.lots[0].lot_id, earned.lots[0].lot_id


def test_reward_points_cost_their_campaign_only_when_spent() -> None:
    # Given a campaign's 300-point lot and 500 order points; a point is worth 100 minor units
    ledger, reward_lot, _ = ledger_with_reward()
    origins = {reward_lot: ("win-back", "a")}
    # When the member redeems 400 points (the reward lot expires first, so it goes first)
    _, movement = spend(ledger, 400, T0 + timedelta(days=2))
    # Then the campaign's group is charged 300 points × 100; the order points cost no campaign
    assert movement_reward_cost(movement, origins, 100) == {("win-back", "a"): 30_000}
    assert cost_delta(30_000).apply(GroupStats()) == GroupStats(cost_minor_sum=30_000)


def test_expired_reward_points_cost_nothing() -> None:
    # Given a campaign's reward lot never spent
    ledger, reward_lot, _ = ledger_with_reward()
    # When it expires
    _, movement = expire(ledger, T0 + timedelta(days=15))
    assert movement is not None
    # Then the expiry touched the lot but costs the campaign nothing (breakage)
    assert any(change.lot_id == reward_lot for change in movement.lots)
    assert movement_reward_cost(movement, {reward_lot: "win-back"}, 100) == {}


def test_reward_cost_splits_by_lot_and_ignores_credits() -> None:
    consumed = [
        LotChange("1", -120, T0),
        LotChange("2", -30, T0),
        LotChange("3", -50, T0),
        LotChange("1", 10, T0),  # a credit is no spending
    ]
    origins = {"1": "birthday", "2": "win-back", "4": "win-back"}
    assert reward_cost(consumed, origins, 50) == {"birthday": 6_000, "win-back": 1_500}


def test_message_cost_converts_once_on_the_sum() -> None:
    # 1,000 e-mails at $0.0001 and 100 SMS at $0.0075 at 90 RUB per dollar: 9 + 67.5 RUB in kopecks
    assert usd_micros_in_minor(1_000 * 100 + 100 * 7_500, 9_000) == 7_650
    assert usd_micros_in_minor(100, 9_000) == 1  # 0.9 kopeck rounds half up to 1
    assert usd_micros_in_minor(0, 9_000) == 0


# --- properties ---------------------------------------------------------------------------------------------------

CAMPAIGNS = ["a", "b", "c"]
touches_st = st.lists(
    st.builds(
        lambda c, hours, days: touch(
            c,
            T0 + timedelta(hours=hours),
            days=days,
            variant=HOLDOUT if c == "c" else "v",  # a member's group is fixed per campaign: "c" holds the member out
            channel=None if c == "c" else "sms",
            cost=0,
        ),
        st.sampled_from(CAMPAIGNS),
        st.integers(0, 24 * 40),
        st.integers(1, 30),
    ),
    max_size=8,
)
orders_st = st.lists(
    st.tuples(st.integers(0, 24 * 60), st.integers(0, 10**7), st.integers(0, 100), st.integers(0, 120)),
    max_size=10,
)


def run(touches: list[Touch], orders: list[tuple[int, int, int, int]]) -> tuple[dict, list[Conversion], int]:
    """Attribute each order (hour, revenue, cash share %, refunded % of cash) and refund it; per campaign the
    members' revenue after refunds, the conversions and the orders' total kept revenue."""
    states: dict[str, Participation] = {}
    conversions: list[Conversion] = []
    total = 0
    for number, (hours, revenue, cash_pct, refund_pct) in enumerate(orders):
        cash = revenue * cash_pct // 100
        refunded = min(cash, cash * refund_pct // 100)
        total += kept_revenue(revenue, refunded, cash_paid_minor=cash)
        chosen = attribute(T0 + timedelta(hours=hours), touches)
        if chosen is None:
            continue
        state, conversion, _ = order(
            states.get(chosen.campaign_id), chosen, f"o{number}", T0 + timedelta(hours=hours), revenue, cash
        )
        states[chosen.campaign_id], _ = refund(state, conversion, 0, refunded)
        conversions.append(conversion)
    return {c: s.revenue_minor for c, s in states.items()}, conversions, total


@settings(max_examples=150, deadline=None)
@given(touches_st, orders_st)
def test_attributed_revenue_is_never_negative_and_never_more_than_the_orders(
    touches: list[Touch], orders: list
) -> None:
    # Given any touches and paid, partly refunded orders
    kept, conversions, total_kept = run(touches, orders)
    gross = revenue_by_campaign(conversions)
    # Then each campaign's revenue is between 0 and what its orders paid, and all campaigns together at most the total
    assert all(0 <= kept[c] <= gross[c] for c in kept)
    assert sum(kept.values()) <= total_kept
    assert sum(gross.values()) <= sum(revenue for _, revenue, _, _ in orders)
    # And one order is attributed at most once, and each campaign has at most one first conversion (one member)
    assert len({c.order_id for c in conversions}) == len(conversions)
    assert all(sum(c.first for c in conversions if c.campaign_id == name) <= 1 for name in CAMPAIGNS)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10**9), st.integers(0, 100), st.lists(st.integers(0, 10**9), min_size=1, max_size=6))
def test_refunds_are_monotone(revenue: int, cash_pct: int, refunds: list[int]) -> None:
    # Given an order and any growing cumulative refunded amounts
    cash = revenue * cash_pct // 100
    steps = sorted(min(cash, r) for r in refunds)
    # Then the revenue kept never grows, stays within 0..revenue, and the revisions add up to the final figure
    kept = [kept_revenue(revenue, r, cash_paid_minor=cash) for r in steps]
    assert all(0 <= k <= revenue for k in kept)
    assert all(later <= earlier for earlier, later in pairwise(kept))
    state, conversion, _ = order(None, touch(), "o1", T0 + timedelta(days=1), revenue, cash)
    stats, before = GroupStats().add(revenue), 0
    for step in steps:
        after_state, change = refund(state, conversion, before, step)
        assert after_state.revenue_minor <= state.revenue_minor
        stats, state, before = change.apply(stats), after_state, step
    assert stats == GroupStats().add(revenue).revise(revenue, state.revenue_minor)
    assert state.revenue_minor == kept[-1]
