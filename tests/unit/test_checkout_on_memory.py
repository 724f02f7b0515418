"""A service on the in-memory store (issue 15 item 9): checkout's hold, capture and release with no emulator.

``MemoryLedgerStore`` passes the same contract suite as the DynamoDB store (tests/integration/
test_store_contract.py), so what these tests show of ``CheckoutService`` holds on the table too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from shared import clock
from shared.dal.memory_store import MemoryLedgerStore
from shared.errors import Conflict, InsufficientPoints
from shared.keys import REDEEM, order_scope
from shared.ledger import Lot
from shared.records import Commit
from shared.services.checkout import CheckoutService
from tests.accounts import account
from tests.tenants import tenant

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TENANT = tenant(NOW - timedelta(days=30))


@pytest.fixture
def store() -> Iterator[MemoryLedgerStore]:
    """A store in which m1 and m2 hold 1000 spendable points each."""
    clock.set_clock(lambda: NOW)
    memory = MemoryLedgerStore()
    for member_id in ("m1", "m2"):
        lot = Lot(
            lot_id="1",
            points=1_000,
            remaining=1_000,
            source="order",
            earned_at=NOW - timedelta(days=1),
            available_at=NOW - timedelta(days=1),
            expires_at=NOW + timedelta(days=300),
        )
        memory.commit(
            "shop",
            Commit(member_id=member_id, account=account(member_id, version=1, seq=1, lots=(lot,)), expected_version=0),
        )
    yield memory
    clock.set_clock(None)


def available(store: MemoryLedgerStore, member_id: str = "m1") -> int:
    return store.load_member("shop", member_id).account.ledger.balances(NOW).available


def test_hold_then_capture_spends_the_points_once(store: MemoryLedgerStore) -> None:
    checkout = CheckoutService(store, attempts=3)
    # Given a hold of 300 points on order o1
    hold = checkout.hold(TENANT, "m1", "o1", 300, None, NOW)
    assert (hold.status, available(store)) == ("active", 700)
    # When 200 of them are captured, twice (a retry)
    first = checkout.capture(TENANT, hold.hold_id, 200, NOW)
    again = checkout.capture(TENANT, hold.hold_id, 200, NOW)
    # Then 200 points were spent once, the rest is free again, and the order has its REDEEM entry
    assert (first.status, first.points, again) == ("captured", 200, first)
    assert available(store) == 800
    assert [e.key for e in store.entries("shop", order_scope("o1"))] == [REDEEM]
    # And nobody may hold the order's points again
    with pytest.raises(Conflict) as taken:
        checkout.hold(TENANT, "m2", "o1", 100, None, NOW)
    assert taken.value.code == "order_already_redeemed"


def test_release_frees_the_points_and_the_order(store: MemoryLedgerStore) -> None:
    checkout = CheckoutService(store, attempts=3)
    # Given m1's open hold on o2 / When m2 tries the same order / Then refused while it is open
    hold = checkout.hold(TENANT, "m1", "o2", 400, None, NOW)
    with pytest.raises(Conflict) as busy:
        checkout.hold(TENANT, "m2", "o2", 100, None, NOW)
    assert busy.value.code == "hold_exists"
    # When m1 releases it (twice) / Then the points are back and m2 may hold the order
    assert checkout.release(TENANT, hold.hold_id, NOW).status == "released"
    assert checkout.release(TENANT, hold.hold_id, NOW).status == "released"
    assert available(store) == 1_000
    assert checkout.hold(TENANT, "m2", "o2", 100, None, NOW).member_id == "m2"
    assert available(store, "m2") == 900


def test_a_hold_beyond_the_balance_is_refused_and_writes_nothing(store: MemoryLedgerStore) -> None:
    checkout = CheckoutService(store, attempts=3)
    # When m1 holds more than it has / Then refused, its account untouched and the order still free
    with pytest.raises(InsufficientPoints):
        checkout.hold(TENANT, "m1", "o3", 1_001, None, NOW)
    assert store.load_member("shop", "m1").account.version == 1
    assert store.hold_claim("shop", "o3") is None
