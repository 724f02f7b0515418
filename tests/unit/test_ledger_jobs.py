"""The pure ledger functions behind the scheduled jobs (docs/spec.md §7): expiry of due lots only, the wake-up times the
due indexes are keyed by, release of lapsed holds, and the announcement of pending points that became available."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.account import Account, activated
from shared.ledger import Credit, Hold, Ledger, credit, expire, place_hold, release_expired_holds, spend

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY, MINUTE = timedelta(days=1), timedelta(minutes=1)


def earned(account: Ledger, points: int, *, at: datetime = T0, pending: int = 0, lifetime: int = 30) -> Ledger:
    """One order lot of ``points`` earned at ``at``, pending ``pending`` days, living ``lifetime`` days."""
    return credit(account, "earn", [Credit(points, "order", at + pending * DAY, at + lifetime * DAY)], at)[0]


# -- expire ---------------------------------------------------------------------------------------------------------


def test_expire_takes_only_the_lots_past_their_expiry_and_the_boundary_instant_counts() -> None:
    # Given lots expiring on days 10, 20 and 30, the first partly spent
    account = earned(Ledger("m1"), 10, lifetime=10)
    account = earned(account, 20, lifetime=20)
    account = earned(account, 30, lifetime=30)
    account, _ = spend(account, 4, T0)
    # When expiry runs exactly at the second lot's expiry instant
    after, movement = expire(account, T0 + 20 * DAY)
    # Then the 6 points left in the first lot and the 20 of the second leave in one entry; the third stays whole
    assert movement is not None
    assert (movement.kind, movement.delta, movement.seq, movement.balance_after) == ("expire", -26, account.seq + 1, 30)
    assert sorted((c.lot_id, c.change) for c in movement.lots) == [("1", -6), ("2", -20)]
    assert [(lot.lot_id, lot.remaining) for lot in after.lots] == [("3", 30)]
    assert after.balance == account.balance + movement.delta
    # And the version is left to the store (it bumps it when writing; the ledger has none), holds and debt are untouched
    assert not hasattr(after, "version")
    assert (after.holds, after.debt) == (account.holds, account.debt)


def test_expire_before_any_expiry_changes_nothing_and_a_second_expire_finds_nothing() -> None:
    # Given a 30-day lot
    account = earned(Ledger("m1"), 50)
    # When expiry runs a second before its end, then nothing is due
    assert expire(account, T0 + 30 * DAY - timedelta(seconds=1)) == (account, None)
    # When it runs after, the lot goes; running it again at the same or a later time finds nothing
    after, movement = expire(account, T0 + 31 * DAY)
    assert movement is not None and after.lots == ()
    assert expire(after, T0 + 31 * DAY) == (after, None)
    assert expire(after, T0 + 400 * DAY) == (after, None)


def test_expire_of_a_pending_lot_past_its_expiry_takes_it_too() -> None:
    # Given a lot whose pending period outlasts its lifetime (a promo grant made available late)
    account = earned(Ledger("m1"), 15, pending=40, lifetime=30)
    # When expiry runs after its end, then it goes although it never became available
    after, movement = expire(account, T0 + 30 * DAY)
    assert movement is not None and (movement.delta, after.balance) == (-15, 0)


# -- the wake-up times of the due indexes ---------------------------------------------------------------------------


def test_next_expiry_is_the_soonest_lot_with_points_left_and_moves_on_after_expiry() -> None:
    # Given no lots, then nothing will expire
    assert Ledger("m1").next_expiry is None
    # Given lots expiring on days 30, 10 and 20 (credited in that order)
    account = earned(Ledger("m1"), 10, lifetime=30)
    account = earned(account, 10, lifetime=10)
    account = earned(account, 10, lifetime=20)
    # Then the soonest is next
    assert account.next_expiry == T0 + 10 * DAY
    # And once the soonest lot is spent empty, the next one is
    spent, _ = spend(account, 10, T0)
    assert spent.next_expiry == T0 + 20 * DAY
    # And after the expiry of the first two, only the last remains; after all, none
    assert expire(account, T0 + 20 * DAY)[0].next_expiry == T0 + 30 * DAY
    assert expire(account, T0 + 30 * DAY)[0].next_expiry is None


def test_next_hold_expiry_is_the_soonest_hold_and_none_without_holds() -> None:
    # Given 100 points and no hold, then no hold wakes the member
    account = earned(Ledger("m1"), 100)
    assert account.next_hold_expiry is None
    # Given holds lapsing in 15 and 5 minutes, then the sooner is next
    account = place_hold(account, Hold("h1", "o1", 10, T0 + 15 * MINUTE), T0)
    account = place_hold(account, Hold("h2", "o2", 10, T0 + 5 * MINUTE), T0)
    assert account.next_hold_expiry == T0 + 5 * MINUTE


def test_next_activation_is_the_next_pending_lot_not_yet_announced() -> None:
    # Given a lot available at once, then nothing is ever to be announced for it
    account = Account(ledger=earned(Ledger("m1"), 10))
    assert account.next_activation is None
    # Given lots pending 3 and 5 days as well
    account = account.with_ledger(earned(earned(account.ledger, 20, pending=5), 30, pending=3))
    # Then the one available soonest is next
    assert account.next_activation == T0 + 3 * DAY
    # And once announcements were made through day 3, the other one is next; through day 5, none
    assert activated(account, T0 + 3 * DAY)[0].next_activation == T0 + 5 * DAY
    assert activated(account, T0 + 5 * DAY)[0].next_activation is None


# -- release of lapsed holds ----------------------------------------------------------------------------------------


def test_release_expired_holds_drops_the_lapsed_ones_and_keeps_the_live_ones() -> None:
    # Given 100 points with a hold lapsing at T0 + 15 min and one at T0 + 25 min
    account = earned(Ledger("m1"), 100)
    account = place_hold(account, Hold("h1", "o1", 40, T0 + 15 * MINUTE), T0)
    account = place_hold(account, Hold("h2", "o2", 20, T0 + 25 * MINUTE), T0)
    # When lapsed holds are released exactly when the first lapses
    after, lapsed = release_expired_holds(account, T0 + 15 * MINUTE)
    # Then that one is returned and gone, the live one stays, and no points moved
    assert [h.hold_id for h in lapsed] == ["h1"]
    assert [h.hold_id for h in after.holds] == ["h2"]
    assert (after.seq, after.lots, after.balance) == (account.seq, account.lots, 100)
    assert after.balances(T0 + 15 * MINUTE).available == 80
    assert after.next_hold_expiry == T0 + 25 * MINUTE
    # And releasing again at the same time finds nothing
    assert release_expired_holds(after, T0 + 15 * MINUTE) == (after, ())


def test_release_expired_holds_before_any_lapse_changes_nothing() -> None:
    # Given a live hold
    account = place_hold(earned(Ledger("m1"), 100), Hold("h1", "o1", 40, T0 + 15 * MINUTE), T0)
    # When lapsed holds are released before it lapses, then nothing changes
    assert release_expired_holds(account, T0 + 14 * MINUTE) == (account, ())


# -- activation of pending points -----------------------------------------------------------------------------------


def test_activate_announces_the_lots_that_became_available_once_with_a_zero_delta_entry() -> None:
    # Given a lot available at once, and lots pending 3 and 5 days
    account = Account(ledger=earned(earned(earned(Ledger("m1"), 10), 20, pending=3), 30, pending=5))
    # When activation runs on day 4
    after, movement = activated(account, T0 + 4 * DAY)
    # Then one entry announces the 3-day lot only: no points move, the sequence advances
    assert movement is not None
    assert (movement.kind, movement.delta, movement.seq, movement.balance_after) == (
        "activate", 0, account.ledger.seq + 1, 60
    )  # fmt: skip
    assert [(c.lot_id, c.change) for c in movement.lots] == [("2", 0)]
    assert (after.ledger.lots, after.ledger.balance, after.wakeups.activated_through) == (
        account.ledger.lots, 60, T0 + 4 * DAY
    )  # fmt: skip
    # And running it again at the same time announces nothing, but still records how far it looked
    again, none = activated(after, T0 + 4 * DAY)
    assert none is None and again == after
    # And on day 5 the 5-day lot is announced, and only it
    _, movement = activated(after, T0 + 5 * DAY)
    assert movement is not None and [(c.lot_id, c.change) for c in movement.lots] == [("3", 0)]


def test_activate_with_nothing_ready_advances_the_mark_without_an_entry() -> None:
    # Given a lot pending 3 days
    account = Account(ledger=earned(Ledger("m1"), 20, pending=3))
    # When activation runs on day 1, then no entry, no new sequence number, but the mark moves
    after, movement = activated(account, T0 + DAY)
    assert movement is None
    assert (after.ledger.seq, after.wakeups.activated_through, after.next_activation) == (
        account.ledger.seq, T0 + DAY, T0 + 3 * DAY
    )  # fmt: skip


def test_activate_skips_a_pending_lot_that_expired_before_it_was_announced() -> None:
    # Given a lot that becomes available on day 40 but expires on day 30
    account = Account(ledger=earned(Ledger("m1"), 15, pending=40, lifetime=30))
    # When activation runs on day 41, then nothing is announced: those points are gone, not available
    after, movement = activated(account, T0 + 41 * DAY)
    assert movement is None and after.next_activation is None
