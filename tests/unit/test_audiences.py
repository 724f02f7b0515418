"""The audience rules of win_back, feedback_request and personal_offer (shared/audiences.py, issue 17 item 1): the
buying summary kept on write, when a member is asleep and due, the re-check before sending, the feedback request's
time and cooldown, and the personal offer with its stacking on the category multipliers."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.audiences import (
    FEEDBACK_STALE,
    MAX_CATEGORIES,
    PERSONAL_CEILING,
    PERSONAL_FLOOR,
    BuyingSummary,
    Offer,
    after_paid,
    asleep_after,
    asleep_at,
    feedback_request_due,
    feedback_request_fresh,
    offer_factor,
    offered_category,
    personal_offer,
    still_asleep,
    win_back_due,
    win_back_due_at,
)
from shared.campaigns import OfferAudience, WinBackAudience
from shared.money import BP
from shared.reminders import sms_window_open
from shared.rules import Line

MOSCOW, NEW_YORK = ZoneInfo("Europe/Moscow"), ZoneInfo("America/New_York")
T0 = datetime(2027, 1, 1, tzinfo=UTC)
PLAIN = WinBackAudience(inactive_days=60, cooldown_days=30)
PERSONAL = WinBackAudience(inactive_days=60, interval_factor_bp=15_000, cooldown_days=30)
OFFER = OfferAudience(multiplier_bp=20_000, days=14, min_orders=2)

times = st.integers(min_value=0, max_value=3 * 365 * 24 * 3600).map(lambda s: T0 + timedelta(seconds=s))
audiences = st.builds(
    WinBackAudience,
    inactive_days=st.integers(7, 730),
    interval_factor_bp=st.one_of(st.none(), st.integers(10_000, 100_000)),
    cooldown_days=st.integers(1, 365),
)


def bought(*days: float, categories: tuple[str, ...] = ()) -> BuyingSummary:
    summary = BuyingSummary()
    for day in days:
        summary = after_paid(summary, T0 + timedelta(days=day), categories)
    return summary


def summaries(draw_times: list[datetime]) -> BuyingSummary:
    summary = BuyingSummary()
    for paid_at in draw_times:
        summary = after_paid(summary, paid_at)
    return summary


order_times = st.lists(times, min_size=1, max_size=8)


# -- the buying summary ------------------------------------------------------------------------------------------


def test_a_paid_order_counts_once_and_each_of_its_categories_once() -> None:
    # Given a member with no orders
    # When they pay an order with two coffee lines, a cake line and a line without a category
    summary = after_paid(BuyingSummary(), T0, ["coffee", "coffee", "cake", None])
    # Then one order, first = last = its time, and each category counted once for that order
    assert summary == BuyingSummary(
        orders=1, first_paid_at=T0, last_paid_at=T0, categories=(("cake", 1), ("coffee", 1))
    )


def test_a_late_order_does_not_move_the_last_paid_time_back() -> None:
    # Given a member whose order of 10 January is known
    summary = bought(9)
    # When an order paid on 2 January arrives late
    summary = after_paid(summary, T0 + timedelta(days=1))
    # Then it is the first order, and the last is still 10 January
    assert (summary.orders, summary.first_paid_at, summary.last_paid_at) == (
        2,
        T0 + timedelta(days=1),
        T0 + timedelta(9),
    )


def test_only_the_most_bought_categories_are_kept() -> None:
    # Given a member who bought "tea" twice and then MAX_CATEGORIES other categories once each
    summary = bought(0, 1, categories=("tea",))
    for i in range(MAX_CATEGORIES):
        summary = after_paid(summary, T0 + timedelta(days=2 + i), [f"c{i:02d}"])
    # Then MAX_CATEGORIES are kept: tea (the most bought) and the others by name; the last by name left
    assert len(summary.categories) == MAX_CATEGORIES
    assert summary.bought("tea") == 2
    assert summary.bought(f"c{MAX_CATEGORIES - 1:02d}") == 0


@given(st.lists(st.tuples(times, st.sets(st.sampled_from("abcdef"))), max_size=10), st.randoms())
def test_the_summary_does_not_depend_on_the_order_orders_arrive_in(
    orders: list[tuple[datetime, set[str]]], rng: random.Random
) -> None:
    # Given the same paid orders, arriving in two different orders (fewer categories than are kept)
    shuffled = list(orders)
    rng.shuffle(shuffled)
    one, two = BuyingSummary(), BuyingSummary()
    for paid_at, categories in orders:
        one = after_paid(one, paid_at, categories)
    for paid_at, categories in shuffled:
        two = after_paid(two, paid_at, categories)
    # Then the summaries are equal
    assert one == two


# -- win_back: asleep, due, cooldown, re-check -------------------------------------------------------------------


def test_without_an_interval_factor_a_member_is_asleep_inactive_days_after_the_last_order() -> None:
    # Given a member with five weekly orders and a campaign without interval_factor
    summary = bought(0, 7, 14, 21, 28)
    # Then they are asleep 60 days after the last order
    assert asleep_at(summary, PLAIN) == T0 + timedelta(days=28 + 60)


def test_with_three_orders_their_own_interval_times_the_factor_replaces_inactive_days() -> None:
    # Given a weekly buyer (mean interval 7 days) and a factor of x1.5
    summary = bought(0, 7, 14)
    # Then they are asleep 10.5 days after their last order, long before the tenant's 60 days
    assert asleep_after(summary, PERSONAL) == timedelta(days=10, hours=12)
    # And a yearly buyer (mean 365 days) is not asleep at 60 days, but after 547.5 days
    assert asleep_after(bought(0, 365, 730), PERSONAL) == timedelta(days=547, hours=12)


def test_with_fewer_than_three_orders_inactive_days_apply() -> None:
    # Given a member with two orders a week apart
    # Then the factor is not used: too few orders to know their rhythm
    assert asleep_after(bought(0, 7), PERSONAL) == timedelta(days=60)


def test_the_personal_interval_is_clamped() -> None:
    # Given three orders within one hour, and three orders a year apart with a factor of x10
    burst = bought(0, 0.01, 0.02)
    slow = bought(0, 365, 730)
    # Then asleep no sooner than 7 days and no later than 730 days after the last order
    assert asleep_after(burst, PERSONAL) == PERSONAL_FLOOR
    assert asleep_after(slow, PERSONAL.model_copy(update={"interval_factor_bp": 100_000})) == PERSONAL_CEILING


def test_a_member_who_never_bought_is_never_won_back() -> None:
    # Given a member without orders
    # Then there is no due time and they are never due
    assert win_back_due_at(BuyingSummary(), PLAIN, None) is None
    assert not win_back_due(BuyingSummary(), PLAIN, None, T0 + timedelta(days=10_000))


def test_a_win_back_waits_for_the_cooldown_after_the_last_one() -> None:
    # Given a member asleep since day 60, who got a win-back on day 70 and has not bought since
    summary = bought(0)
    sent = T0 + timedelta(days=70)
    # Then they are due again 30 days later, not before
    assert win_back_due_at(summary, PLAIN, sent) == sent + timedelta(days=30)
    assert not win_back_due(summary, PLAIN, sent, sent + timedelta(days=29, hours=23))
    assert win_back_due(summary, PLAIN, sent, sent + timedelta(days=30))


def test_the_recheck_before_sending_cancels_a_send_to_a_member_who_bought_in_between() -> None:
    # Given a member selected on day 70 (asleep since day 60)
    selected = T0 + timedelta(days=70)
    summary = bought(0)
    assert still_asleep(summary, PLAIN, selected)
    # When they pay an order on day 71, before the message goes out
    # Then the re-check says they are awake
    assert not still_asleep(after_paid(summary, T0 + timedelta(days=71)), PLAIN, selected)


@given(order_times, audiences, times, times)
def test_a_member_who_bought_after_the_selection_is_never_still_asleep(
    paid: list[datetime], audience: WinBackAudience, selected: datetime, purchase: datetime
) -> None:
    # Given any member and a selection time; when they pay an order at or after it
    summary = after_paid(summaries(paid), max(purchase, selected))
    # Then the re-check refuses the send
    assert not still_asleep(summary, audience, selected)


@given(st.integers(1, 6), audiences, times, st.integers(0, 400 * 24 * 3600), st.integers(0, 400 * 24 * 3600))
def test_the_due_time_is_monotone_in_the_last_paid_time(
    orders: int, audience: WinBackAudience, first: datetime, gap: int, more: int
) -> None:
    # Given two summaries that differ only in the last paid time
    earlier = BuyingSummary(orders=orders, first_paid_at=first, last_paid_at=first + timedelta(seconds=gap))
    later = BuyingSummary(orders=orders, first_paid_at=first, last_paid_at=first + timedelta(seconds=gap + more))
    due_earlier, due_later = win_back_due_at(earlier, audience, None), win_back_due_at(later, audience, None)
    # Then the later last order never makes the member due sooner
    assert due_earlier is not None and due_later is not None
    assert due_earlier <= due_later
    assert due_earlier == asleep_at(earlier, audience)


@settings(max_examples=200)
@given(
    audiences,
    st.lists(st.tuples(st.integers(1, 40 * 24 * 3600), st.booleans()), min_size=1, max_size=40),
)
def test_over_any_sequence_of_runs_and_orders_the_cooldown_and_the_sleep_are_respected(
    audience: WinBackAudience, steps: list[tuple[int, bool]]
) -> None:
    # Given a member who bought once, and a sweep that runs at random times, a purchase sometimes in between
    summary, now = after_paid(BuyingSummary(), T0), T0
    sends: list[datetime] = []
    for seconds, buys in steps:
        now += timedelta(seconds=seconds)
        if buys:
            summary = after_paid(summary, now - timedelta(seconds=seconds // 2))
        last = sends[-1] if sends else None
        # When a run selects the due member and sends after the re-check
        if win_back_due(summary, audience, last, now) and still_asleep(summary, audience, now):
            sends.append(now)
            # Then the member is asleep: their last order is at least the sleep threshold old
            assert summary.last_paid_at is not None
            assert summary.last_paid_at + asleep_after(summary, audience) <= now
    # Then no two win-backs are closer than cooldown_days
    assert all(b - a >= timedelta(days=audience.cooldown_days) for a, b in pairwise(sends))


# -- feedback_request --------------------------------------------------------------------------------------------


def test_the_feedback_request_is_due_the_next_tenant_day_at_ten() -> None:
    # Given an order paid at 23:30 Moscow time on 14 January (20:30 UTC)
    paid = datetime(2027, 1, 14, 20, 30, tzinfo=UTC)
    # Then the request is due at 10:00 Moscow on 15 January (07:00 UTC)
    assert feedback_request_due(paid, MOSCOW, None, 30) == datetime(2027, 1, 15, 7, 0, tzinfo=UTC)
    # And an order paid 00:30 Moscow on the 15th (21:30 UTC on the 14th) is asked about on the 16th
    assert feedback_request_due(paid + timedelta(hours=1), MOSCOW, None, 30) == datetime(2027, 1, 16, 7, tzinfo=UTC)


def test_within_the_cooldown_an_order_is_not_asked_about() -> None:
    # Given a request sent (or scheduled) on 15 January and a cooldown of 30 days
    last = datetime(2027, 1, 15, 7, 0, tzinfo=UTC)
    # Then an order of 1 February gets none, and one of 14 February (asked on the 15th) gets one
    assert feedback_request_due(datetime(2027, 2, 1, 12, tzinfo=UTC), MOSCOW, last, 30) is None
    assert feedback_request_due(datetime(2027, 2, 13, 12, tzinfo=UTC), MOSCOW, last, 30) == last + timedelta(30)


def test_a_feedback_request_the_sweep_missed_by_two_days_is_dropped() -> None:
    # Given a request due at 10:00
    due = datetime(2027, 1, 15, 7, 0, tzinfo=UTC)
    # Then it is sent from its time for two days, and not after
    assert not feedback_request_fresh(due, due - timedelta(minutes=1))
    assert feedback_request_fresh(due, due + FEEDBACK_STALE - timedelta(seconds=1))
    assert not feedback_request_fresh(due, due + FEEDBACK_STALE)


@given(times, st.sampled_from([MOSCOW, NEW_YORK, ZoneInfo("Asia/Kamchatka"), ZoneInfo("Pacific/Chatham")]))
def test_the_feedback_time_is_the_next_local_day_inside_the_sms_window(paid: datetime, zone: ZoneInfo) -> None:
    # Given an order paid at any time in any zone
    due = feedback_request_due(paid, zone, None, 1)
    # Then it is the day after the order's local date, at 10:00 local, when SMS may be sent
    assert due is not None
    assert due.astimezone(zone).date() == paid.astimezone(zone).date() + timedelta(days=1)
    assert due.astimezone(zone).time() == time(10, 0)
    assert sms_window_open(due, zone)


@given(st.lists(times, min_size=1, max_size=30), st.integers(1, 60))
def test_at_most_one_feedback_request_per_cooldown(paid: list[datetime], cooldown: int) -> None:
    # Given orders in time order, each scheduled or refused against the last request
    last: datetime | None = None
    requests = []
    for paid_at in sorted(paid):
        due = feedback_request_due(paid_at, MOSCOW, last, cooldown)
        if due is not None:
            requests.append(due)
            last = due
    # Then requests are at least cooldown_days apart
    assert all(b - a >= timedelta(days=cooldown) for a, b in pairwise(requests))


# -- personal_offer ----------------------------------------------------------------------------------------------


def test_the_offer_is_the_most_popular_category_the_member_never_buys() -> None:
    # Given a member who buys coffee and cake, and the tenant's categories by popularity
    summary = bought(0, 7, categories=("coffee", "cake"))
    popular = ["coffee", "tea", "cake", "beans"]
    # When an offer is made on 15 January (Moscow)
    now = datetime(2027, 1, 15, 9, tzinfo=UTC)
    offer = personal_offer(summary, OFFER, popular, MOSCOW, now)
    # Then it is x2 on tea through 29 January local, ending at Moscow midnight after it
    assert offer == Offer(
        category="tea",
        multiplier_bp=20_000,
        starts_at=now,
        ends_at=datetime(2027, 1, 29, 21, 0, tzinfo=UTC),
        until=date(2027, 1, 29),
    )


def test_a_rarely_bought_category_is_offered_when_the_member_buys_every_category() -> None:
    # Given a member who bought coffee in 8 orders, cake in 2 and tea in 3
    summary = bought(*range(8), categories=("coffee",))
    summary = after_paid(after_paid(summary, T0, ["cake", "tea"]), T0, ["cake", "tea"])
    summary = after_paid(summary, T0, ["tea"])
    # Then cake (2 * 4 <= 8) is offered, tea (3 * 4 > 8) is not rare
    assert offered_category(summary, ["coffee", "tea", "cake"]) == "cake"
    assert offered_category(summary, ["coffee", "tea"]) is None


def test_no_offer_below_min_orders_without_a_favourite_or_while_one_runs() -> None:
    # Given a member with one order, one with orders without categories, and one with an offer running
    now = T0 + timedelta(days=30)
    running = personal_offer(bought(0, 1, categories=("coffee",)), OFFER, ["tea"], MOSCOW, now)
    assert running is not None
    # Then none gets a new offer
    assert personal_offer(bought(0, categories=("coffee",)), OFFER, ["tea"], MOSCOW, now) is None
    assert personal_offer(bought(0, 1), OFFER, ["tea"], MOSCOW, now) is None
    summary = bought(0, 1, categories=("coffee",))
    assert personal_offer(summary, OFFER, ["tea"], MOSCOW, now + timedelta(days=3), current=running) is None
    # And once it has ended, a new one is made
    assert personal_offer(summary, OFFER, ["tea"], MOSCOW, running.ends_at, current=running) is not None


@given(
    st.lists(st.sets(st.sampled_from("abcdefgh"), min_size=1), min_size=1, max_size=12),
    st.permutations(list("abcdefgh")),
)
def test_an_offered_category_is_never_one_the_member_buys_often(orders: list[set[str]], popular: list[str]) -> None:
    # Given any history and any popularity order
    summary = BuyingSummary()
    for categories in orders:
        summary = after_paid(summary, T0, categories)
    favourite = max(count for _, count in summary.categories)
    # When a category is offered
    category = offered_category(summary, popular)
    # Then it is bought in at most a quarter as many orders as the favourite, and is never-bought when one exists
    if category is not None:
        assert summary.bought(category) * 4 <= favourite
        if any(summary.bought(c) == 0 for c in popular):
            assert summary.bought(category) == 0


# -- stacking with the rules engine --------------------------------------------------------------------------------

TEA_OFFER = Offer(category="tea", multiplier_bp=20_000, starts_at=T0, ends_at=T0 + timedelta(days=14), until=date.min)


def test_the_offer_multiplies_only_its_category_after_the_category_multipliers() -> None:
    # Given an order of 1,000 in tea (category x1.5) and 1,000 in cake (x1), and a x2 offer on tea
    lines = [Line("t", "tea", 1, 1_000), Line("c", "cake", 1, 1_000)]
    num, den = offer_factor(lines, TEA_OFFER, {"tea": 15_000}, T0 + timedelta(days=1))
    # Then after the category weighting (1500 + 1000) the offer makes it (3000 + 1000): x1.6
    assert num * 25 == den * 40


def test_category_times_offer_is_capped_at_ten() -> None:
    # Given tea at x8 by category and a x2 offer on it
    lines = [Line("t", "tea", 1, 1_000)]
    num, den = offer_factor(lines, TEA_OFFER, {"tea": 80_000}, T0 + timedelta(days=1))
    # Then together they are x10, not x16: the offer adds x1.25
    assert num * 8 == den * 10


def test_the_offer_does_nothing_outside_its_window_or_its_category_or_on_an_excluded_category() -> None:
    # Given orders outside the window, without tea, or with tea excluded from earning (x0)
    tea, cake = [Line("t", "tea", 1, 1_000)], [Line("c", "cake", 1, 1_000)]
    # Then the factor is x1
    assert offer_factor(tea, TEA_OFFER, {}, TEA_OFFER.ends_at) == (1, 1)
    assert offer_factor(cake, TEA_OFFER, {}, T0) == (1, 1)
    assert offer_factor(tea, TEA_OFFER, {"tea": 0}, T0) == (1, 1)
    assert offer_factor(tea, None, {}, T0) == (1, 1)


@given(
    st.lists(
        st.tuples(st.sampled_from(["tea", "cake", None]), st.integers(0, 10**6), st.integers(0, 100_000)),
        min_size=1,
        max_size=6,
    ),
    st.integers(10_001, 100_000),
)
def test_the_offer_never_lowers_points_nor_lifts_a_line_above_ten(
    lines_in: list[tuple[str | None, int, int]], offer_bp: int
) -> None:
    # Given any lines, category multipliers per line category, and an offer on tea
    multipliers = {str(c): m for c, _, m in lines_in if c}
    lines = [Line(str(i), c, 1, amount) for i, (c, amount, _) in enumerate(lines_in)]
    offer = Offer(category="tea", multiplier_bp=offer_bp, starts_at=T0, ends_at=T0 + timedelta(1), until=date.min)
    num, den = offer_factor(lines, offer, multipliers, T0)
    # Then the factor is >= x1, and category x offer on the whole order is at most x10
    assert num >= den
    amount = sum(line.amount_minor for line in lines)
    weighted = sum(line.amount_minor * multipliers.get(line.category or "", BP) for line in lines)
    assert weighted * num <= amount * 10 * BP * den
