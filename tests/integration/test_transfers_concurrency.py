"""Two transfers from one sender at once (issue 5 item 9, docs/spec.md §3 concurrency): never an overspend."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from scripts.emulator_atomicity import serialize_dynamodb_writes
from shared import clock
from shared.container import container
from shared.errors import InsufficientPoints
from shared.records import Commit
from shared.services.transfers import TransferIn, TransferResult
from tests.conftest import TenantCreds, make_tenant
from tests.integration.conftest import Clock
from tests.integration.support import assert_error, history, member
from tests.integration.test_transfers_api import earn, enrol, transfer


@pytest.fixture
def shop(aws: None) -> TenantCreds:
    return make_tenant("shop", transfer={"enabled": True})


def test_a_transfer_that_lost_the_race_is_recomputed_and_refused(
    client: Any, shop: TenantCreds, frozen: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given alice with 50 points, bob and carol enrolled
    earn(client, shop, frozen, "o1", "alice")
    enrol(client, shop, "bob")
    enrol(client, shop, "carol")
    # And a store that lets a second transfer of 40 (to carol) land between the first one's read and its write
    store = container().transfers.store
    real_commit_pair = store.commit_pair
    raced: list[Any] = []

    def commit_pair(tenant: str, first: Commit, second: Commit) -> None:
        if not raced:
            raced.append(None)  # once: the racing transfer's own commit goes straight through
            raced.append(transfer(client, shop, 40, "t2", dst="carol"))
        real_commit_pair(tenant, first, second)

    monkeypatch.setattr(store, "commit_pair", commit_pair)
    # When alice's transfer of 30 to bob is asked
    response = transfer(client, shop, 30, "t1")
    # Then the one that landed first won; the other was recomputed on fresh state and refused, nothing overspent
    assert raced[1].status_code == 201, raced[1].body
    assert_error(response, 422, "insufficient_points")
    assert [member(client, shop, m)["available"] for m in ("alice", "bob", "carol")] == [10, 0, 40]
    assert [e["kind"] for e in history(client, shop, "alice")] == ["transfer_out", "earn"]


def test_two_concurrent_transfers_exceeding_the_balance_exactly_one_succeeds(
    client: Any, shop: TenantCreds, frozen: Clock
) -> None:
    # Given alice with 50 points, bob and carol enrolled, and moto's writes made atomic for threads
    serialize_dynamodb_writes()
    earn(client, shop, frozen, "o1", "alice")
    enrol(client, shop, "bob")
    enrol(client, shop, "carol")
    tenant = container().tenants.get("shop")
    assert tenant is not None
    service, barrier = container().transfers, threading.Barrier(2)

    def send(tid: str, dst: str) -> TransferResult | InsufficientPoints:
        barrier.wait(timeout=10)
        try:
            return service.transfer(tenant, TransferIn(tid, "alice", dst, 30), clock.now())
        except InsufficientPoints as exc:
            return exc

    # When two transfers of 30 points each leave alice at the same moment
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda args: send(*args), [("t1", "bob"), ("t2", "carol")]))
    # Then exactly one applied and the other was refused for lack of points
    applied = [o for o in outcomes if isinstance(o, TransferResult)]
    assert len(applied) == 1 and sum(isinstance(o, InsufficientPoints) for o in outcomes) == 1
    # And the points add up: alice 20, the winner 30, the loser 0
    winner = applied[0].to_member_id
    balances = {m: member(client, shop, m)["available"] for m in ("alice", "bob", "carol")}
    assert balances == {"alice": 20, "bob": 30 if winner == "bob" else 0, "carol": 30 if winner == "carol" else 0}
