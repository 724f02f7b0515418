"""The ledger store's contract (issue 15 item 9): one suite, run on the DynamoDB store (over moto) and on the
in-memory one, so that a domain or service test on ``MemoryLedgerStore`` proves what it would prove on the table.

Every case is written against the ``LedgerStore`` port only: business keys, atomicity, the account's version, the
counters' and the hold claim's conditions, profile patches, the order's state, history paging, notifications.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared import clock
from shared.account import Account
from shared.dal.memory_store import MemoryLedgerStore
from shared.entry_details import PaidDetails, RedeemDetails
from shared.errors import BadRequest
from shared.keys import (
    HOLD,
    PAID,
    REDEEM,
    REFEREE,
    business_key,
    expire_key,
    hold_claim_key,
    hold_scope,
    member_pk,
    member_scope,
    order_scope,
    reminder_key,
    shard_of,
    transfer_month_key,
    transfer_scope,
)
from shared.ledger import Hold, Lot, LotChange, Movement
from shared.orders import Returned
from shared.ports import Duplicate, VersionConflict
from shared.records import (
    Commit,
    CounterRecord,
    EntryRecord,
    HoldRecord,
    Member,
    MemberKey,
    NotificationRecord,
    OrderHoldClaim,
    PaidIndex,
    PaidRow,
    Profile,
    RefundRecord,
)
from shared.referral import code_of
from shared.standing import Gained
from tests.accounts import account as new_account

T = "shop"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # whole seconds: the table keeps no more
YEAR = timedelta(days=365)
MINUTES_15 = timedelta(minutes=15)


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The store under test at a fixed clock: the in-memory one plain, the DynamoDB one over moto."""
    clock.set_clock(lambda: NOW)
    try:
        if request.param == "memory":
            yield MemoryLedgerStore()
        else:
            request.getfixturevalue("aws")
            from shared.container import container

            yield container().store
    finally:
        clock.set_clock(None)


def account(member_id: str = "m1", version: int = 1, points: int = 100, **fields: Any) -> Account:
    lot = Lot(
        lot_id="1",
        points=points,
        remaining=points,
        source="order",
        earned_at=NOW,
        available_at=NOW,
        expires_at=NOW + YEAR,
    )
    return new_account(member_id, version=version, seq=1, lots=(lot,), **fields)


def entry(scope: str, key: str, member_id: str = "m1", seq: int = 1, delta: int = 100, **fields: Any) -> EntryRecord:
    movement = Movement(
        kind="earn", delta=delta, seq=seq, balance_after=delta, lots=(LotChange(str(seq), delta, NOW + YEAR),)
    )
    return EntryRecord(
        scope=scope,
        key=key,
        member_id=member_id,
        movement=movement,
        reference="ref",
        created_at=NOW,
        event_id=None,
        **fields,
    )


def paid_entry(order_id: str, cash_paid_minor: int) -> EntryRecord:
    """An order's PAID entry with its record and its row of the paid-orders index."""
    details = PaidDetails(
        order_id=order_id, currency="USD", total_minor=cash_paid_minor, shipping_minor=0, tax_minor=0,
        points_redeemed=0, point_value_minor=1, earn_rate_bp=500, tier=None, eligible_minor=cash_paid_minor,
        points_earned=100, rules=({"rule": "base", "points": 100},), cash_paid_minor=cash_paid_minor, paid_at=NOW,
        spend_month="2027-01", program_version=1, earned_lot_ids=("1",), gained=Gained(tier_before=None, boost_until=None),
    )  # fmt: skip
    index = PaidIndex(order_id=order_id, paid_at=NOW, cash_minor=cash_paid_minor)
    return entry(order_scope(order_id), PAID, details=details, paid_index=index)


def claim(hold_id: str, member_id: str, status: str = "active", ttl: timedelta = MINUTES_15) -> Commit:
    record = OrderHoldClaim("o1", hold_id, member_id, NOW + ttl, status)  # type: ignore[arg-type]
    return Commit(member_id=member_id, claim=record)


def notice(status: str = "sending", attempts: int = 1, seq: int = 7) -> NotificationRecord:
    return NotificationRecord(
        member_id="m1",
        key=reminder_key("2026-05-01", 60, "email"),
        expiry_date="2026-05-01",
        days_before=60,
        channel="email",
        points=40,
        status=status,
        attempts=attempts,
        seq=seq,
        created_at=NOW,
        updated_at=NOW,
    )


# -- members and the account's version -------------------------------------------------------------------------


def test_unknown_member_loads_as_an_empty_account(store: Any) -> None:
    # Given nothing stored / When an unknown member is loaded / Then an empty account, no profile, not existing
    assert store.load_member(T, "nobody") == Member(Account.new("nobody"), None, False)


def test_committed_account_reads_back_as_written(store: Any) -> None:
    # Given a new account with lots, a hold and standing
    written = account(
        tier="silver",
        spend_months=(("2026-02", 500), ("2026-03", 700)),
        paid_orders=2,
        boost_until=NOW + timedelta(days=7),
        boost_discount_open=True,
        holds=(Hold("h1", "o1", 30, NOW + MINUTES_15),),
    )
    # When it is committed as new (expected version 0)
    store.commit(T, Commit(member_id="m1", account=written, expected_version=0))
    # Then it loads equal, and the member exists
    assert store.load_member(T, "m1") == Member(written, None, True)
    assert store.load_members([MemberKey(T, "m1"), MemberKey(T, "m2")]) == {
        MemberKey(T, "m1"): Member(written, None, True),
        MemberKey(T, "m2"): Member(Account.new("m2"), None, False),
    }


def test_a_stale_version_is_a_conflict_and_writes_nothing(store: Any) -> None:
    # Given the account at version 1
    store.commit(T, Commit(member_id="m1", account=account(), expected_version=0))
    # When one writer commits a "new" account and another one computed from version 3
    for stale in (
        Commit(member_id="m1", account=account(version=1, points=5), expected_version=0),
        Commit(member_id="m1", account=account(version=4, points=5), expected_version=3),
    ):
        with pytest.raises(VersionConflict):
            store.commit(T, stale)
    # Then the account is as the first commit left it; the right version passes
    assert store.load_member(T, "m1").account == account()
    store.commit(T, Commit(member_id="m1", account=account(version=2, points=7), expected_version=1))
    assert store.load_member(T, "m1").account.version == 2


# -- business keys and atomicity -------------------------------------------------------------------------------


def test_a_taken_business_key_is_a_duplicate_and_nothing_of_the_commit_is_written(store: Any) -> None:
    # Given an order's accrual recorded with the account at version 1
    store.commit(
        T, Commit(member_id="m1", account=account(), expected_version=0, entries=(entry(order_scope("o1"), PAID),))
    )
    # When a replay commits the next version with the same PAID entry and a new refund
    refund = RefundRecord(
        order_id="o2",
        refund_id="r1",
        member_id="m1",
        amount_minor=100,
        refunded_minor=100,
        reversed_points=1,
        restored_points=0,
        created_at=NOW,
    )
    replay = Commit(
        member_id="m1",
        account=account(version=2, points=1),
        expected_version=1,
        entries=(entry(order_scope("o1"), PAID, seq=2),),
        refund=refund,
    )
    with pytest.raises(Duplicate) as dup:
        store.commit(T, replay)
    # Then the duplicate names the business key, the account is unchanged and the refund was not written
    assert dup.value.key == business_key(order_scope("o1"), PAID)
    assert store.load_member(T, "m1").account == account()
    assert store.load_order(T, "o2").refunds == ()


def test_a_void_and_an_accrual_share_the_orders_paid_key(store: Any) -> None:
    # Given an order cancelled before payment
    store.commit(T, Commit(member_id="m1", void_order="o1"))
    # When it is paid afterwards / Then its PAID entry is a duplicate of the void
    with pytest.raises(Duplicate) as dup:
        store.commit(
            T, Commit(member_id="m1", account=account(), expected_version=0, entries=(entry(order_scope("o1"), PAID),))
        )
    assert dup.value.key == business_key(order_scope("o1"), PAID)
    assert store.load_member(T, "m1").exists is False


def test_commit_pair_applies_both_or_neither(store: Any) -> None:
    # Given m2 at version 1
    store.commit(T, Commit(member_id="m2", account=account("m2"), expected_version=0))
    sent = entry(transfer_scope("t1"), "OUT", "m1", delta=-10)
    received = entry(transfer_scope("t1"), "IN", "m2", seq=2, delta=10)
    # When a pair's second commit is stale
    with pytest.raises(VersionConflict):
        store.commit_pair(
            T,
            Commit(member_id="m1", account=account(), expected_version=0, entries=(sent,)),
            Commit(member_id="m2", account=account("m2", 2), expected_version=5, entries=(received,)),
        )
    # Then the first one did not apply either
    assert store.load_member(T, "m1").exists is False
    assert store.entries(T, transfer_scope("t1")) == []
    # When both are current / Then both apply, and the scope's entries come back in key order
    store.commit_pair(
        T,
        Commit(member_id="m1", account=account(), expected_version=0, entries=(sent,)),
        Commit(member_id="m2", account=account("m2", 2), expected_version=1, entries=(received,)),
    )
    assert store.entries(T, transfer_scope("t1")) == [received, sent]


# -- counters and profiles --------------------------------------------------------------------------------------


def test_a_counter_is_written_only_over_the_total_it_was_computed_from(store: Any) -> None:
    key = transfer_month_key("2026-03")
    # Given no counter / Then it reads None and the first write must find none
    assert store.counter(T, "m1", key) is None
    store.commit(T, Commit(member_id="m1", counter=CounterRecord("m1", key, 10, None)))
    # When two writers count from "none" and from a wrong total / Then both conflict
    for previous in (None, 3):
        with pytest.raises(VersionConflict):
            store.commit(T, Commit(member_id="m1", counter=CounterRecord("m1", key, 99, previous)))
    # When one counts from the stored 10 / Then it is written
    store.commit(T, Commit(member_id="m1", counter=CounterRecord("m1", key, 25, 10)))
    assert store.counter(T, "m1", key) == 25


def test_a_profile_write_is_a_patch_of_the_fields_it_names(store: Any) -> None:
    # Given a profile with an e-mail and an SMS opt-out
    store.save_profile(T, Profile(member_id="m1", email="a@example.com", consent={"sms": False}))
    # When an order names only the phone (in a commit), and a merchant only the name
    store.commit(T, Commit(member_id="m1", profile=Profile(member_id="m1", phone="+15550001")))
    store.save_profile(T, Profile(member_id="m1", name="Ann"))
    # Then every field written stays; channels never stored are on, the opt-out is kept
    consent = {"email": True, "sms": False, "call": True}
    assert store.load_member(T, "m1") == Member(
        Account.new("m1"),
        Profile(member_id="m1", email="a@example.com", phone="+15550001", name="Ann", birthday=None, consent=consent),
        True,
    )
    assert store.find_members(T, email="a@example.com") == ["m1"]
    assert store.find_members(T, phone="+15550001") == ["m1"]
    assert store.find_members("other", email="a@example.com") == []
    assert store.referred_by(T, code_of(T, "m1")) == ["m1"]


# -- orders and holds -------------------------------------------------------------------------------------------


def test_order_state_gathers_paid_redemption_refunds_and_referral(store: Any) -> None:
    scope = order_scope("o1")
    paid = paid_entry("o1", 1000)
    redeem = entry(scope, REDEEM, seq=2, delta=-20, details=RedeemDetails(hold_id="h1"))
    bonus = entry(scope, REFEREE, seq=3, delta=5)
    late = RefundRecord(
        order_id="o1",
        refund_id="r2",
        member_id="m1",
        amount_minor=300,
        refunded_minor=800,
        reversed_points=3,
        restored_points=1,
        created_at=NOW - YEAR,
        returned=(Returned("A", 1, 300),),
    )
    early = RefundRecord(
        order_id="o1",
        refund_id="r1",
        member_id="m1",
        amount_minor=500,
        refunded_minor=500,
        reversed_points=5,
        restored_points=2,
        created_at=NOW - YEAR,
        order_paid_at=NOW,
    )
    # Given the order's writes, the later refund first
    store.commit(T, Commit(member_id="m1", account=account(), expected_version=0, entries=(paid, redeem, bonus)))
    store.commit(T, Commit(member_id="m1", refund=late))
    store.commit(T, Commit(member_id="m1", refund=early))
    # When the order is loaded
    state = store.load_order(T, "o1")
    # Then each part is there; refunds by cumulative amount, stamped with the commit's time
    assert (state.paid, state.voided, state.referral) == (paid, False, (bonus,))
    assert (state.redemption.points, state.redemption.hold_id, state.redemption.member_id) == (20, "h1", "m1")
    assert state.redemption.lots == redeem.movement.lots
    stamped = replace(early, created_at=NOW, order_paid_at=None), replace(late, created_at=NOW)
    assert state.refunds == stamped
    assert store.load_order(T, "unknown").paid is None
    # And a refund id is a business key of the order
    with pytest.raises(Duplicate) as dup:
        store.commit(T, Commit(member_id="m1", refund=late))
    assert dup.value.key == business_key(scope, "REFUND#r2")


def test_a_voided_order_is_voided_and_unpaid(store: Any) -> None:
    store.commit(T, Commit(member_id="m1", void_order="o9"))
    state = store.load_order(T, "o9")
    assert (state.paid, state.voided, state.redemption, state.refunds) == (None, True, None, ())


def test_a_hold_record_reads_back_and_its_id_is_a_business_key(store: Any) -> None:
    hold = HoldRecord(
        hold_id="h1",
        member_id="m1",
        order_id="o1",
        points=30,
        discount_minor=500,
        expires_at=NOW + MINUTES_15,
        created_at=NOW,
    )
    # Given a hold written / Then it reads back; an unknown one is None; the same id again is a duplicate
    store.commit(T, Commit(member_id="m1", hold=hold))
    assert store.get_hold(T, "h1") == hold
    assert store.get_hold(T, "h2") is None
    with pytest.raises(Duplicate) as dup:
        store.commit(T, Commit(member_id="m1", hold=hold))
    assert dup.value.key == business_key(hold_scope("h1"), HOLD)


def test_the_order_hold_claim_admits_one_open_hold_across_members(store: Any) -> None:
    # Given no claim / When m1 holds / Then the claim is m1's
    assert store.hold_claim(T, "o1") is None
    store.commit(T, claim("h1", "m1"))
    assert store.hold_claim(T, "o1") == OrderHoldClaim("o1", "h1", "m1", NOW + MINUTES_15, "active")
    # When m2 holds the same order while m1's is active / Then a duplicate of the claim's key
    with pytest.raises(Duplicate) as dup:
        store.commit(T, claim("h2", "m2"))
    assert dup.value.key == hold_claim_key("o1")
    # When another hold ends the claim / Then a duplicate too: only its own hold may end it
    with pytest.raises(Duplicate):
        store.commit(T, claim("h9", "m2", "released"))
    # When m1 releases it / Then m2 may take it
    store.commit(T, claim("h1", "m1", "released"))
    store.commit(T, claim("h2", "m2"))
    # When m2's hold is captured / Then nobody holds the order again, m2 included
    store.commit(T, claim("h2", "m2", "captured"))
    for member in ("m1", "m2"):
        with pytest.raises(Duplicate):
            store.commit(T, claim("h3", member))
    assert store.hold_claim(T, "o1").status == "captured"


def test_an_expired_claim_is_takeable_and_the_members_own_is_replaceable(store: Any) -> None:
    # Given m1's claim of one minute
    store.commit(T, claim("h1", "m1", ttl=timedelta(minutes=1)))
    # When m1 holds again (its account refuses a second open hold, the claim does not) / Then it is m1's new hold
    store.commit(T, claim("h2", "m1", ttl=timedelta(minutes=1)))
    assert store.hold_claim(T, "o1").hold_id == "h2"
    # When the clock passes its TTL / Then m2 takes it
    clock.set_clock(lambda: NOW + timedelta(minutes=2))
    store.commit(T, claim("h3", "m2", ttl=timedelta(minutes=20)))
    assert store.hold_claim(T, "o1").member_id == "m2"


def test_the_abc_analysis_reads_paid_orders_and_their_refunds_of_a_period(store: Any) -> None:
    # Given an order paid at NOW (its PAID entry carries the cash paid) and a refund of it, and a class A member
    paid = paid_entry("o1", 1000)
    refund = RefundRecord(
        order_id="o1",
        refund_id="r1",
        member_id="m1",
        amount_minor=400,
        refunded_minor=400,
        reversed_points=2,
        restored_points=0,
        created_at=NOW,
        order_paid_at=NOW,
    )
    store.commit(
        T, Commit(member_id="m1", account=account(abc_class="A"), expected_version=0, entries=(paid,), refund=refund)
    )
    store.commit(T, Commit(member_id="m2", account=account("m2", abc_class="B"), expected_version=0))
    # When the period holds the payment / Then the order and its refund; outside it, nothing
    rows = store.paid_rows(T, NOW - timedelta(days=1), NOW)
    assert sorted(rows, key=lambda r: r.refund_id or "") == [PaidRow("o1", "m1", 1000), PaidRow("o1", "m1", 400, "r1")]
    assert store.paid_rows(T, NOW + timedelta(seconds=1), NOW + YEAR) == []
    assert store.vip_members(T) == ["m1"]


# -- the due indexes of the scheduled jobs -----------------------------------------------------------------------


def same_shard(count: int) -> tuple[int, list[str]]:
    """``count`` member ids of T that the due indexes put in one shard, and that shard."""
    shard = shard_of(member_pk(T, "m0"))
    return int(shard), [m for m in (f"m{n}" for n in range(2_000)) if shard_of(member_pk(T, m)) == shard][:count]


def test_due_pages_the_members_of_a_shard_oldest_first(store: Any) -> None:
    # Given three members of one shard whose lots expired 1, 3 and 2 hours ago, and one whose lot expires later
    shard, (a, b, c, later) = same_shard(4)
    for member_id, hours in ((a, -1), (b, -3), (c, -2), (later, 1)):
        lot = Lot(
            lot_id="1",
            points=5,
            remaining=5,
            source="order",
            earned_at=NOW - YEAR,
            available_at=NOW - YEAR,
            expires_at=NOW + timedelta(hours=hours),
        )
        store.commit(
            T,
            Commit(
                member_id=member_id, account=new_account(member_id, version=1, seq=1, lots=(lot,)), expected_version=0
            ),
        )
    # When the expiry job reads the shard two at a time
    first = store.due("expiry", shard, NOW, None, 2)
    second = store.due("expiry", shard, NOW, first.cursor, 2)
    # Then the due members come oldest first, the later one not at all
    assert first.keys + second.keys == [MemberKey(T, b), MemberKey(T, c), MemberKey(T, a)]
    assert second.cursor is None
    assert store.due("remind", shard, NOW, None, 2).keys == []


def test_birthday_due_walks_the_days_that_are_today_somewhere(store: Any) -> None:
    # Given a member born on 2 March, read at noon UTC on 2 March (02-03 and 03-03 are "today" somewhere)
    shard, (member_id,) = same_shard(1)
    store.save_profile(T, Profile(member_id=member_id, birthday="1990-03-02"))
    # When the shard is read day by day / Then the member on the first day, nobody on the second, and the end
    first = store.due("birthday", shard, NOW, None, 10)
    second = store.due("birthday", shard, NOW, first.cursor, 10)
    assert (first.keys, second.keys, second.cursor) == ([MemberKey(T, member_id)], [], None)


# -- history and expiry -----------------------------------------------------------------------------------------


def test_history_pages_newest_first_and_a_cursor_is_bound_to_its_member(store: Any) -> None:
    # Given five entries of m1 in its own and in orders' partitions, and one of m2
    entries = [entry(order_scope(f"o{n}") if n % 2 else member_scope("m1"), f"E{n}", seq=n) for n in range(1, 6)]
    store.commit(T, Commit(member_id="m1", account=account(version=1), expected_version=0, entries=tuple(entries)))
    store.commit(
        T,
        Commit(
            member_id="m2", account=account("m2"), expected_version=0, entries=(entry(member_scope("m2"), "E1", "m2"),)
        ),
    )
    # When m1's history is read two at a time
    first = store.history(T, "m1", 2, None)
    second = store.history(T, "m1", 2, first.cursor)
    third = store.history(T, "m1", 2, second.cursor)
    # Then newest first, every entry once, and the last page has no cursor
    assert [e.movement.seq for page in (first, second, third) for e in page.entries] == [5, 4, 3, 2, 1]
    assert third.cursor is None
    # When m2's history is read with m1's cursor, or a made-up one / Then 400 invalid_cursor
    for cursor in (first.cursor, "not-a-cursor"):
        with pytest.raises(BadRequest) as bad:
            store.history(T, "m2", 2, cursor)
        assert bad.value.code == "invalid_cursor"


def test_expired_since_reads_the_members_expire_entries_from_a_seq_on(store: Any) -> None:
    expiring = [entry(member_scope("m1"), expire_key(n), seq=n, delta=-n) for n in (2, 4, 6)]
    store.commit(T, Commit(member_id="m1", account=account(), expected_version=0, entries=tuple(expiring)))
    # Then the range starts at the given seq itself (the DynamoDB range is inclusive)
    assert [c.change for c in store.expired_since(T, "m1", 4)] == [-4, -6]
    assert store.expired_since(T, "m1", 7) == []


# -- notifications ----------------------------------------------------------------------------------------------


def test_a_notification_is_claimed_once_and_finished_by_its_claimant(store: Any) -> None:
    # Given no record / When two runs claim the same message / Then only the first wins
    assert store.claim_notification(T, notice(), None) is True
    assert store.claim_notification(T, notice(), None) is False
    # When the claimant writes the outcome / Then it is stored; a stale attempt's outcome is ignored
    store.finish_notification(T, notice("sent"))
    store.finish_notification(T, notice("failed", attempts=9))
    records = store.notifications(T, "m1", reminder_key("2026-05-01", 0, ""))
    assert records == {notice().key: notice("sent")}
    # When a retry claims over the stored status and attempt / Then it wins once; a stale previous loses
    assert store.claim_notification(T, notice(attempts=2), notice("sent")) is True
    assert store.claim_notification(T, notice(attempts=3), notice("sent")) is False
    assert store.notifications(T, "m1", reminder_key("2026-06-01", 0, "")) == {}
    # And the record is in the member's history at its seq
    assert store.history(T, "m1", 5, None).entries == [notice(attempts=2)]
