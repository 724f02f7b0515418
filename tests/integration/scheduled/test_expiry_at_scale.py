"""2,000 due lots across 500 members expire in one run: no Scan, one write per member (issue 3 item 6)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto.dynamodb.models import DynamoDBBackend

from shared.account import Account
from shared.container import container
from shared.dal.ledger_store import DynamoLedgerStore
from shared.ledger import Credit, Ledger, credit
from shared.records import Commit, EntryRecord, MemberKey
from shared.services.store import bumped
from tests.conftest import make_tenant
from tests.integration.scheduled.conftest import Jobs

EARNED = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
MEMBERS, LOTS = int(os.environ.get("SCALE_MEMBERS", "500")), 4
COUNTED = ("scan", "query", "batch_get_item", "transact_write_items", "put_item", "get_item", "update_item")


@pytest.fixture
def dynamodb_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """How many times moto's DynamoDB backend served each operation (whoever the client was)."""
    calls: Counter[str] = Counter()
    for name in COUNTED:
        original = getattr(DynamoDBBackend, name)

        def counted(self: Any, *args: Any, _name: str = name, _original: Any = original, **kwargs: Any) -> Any:
            calls[_name] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, counted)
    yield calls


def seed(tenant_id: str, members: int, lots: int) -> None:
    """Members with ``lots`` lots each (earned a day apart, 30-day lifetime), their earn entries and indexes,
    written through the store as the order path would (faster than 2,000 webhooks)."""
    store = DynamoLedgerStore()
    program = container().tenants.get(tenant_id).current.settings  # type: ignore[union-attr]
    for n in range(members):
        account, entries = Ledger(f"m{n}"), []
        for i in range(lots):
            at = EARNED + timedelta(days=i)
            account, movement = credit(account, "earn", [Credit(10 + i, "order", at, at + timedelta(days=30))], at)
            entries.append(
                EntryRecord(
                    scope=f"ORDER#o{n}-{i}",
                    key="PAID",
                    member_id=account.member_id,
                    movement=movement,
                    reference=f"o{n}-{i}",
                    created_at=at,
                )
            )
        store.commit(
            tenant_id,
            Commit(
                member_id=account.member_id,
                account=bumped(Account(ledger=account), program, EARNED),
                expected_version=0,
                entries=tuple(entries),
            ),
        )


def test_2000_due_lots_of_500_members_expire_in_one_run_without_a_scan(
    jobs: Jobs, dynamodb_calls: Counter[str]
) -> None:
    # Given 500 members with 4 lots each, all past their expiry at the run's time
    make_tenant("bulk", lifetime_days=30)
    seed("bulk", MEMBERS, LOTS)
    dynamodb_calls.clear()
    # When the expiry job runs once
    summary = jobs.run("expire", EARNED + timedelta(days=40))
    # Then every lot expired, one write per member, and not a single Scan
    assert (summary.totals["members"], summary.totals["lots"], summary.totals["errors"]) == (MEMBERS, MEMBERS * LOTS, 0)
    assert summary.totals["points"] == MEMBERS * (10 + 11 + 12 + 13)
    assert dynamodb_calls["scan"] == 0
    assert dynamodb_calls["transact_write_items"] == MEMBERS
    assert dynamodb_calls["batch_get_item"] <= 64 + MEMBERS // 100 + 64  # one per page, pages per shard
    # And every account is empty, with one expire entry of 4 lots
    keys = [MemberKey("bulk", f"m{n}") for n in range(MEMBERS)]
    members = DynamoLedgerStore().load_members(keys)
    assert {m.account.ledger.balance for m in members.values()} == {0}
    assert all(m.account.ledger.lots == () and m.account.ledger.next_expiry is None for m in members.values())
    expired = DynamoLedgerStore().expired_since("bulk", "m7", 0)
    assert sorted(c.change for c in expired) == [-13, -12, -11, -10]
