"""The pure ledger (docs/spec.md §3, §4): lots, spending order, holds, reversal and debt."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from shared.errors import Conflict, InsufficientPoints, Unprocessable
from shared.ledger import (
    Credit,
    Hold,
    Ledger,
    capture,
    credit,
    expire,
    nothing,
    place_hold,
    release_hold,
    reverse,
    spend,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def earned(account: Ledger, points: int, *, expires_in: int = 365, pending: int = 0, at: datetime = T0) -> Ledger:
    """Add one order lot earned at ``at``."""
    lot = Credit(points, "order", at + pending * DAY, at + expires_in * DAY)
    return credit(account, "earn", [lot], at)[0]


def lot_ids_by_expiry(account: Ledger) -> dict[datetime, str]:
    return {lot.expires_at: lot.lot_id for lot in account.lots}


def test_credit_creates_a_lot_and_an_entry() -> None:
    # Given an empty account
    account = Ledger("m1")
    # When 100 points are earned, pending 3 days, living 365
    account, movement = credit(account, "earn", [Credit(100, "order", T0 + 3 * DAY, T0 + 365 * DAY)], T0)
    # Then one lot carries every date and the entry records the movement
    (lot,) = account.lots
    assert (lot.points, lot.remaining, lot.source) == (100, 100, "order")
    assert (lot.earned_at, lot.available_at, lot.expires_at) == (T0, T0 + 3 * DAY, T0 + 365 * DAY)
    assert (movement.kind, movement.delta, movement.balance_after, movement.seq) == ("earn", 100, 100, 1)
    assert [(c.lot_id, c.change) for c in movement.lots] == [(lot.lot_id, 100)]


def test_spend_takes_soonest_expiring_lots_first() -> None:
    # Given three lots earned in an order unrelated to their expiry
    account = earned(Ledger("m1"), 100, expires_in=300)
    account = earned(account, 100, expires_in=30)
    account = earned(account, 100, expires_in=90)
    ids = lot_ids_by_expiry(account)
    # When 150 points are spent
    account, movement = spend(account, 150, T0)
    # Then the 30-day lot is emptied, the 90-day lot gives the rest, the 300-day lot is untouched
    assert [(c.lot_id, c.change) for c in movement.lots] == [(ids[T0 + 30 * DAY], -100), (ids[T0 + 90 * DAY], -50)]
    assert {lot.expires_at: lot.remaining for lot in account.lots} == {T0 + 90 * DAY: 50, T0 + 300 * DAY: 100}
    assert (movement.kind, movement.delta, movement.balance_after) == ("redeem", -150, 150)


def test_account_lots_are_listed_soonest_expiring_first() -> None:
    # Given lots added latest-expiring first
    account = earned(Ledger("m1"), 10, expires_in=200)
    account = earned(account, 10, expires_in=100)
    account = earned(account, 10, expires_in=150)
    # Then the open lots are in expiry order
    expiries = [lot.expires_at for lot in account.open_lots(T0)]
    assert expiries == sorted(expiries)
    assert len(expiries) == 3


def test_pending_lots_are_not_spendable() -> None:
    # Given 100 spendable points and 500 pending for 14 days
    account = earned(Ledger("m1"), 100)
    account = earned(account, 500, pending=14)
    # Then only the spendable points are available
    balances = account.balances(T0)
    assert (balances.available, balances.pending, balances.balance) == (100, 500, 600)
    # When spending more than the spendable points, it is refused
    with pytest.raises(InsufficientPoints):
        spend(account, 101, T0)
    # When the pending period ends, the points become available
    later = account.balances(T0 + 14 * DAY)
    assert (later.available, later.pending) == (600, 0)
    assert spend(account, 600, T0 + 14 * DAY)[1].delta == -600


def test_expired_lots_are_excluded_from_available() -> None:
    # Given a 30-day lot and a 365-day lot
    account = earned(Ledger("m1"), 40, expires_in=30)
    account = earned(account, 60, expires_in=365)
    # When the clock reaches the first lot's expiry
    at_expiry = T0 + 30 * DAY
    # Then only the live lot counts as available, and it is the only open lot
    assert account.balances(at_expiry - timedelta(seconds=1)).available == 100
    assert account.balances(at_expiry).available == 60
    assert [lot.remaining for lot in account.open_lots(at_expiry)] == [60]
    # And spending cannot reach the expired points
    with pytest.raises(InsufficientPoints):
        spend(account, 61, at_expiry)


def test_expire_removes_due_lots_with_one_entry() -> None:
    # Given a 30-day lot partly spent and a 365-day lot
    account = earned(Ledger("m1"), 40, expires_in=30)
    account = earned(account, 60, expires_in=365)
    account, _ = spend(account, 10, T0)
    # When expiry runs after the first lot's end
    account, movement = expire(account, T0 + 31 * DAY)
    # Then the 30 points left in it leave the balance in one expire entry
    assert movement is not None
    assert (movement.kind, movement.delta, movement.balance_after) == ("expire", -30, 60)
    assert account.balance == 60
    # And running it again does nothing
    assert expire(account, T0 + 31 * DAY) == (account, None)


def test_hold_reduces_available_and_expires_by_time() -> None:
    # Given 100 available points
    account = earned(Ledger("m1"), 100)
    # When 70 are held for 15 minutes
    account = place_hold(account, Hold("h1", "o1", 70, T0 + timedelta(minutes=15)), T0)
    # Then they leave the available balance but not the balance
    balances = account.balances(T0)
    assert (balances.available, balances.held, balances.balance) == (30, 70, 100)
    # And a second hold above what is left is refused
    with pytest.raises(InsufficientPoints):
        place_hold(account, Hold("h2", "o2", 31, T0 + timedelta(minutes=15)), T0)
    # When the hold's time passes, the points are available again without any write
    after = account.balances(T0 + timedelta(minutes=15))
    assert (after.available, after.held) == (100, 0)
    # And the expired hold can no longer be captured or released
    with pytest.raises(Conflict) as captured:
        capture(account, "h1", 70, T0 + timedelta(minutes=15))
    assert captured.value.code == "hold_not_active"
    with pytest.raises(Conflict):
        release_hold(account, "h1", T0 + timedelta(minutes=16))


def test_one_open_hold_per_order() -> None:
    # Given an open hold for order o1
    account = place_hold(earned(Ledger("m1"), 100), Hold("h1", "o1", 10, T0 + DAY), T0)
    # When another hold for o1 is placed, it is a conflict
    with pytest.raises(Conflict) as exc:
        place_hold(account, Hold("h2", "o1", 10, T0 + DAY), T0)
    assert exc.value.code == "hold_exists"


def test_hold_cannot_reserve_pending_points() -> None:
    # Given only pending points
    account = earned(Ledger("m1"), 100, pending=7)
    # When a hold is placed, it is refused
    with pytest.raises(InsufficientPoints):
        place_hold(account, Hold("h1", "o1", 1, T0 + DAY), T0)


def test_capture_fewer_than_held_releases_the_rest() -> None:
    # Given 100 points, 80 of them held
    account = place_hold(earned(Ledger("m1"), 100), Hold("h1", "o1", 80, T0 + DAY), T0)
    # When only 30 are captured
    account, movement = capture(account, "h1", 30, T0)
    # Then 30 are spent, nothing is held any more, and 70 are available
    assert (movement.kind, movement.delta) == ("redeem", -30)
    balances = account.balances(T0)
    assert (balances.balance, balances.held, balances.available) == (70, 0, 70)
    # And the hold is gone: a second capture is a conflict
    with pytest.raises(Conflict):
        capture(account, "h1", 30, T0)


def test_capture_outside_the_hold_is_rejected() -> None:
    # Given a hold of 50
    account = place_hold(earned(Ledger("m1"), 100), Hold("h1", "o1", 50, T0 + DAY), T0)
    # When capturing more than held or nothing
    # Then it is refused
    for points in (51, 0):
        with pytest.raises(Unprocessable) as exc:
            capture(account, "h1", points, T0)
        assert exc.value.code == "invalid_points"


def test_capture_uses_held_points_even_when_nothing_else_is_available() -> None:
    # Given every point held
    account = place_hold(earned(Ledger("m1"), 50), Hold("h1", "o1", 50, T0 + DAY), T0)
    assert account.balances(T0).available == 0
    # When the hold is captured in full
    account, movement = capture(account, "h1", 50, T0)
    # Then it succeeds and the balance is 0
    assert movement.delta == -50
    assert account.balance == 0


def test_release_returns_the_points() -> None:
    # Given a hold of 40 out of 100
    account = place_hold(earned(Ledger("m1"), 100), Hold("h1", "o1", 40, T0 + DAY), T0)
    # When released
    account = release_hold(account, "h1", T0)
    # Then all 100 are available and a second release is a conflict
    assert account.balances(T0).available == 100
    with pytest.raises(Conflict):
        release_hold(account, "h1", T0)


def test_reverse_takes_own_lots_first_then_soonest_expiring() -> None:
    # Given an old lot expiring soon and the order's own lot expiring late
    account = earned(Ledger("m1"), 50, expires_in=30)
    account = earned(account, 40, expires_in=365)
    ids = lot_ids_by_expiry(account)
    own = ids[T0 + 365 * DAY]
    # When 60 points of the order are reversed
    account, movement = reverse(account, 60, T0, own_lot_ids=[own])
    # Then the own lot gives all 40 first, then the soonest-expiring other lot gives 20
    assert {c.lot_id: c.change for c in movement.lots} == {own: -40, ids[T0 + 30 * DAY]: -20}
    assert (movement.delta, movement.debt_change, account.debt, account.balance) == (-60, 0, 0, 30)


def test_reverse_spares_held_points_and_the_rest_becomes_debt() -> None:
    # Given 100 points of which 70 are held by an open hold
    account = place_hold(earned(Ledger("m1"), 100), Hold("h1", "o1", 70, T0 + DAY), T0)
    # When 50 points are reversed
    account, movement = reverse(account, 50, T0)
    # Then only the 30 unheld points are taken and 20 become debt
    assert movement.debt_change == 20
    assert (account.debt, account.balance) == (20, 50)
    balances = account.balances(T0)
    assert (balances.held, balances.available) == (70, -20)
    # And a redemption never makes the balance negative (§3): capturing all 70 is refused,
    # capturing the 50 the balance still covers is allowed and leaves 0
    with pytest.raises(InsufficientPoints):
        capture(account, "h1", 70, T0)
    account, _ = capture(account, "h1", 50, T0)
    assert (account.balance, account.debt, account.balances(T0).available) == (0, 20, 0)


def test_reverse_takes_pending_points_too() -> None:
    # Given only a pending lot of the order
    account = earned(Ledger("m1"), 100, pending=14)
    own = account.lots[0].lot_id
    # When 100 points are reversed
    account, movement = reverse(account, 100, T0, own_lot_ids=[own])
    # Then the pending lot is taken and no debt arises
    assert (account.debt, account.balance, account.lots) == (0, 0, ())
    assert movement.debt_change == 0


def test_reverse_of_spent_points_becomes_debt_and_accruals_pay_it_first() -> None:
    # Given 100 points earned and all spent
    account = earned(Ledger("m1"), 100)
    account, _ = spend(account, 100, T0)
    # When the order is refunded and its 100 points reversed
    account, movement = reverse(account, 100, T0)
    # Then the balance is -100 as debt
    assert (account.debt, account.balance, movement.debt_change, movement.balance_after) == (100, -100, 100, -100)
    assert account.balances(T0).available == -100
    # When 60 points are earned later, they all pay the debt and no lot is opened
    account, paid = credit(account, "earn", [Credit(60, "order", T0, T0 + 365 * DAY)], T0)
    assert (account.debt, account.lots, paid.debt_change, paid.lots) == (40, (), -60, ())
    # When 100 more are earned, 40 pay the rest of the debt and a lot keeps 60
    account, _ = credit(account, "earn", [Credit(100, "order", T0, T0 + 365 * DAY)], T0)
    assert account.debt == 0
    assert [(lot.points, lot.remaining) for lot in account.lots] == [(100, 60)]
    assert account.balances(T0).available == 60


def test_a_lot_born_expired_pays_no_debt_and_expires_at_once() -> None:
    # Given a debt of 55
    account = replace(Ledger("m1"), debt=55)
    # When 61 points arrive in a lot already past its expiry (an order paid longer ago than the lifetime)
    account, earn = credit(account, "earn", [Credit(61, "order", T0 - 400 * DAY, T0 - 35 * DAY)], T0)
    # Then the lot keeps all 61 (it pays no debt: it is worth nothing now) and the view does not count it
    assert (earn.delta, earn.debt_change, earn.balance_after) == (61, 0, 6)
    assert [(lot.points, lot.remaining) for lot in account.lots] == [(61, 61)]
    assert (account.debt, account.balances(T0).balance) == (55, -55)
    # And the expiry of the same write removes it: the stored balance is the view's again
    account, gone = expire(account, T0)
    assert gone is not None and (gone.delta, gone.balance_after) == (-61, -55)
    assert (account.lots, account.balance) == ((), -55)


def test_debt_blocks_spending_and_holds() -> None:
    # Given 50 points and a debt of 30
    account = replace(earned(Ledger("m1"), 50), debt=30)
    # Then only 20 are available to spend or hold
    assert account.balances(T0).available == 20
    with pytest.raises(InsufficientPoints):
        spend(account, 21, T0)
    with pytest.raises(InsufficientPoints):
        place_hold(account, Hold("h1", "o1", 21, T0 + DAY), T0)


def test_non_positive_amounts_are_programming_errors() -> None:
    # Given an account with points
    account = earned(Ledger("m1"), 10)
    # Then zero or negative amounts are refused by every movement
    with pytest.raises(ValueError):
        spend(account, 0, T0)
    with pytest.raises(ValueError):
        reverse(account, -1, T0)
    with pytest.raises(ValueError):
        credit(account, "earn", [Credit(0, "order", T0, T0 + DAY)], T0)


def test_an_entry_of_nothing_takes_the_next_sequence_number_and_moves_no_points() -> None:
    account = earned(Ledger("m1"), 40)
    after, movement = nothing(account, "earn")
    assert (movement.kind, movement.delta, movement.seq, movement.balance_after) == ("earn", 0, account.seq + 1, 40)
    assert (after.seq, after.lots, after.debt) == (account.seq + 1, account.lots, account.debt)
