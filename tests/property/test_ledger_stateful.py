"""docs/spec.md §3 invariants over random sequences of order events and checkout holds, through the services.

A Hypothesis state machine drives ``OrderService`` and ``CheckoutService`` (what the webhook and the
checkout routes call) against moto, with the tables built from infra/. Every example starts from empty
tables and a fresh tenant with its own program (pending days, lot lifetime, minimum redemption, grace),
and two members who each start with the points of one paid order. The steps are paid orders (with or
without points, directly or through a hold, paid now or reported late: a ``paid_at`` up to past the lot
lifetime, whose lots are then born expired), holds, captures, releases, partial refunds, refunds above
the cash paid, cancellations (before and after payment), replays, clock moves (holds lapse, pending
points become available, lots expire) and the scheduled jobs (expiry, hold release, activation), each run twice.

After every step, for every member, read back from the store:
- available + held == remaining in spendable lots - debt; pending == remaining in pending lots;
- held == the points of the holds the test knows to be open (placed, neither captured nor released, not lapsed);
- balance shown == live lots - debt; stored balance == sum(remaining) - debt == sum of the history's deltas
  == what the applied events add up to less the expire entries (which only remove lots past their expiry);
- the history is gap-free, each balance_after follows from the entry before, and no redemption ever left a
  negative balance (only a reversal can create debt);
- lifetime spend == cash paid - cash refunded.
Per step: earning and refunds follow the formulas of §2/§3, the balance an order.paid, refund or
cancellation answers is the member view's right after (lots born expired left in the same write), a
refused input writes nothing, and replaying an applied input (order paid again under another event id,
refund or cancellation again, hold request or capture again) changes nothing and answers the first result.

Examples: ``HYPOTHESIS_EXAMPLES``, else 150 when ``CI`` is set (CI stays under 30 minutes), else 50.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import boto3
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from shared import clock
from shared.account import Account
from shared.container import container
from shared.errors import AppError
from shared.keys import member_pk, shard_of
from shared.ledger import MAX_OPEN_HOLDS
from shared.money import points_for, share_floor
from shared.orders import unitemised_target
from shared.records import EntryRecord
from shared.rules import Cart, Line, Standing, tier_for
from shared.services.checkout import HoldResult
from shared.services.orders import CustomerIn, OrderResult, PaidOrderIn
from shared.services.sweep import ShardTask
from shared.tenants import Tenant
from tests.aws import create_tables_from_infra
from tests.conftest import make_tenant

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "150" if os.environ.get("CI") else "50"))
MEMBERS = ("alice", "bob")
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
POINT_VALUE = 100
RATE_BP = 1_000  # 10 %: an order of 10000 minor earns 10 points
SHARE_BP = 5_000
HOLD_TTL_MINUTES = 15
CURRENCY = "RUB"
# Every docs/spec.md §8 rule that acts on a paid order (issue 5): the invariants must hold with all of them on
RULES = {
    "tiers": [
        {"name": "Bronze", "min_spend_minor": 0, "earn_rate_bp": RATE_BP},
        {"name": "Gold", "min_spend_minor": 300_000, "earn_rate_bp": 2 * RATE_BP, "discount_bp": 500},
    ],
    "min_check_minor": 5_000,
    "happy_hours": [
        {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "from": "12:00",
            "to": "18:00",
            "multiplier_bp": 15_000,
        }
    ],
    "category_multipliers": {"shoes": 25_000, "sale": 0},
    "combos": [{"skus": ["A", "B"], "bonus_points": 3}],
    "promotions": [
        {
            "id": "launch",
            "name": "Launch",
            "starts_at": START - timedelta(days=1),
            "ends_at": START + timedelta(days=20),
            "earn_rate_bp": 700,
            "lifetime_days": 5,
        }
    ],
    "post_purchase_boost": {"days": 10, "multiplier_bp": 20_000, "discount_bp": 500, "reminder_days_before_end": 3},
}
Snapshot = tuple[Account, int]  # the member's account item and the length of its history


@dataclass
class OrderModel:
    order_id: str
    member_id: str
    request: PaidOrderIn
    cash_paid: int
    earned: int
    redeemed: int
    balance: int | None  # what the order.paid answered
    refunded: int = 0
    reversed: int = 0
    restored: int = 0
    cancelled: bool = False
    refunds: list[str] = field(default_factory=list)
    item_points: int = 0  # the points its combos and categories gave
    returned: set[str] = field(default_factory=set)  # SKUs refunded by item


@dataclass
class HoldModel:
    hold_id: str
    member_id: str
    order_id: str
    points: int
    expires_at: datetime
    status: str = "open"  # open | captured | released | voided (an open hold past expires_at has lapsed; voided:
    # captured, then its order was cancelled before payment)
    captured: int = 0


def fresh_tables() -> None:
    """Empty tables for each example: moto's queries slow down as items pile up across examples."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    for name in client.list_tables()["TableNames"]:
        client.delete_table(TableName=name)
    create_tables_from_infra(client)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        fresh_tables()
        self.now = START
        clock.set_clock(lambda: self.now)
        self.orders: dict[str, OrderModel] = {}
        self.holds: dict[str, HoldModel] = {}
        self.lifetime: dict[str, int] = dict.fromkeys(MEMBERS, 0)
        self.balance: dict[str, int] = dict.fromkeys(MEMBERS, 0)  # what the applied events add up to
        self.seen: dict[str, Snapshot] = {}  # each member as the last invariant check read it
        self.histories: dict[str, list[EntryRecord]] = {}  # each member's history as last read, oldest first
        self.touched: set[str] = set()  # members the current step addressed: their history is re-read
        self.full_read = False  # read every member's whole history at the next check (after a clock move)
        self.ids = itertools.count()

    def teardown(self) -> None:
        clock.set_clock(None)

    # -- set-up ----------------------------------------------------------------------------------

    @initialize(
        pending_days=st.sampled_from([0, 0, 1, 3]),
        lifetime_days=st.sampled_from([3, 30, 365, 365]),
        min_redeem=st.sampled_from([1, 1, 5]),
        grace_days=st.sampled_from([0, 1, 30]),  # 0: points restored from an expired lot are born expired
        opening=st.tuples(st.integers(20_000, 500_000), st.integers(20_000, 500_000)),
        rules_on=st.booleans(),
    )
    def create_tenant(
        self,
        pending_days: int,
        lifetime_days: int,
        min_redeem: int,
        grace_days: int,
        opening: tuple[int, int],
        rules_on: bool,
    ) -> None:
        make_tenant(
            "prop",
            currency=CURRENCY,
            earn_rate_bp=RATE_BP,
            point_value_minor=POINT_VALUE,
            pending_days=pending_days,
            lifetime_days=lifetime_days,
            max_redeem_share_bp=SHARE_BP,
            min_redeem_points=min_redeem,
            hold_ttl_minutes=HOLD_TTL_MINUTES,
            restore_grace_days=grace_days,
            **(RULES if rules_on else {}),
        )
        self.rules_on = rules_on
        self.lifetime_days = lifetime_days
        tenant = container().tenants.get("prop")
        assert tenant is not None
        self.tenant: Tenant = tenant  # the program does not change within an example
        self.min_redeem = min_redeem
        # And each member starts with the points of one order (20 to 500), pending when the program says so
        for member_id, total in zip(MEMBERS, opening, strict=True):
            request = PaidOrderIn(
                order_id=self.new_id("o"),
                customer=CustomerIn(member_id=member_id),
                currency=CURRENCY,
                cart=self.cart(total),
                points_redeemed=0,
                hold_id=None,
                paid_at=self.now,
            )
            self.record_paid(request, self.paid(request))

    # -- helpers ---------------------------------------------------------------------------------

    def cart(self, total: int, shipping: int = 0) -> Cart:
        """With rules on, the goods come as three lines (shoes ×2.5, sale ×0, and a combo's two SKUs)."""
        if not self.rules_on:
            return Cart(total, shipping)
        goods = total - shipping
        lines = (Line("A", "shoes", 1, goods // 3), Line("B", "sale", 1, goods // 4))
        return Cart(total, shipping, lines=(*lines, Line("C", None, 2, goods - goods // 3 - goods // 4)))

    def account(self, member_id: str) -> Account:
        return container().orders.store.load_member(self.tenant.tenant_id, member_id).account

    def history(self, member_id: str, newest: int | None = None) -> list[EntryRecord]:
        """The member's history through the store (newest first, paged), oldest first; only the
        ``newest`` entries when given (entries are append-only, so older ones cannot have changed)."""
        store, cursor = container().orders.store, None
        entries: list[EntryRecord] = []
        while True:
            page = store.history(self.tenant.tenant_id, member_id, newest or 100, cursor)
            entries.extend(e for e in page.entries if isinstance(e, EntryRecord))  # no reminders run here
            if page.cursor is None or newest:
                return sorted(entries, key=lambda e: e.movement.seq)
            cursor = page.cursor

    def entry_count(self, member_id: str) -> int:
        """How many entries the member's history index holds (a COUNT query: cheap in moto)."""
        settings = container().settings
        return int(
            boto3.client("dynamodb", region_name=settings.region).query(
                TableName=settings.ledger_table,
                IndexName="history",
                KeyConditionExpression="hist_pk = :pk",
                ExpressionAttributeValues={":pk": {"S": member_pk(self.tenant.tenant_id, member_id)}},
                Select="COUNT",
            )["Count"]
        )

    def snapshot(self, member_id: str) -> Snapshot:
        return self.account(member_id), self.entry_count(member_id)

    def available(self, member_id: str) -> int:
        return self.seen[member_id][0].ledger.balances(self.now).available

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self.ids)}"

    def paid(self, request: PaidOrderIn) -> OrderResult:
        self.touched.add(request.customer.member_id)
        result = container().orders.paid(self.tenant, request, self.new_id("evt_"), self.now)
        if result.status == "applied":
            self.assert_answer_is_the_view(request.customer.member_id, result)
        return result

    def refunded(
        self, order: OrderModel, refund_id: str, amount: int | None, items: tuple[Line, ...] | None = None
    ) -> OrderResult:
        self.touched.add(order.member_id)
        result = container().orders.refunded(
            self.tenant, order.order_id, refund_id, amount, self.new_id("evt_"), self.now, items=items
        )
        if result.status == "applied":
            self.assert_answer_is_the_view(order.member_id, result)
        return result

    def assert_answer_is_the_view(self, member_id: str, result: OrderResult) -> None:
        """The balance an applied event answers is what the member view shows right after (issue 12 item 8)."""
        assert result.balance == self.account(member_id).ledger.balances(self.now).balance, result

    def paid_at(self, late: str) -> datetime:
        """When an order was paid: now, or reported late (within the lot lifetime, or past it: lots born expired)."""
        days = {"now": 0, "within": self.lifetime_days // 2, "beyond": self.lifetime_days + 1}[late]
        return self.now - timedelta(days=days)

    def expect_refused(self, member_id: str, call: Callable[[], object]) -> AppError | None:
        """Run ``call``; when it raises an AppError (a 4xx), the member must be exactly as before."""
        self.touched.add(member_id)
        try:
            call()
        except AppError as exc:
            assert exc.status < 500, exc
            assert self.snapshot(member_id) == self.seen[member_id], "a refused input wrote something"
            return exc
        return None

    def assert_unchanged(self, member_id: str) -> None:
        assert self.snapshot(member_id) == self.seen[member_id], "a replay changed something"

    def record_paid(self, request: PaidOrderIn, result: OrderResult, redeemed_before: bool = False) -> None:
        """Check an applied order.paid against the §2 formula and remember it (``redeemed_before``: its
        points were spent by an explicit capture earlier)."""
        assert result.status == "applied", result
        cart = request.cart
        cash = cart.total_minor - result.points_redeemed * POINT_VALUE
        eligible = max(0, cash - cart.shipping_minor - cart.tax_minor)
        item_points = 0
        if self.rules_on:  # the rules' lines add up to what was earned, and the first is the §2 formula at a rate
            details = container().orders.store.load_order("prop", request.order_id).paid.details  # type: ignore[union-attr]
            assert result.points_earned == sum(line["points"] for line in details.rules), details
            first = details.rules[0]
            assert first["points"] == (points_for(eligible, first["rate_bp"], POINT_VALUE) if "rate_bp" in first else 0)
            item_points = sum(line["points"] for line in details.rules if line["rule"] in ("combo", "category"))
        else:
            assert result.points_earned == points_for(eligible, RATE_BP, POINT_VALUE), result
        member_id = request.customer.member_id
        self.orders[request.order_id] = OrderModel(
            request.order_id,
            member_id,
            request,
            cash,
            result.points_earned,
            result.points_redeemed,
            result.balance,
            item_points=item_points,
        )
        self.lifetime[member_id] += cash
        self.balance[member_id] += result.points_earned - (0 if redeemed_before else result.points_redeemed)

    def record_refund(
        self, order: OrderModel, refund_id: str, amount: int | None, result: OrderResult, by_items: bool = False
    ) -> None:
        """Check an applied refund or cancellation against the cumulative share of §3 and remember it (a refund
        ``by_items`` takes what the kept goods would not have earned: only its bounds are checked here)."""
        assert result.status == "applied", result
        refunded_now = order.cash_paid - order.refunded if amount is None else amount
        order.refunded += refunded_now
        order.reversed += result.points_reversed
        order.restored += result.points_restored
        order.refunds.append(refund_id)
        order.cancelled = order.cancelled or amount is None
        self.lifetime[order.member_id] -= refunded_now
        self.balance[order.member_id] += result.points_restored - result.points_reversed
        full = amount is None or order.refunded == order.cash_paid
        # the earned points taken back so far are the floor of the cumulative share (with the points of the order's
        # items, combos and categories, first: a refund without items cannot say which went back), except those of
        # the order's own lots that already expired unspent (the member lost them once already)
        share = order.earned if full else share_floor(order.earned, order.refunded, order.cash_paid)
        if not full and order.item_points > 0:
            share = unitemised_target(order.earned, order.item_points, order.refunded, order.cash_paid)
        target = min(share, order.earned - self.expired_earned(order))
        if by_items and not full:
            assert 0 <= order.reversed <= order.earned, order
        else:
            assert order.reversed == max(order.reversed - result.points_reversed, target), (order, target)
        assert order.restored == (
            order.redeemed if full else share_floor(order.redeemed, order.refunded, order.cash_paid)
        )
        if self.rules_on:
            self.check_standing_after_refund(order, full)

    def check_standing_after_refund(self, order: OrderModel, full: bool) -> None:
        """The tier follows the spend left at once (lifetime basis), and a full refund ends the boost the order
        started while it still runs (issue 13 items 4 and 5)."""
        account = self.account(order.member_id)
        program = self.tenant.current.settings
        reached = tier_for(program, Standing(spend_minor=account.standing.lifetime_spend_minor))
        assert account.standing.tier == (reached.name if reached else None), account
        paid = container().orders.store.load_order("prop", order.order_id).paid
        started = paid.details.gained.boost_until if paid and paid.details.gained else None
        if full and started:
            assert account.standing.boost_until != started, account

    def expired_earned(self, order: OrderModel) -> int:
        """Points of the order's own lots removed by expire entries (read back from the history)."""
        history = self.history(order.member_id)
        paid = next(e for e in history if e.scope == f"ORDER#{order.order_id}" and e.key == "PAID")
        own = {change.lot_id for change in paid.movement.lots}
        expiries = [e for e in history if e.movement.kind == "expire"]
        return sum(-c.change for e in expiries for c in e.movement.lots if c.lot_id in own)

    def points_around_available(self, member_id: str, percent: int) -> int:
        """Points near the member's available balance (above it past 100 %), at least 1."""
        return max(1, max(0, self.available(member_id)) * percent // 100)

    def holds_in(self, *statuses: str) -> list[HoldModel]:
        return [h for h in self.holds.values() if h.status in statuses]

    # -- paying and holding ----------------------------------------------------------------------

    @rule(
        member_id=st.sampled_from(MEMBERS),
        total=st.integers(1, 400_000),
        shipping_share=st.integers(0, 3),
        redeem_percent=st.sampled_from([0, 0, 10, 50, 100, 101, 150]),
        late=st.sampled_from(["now", "now", "within", "beyond"]),
    )
    def pay_order(self, member_id: str, total: int, shipping_share: int, redeem_percent: int, late: str) -> None:
        # Given a paid order, maybe paying part with points directly (no hold), within the 50 % share, maybe
        # reported late (past the lot lifetime: what it earns is born expired)
        shipping = total * shipping_share // 10
        goods_cap = (total - shipping) * SHARE_BP // (10_000 * POINT_VALUE)
        redeem = min(self.points_around_available(member_id, redeem_percent), goods_cap) if redeem_percent else 0
        cart = self.cart(total, shipping)
        request = PaidOrderIn(
            order_id=self.new_id("o"),
            customer=CustomerIn(member_id=member_id),
            currency=CURRENCY,
            cart=cart,
            points_redeemed=redeem,
            hold_id=None,
            paid_at=self.paid_at(late),
        )
        expected = self.direct_redemption_refusal(member_id, redeem) if redeem else None  # a debt never blocks earning
        # When it arrives
        refused = self.expect_refused(member_id, lambda: self.record_paid(request, self.paid(request)))
        # Then it is applied exactly when the redemption is at least the minimum and within the available points
        event(f"pay (redeem={bool(redeem)}, paid {late}): {refused.code if refused else 'applied'}")
        assert (refused.code if refused else None) == expected, refused

    def direct_redemption_refusal(self, member_id: str, points: int) -> str | None:
        """Why spending ``points`` without a hold must be refused (§4: at least min_redeem_points, at most
        what is available), or None."""
        if points < self.min_redeem:
            return "below_minimum"
        if points > self.available(member_id):
            return "insufficient_points"
        return None

    @rule(
        member_id=st.sampled_from(MEMBERS),
        percent=st.sampled_from([1, 10, 50, 100, 101, 200]),
        with_cart=st.booleans(),
    )
    def place_hold(self, member_id: str, percent: int, with_cart: bool) -> None:
        # Given a checkout for a new order, with or without the cart
        order_id = self.new_id("o")
        points = self.points_around_available(member_id, percent)
        cart = Cart(points * POINT_VALUE * 2) if with_cart else None  # the 50 % share allows exactly `points`
        account = self.seen[member_id][0]
        too_many = len([h for h in account.ledger.holds if h.active(self.now)]) >= MAX_OPEN_HOLDS
        result: list[HoldResult] = []
        # When the points are held
        refused = self.expect_refused(
            member_id,
            lambda: result.append(container().checkout.hold(self.tenant, member_id, order_id, points, cart, self.now)),
        )
        # Then the hold is granted exactly when allowed: at least the minimum, at most what is available
        event(f"hold: {refused.code if refused else 'placed'}")
        allowed = self.min_redeem <= points <= self.available(member_id) and not too_many
        assert (refused is None) == allowed, (refused, points)
        if result:
            (hold,) = result
            assert (hold.points, hold.discount_minor, hold.status) == (points, points * POINT_VALUE, "active")
            assert hold.expires_at == self.now + timedelta(minutes=HOLD_TTL_MINUTES)
            self.holds[hold.hold_id] = HoldModel(hold.hold_id, member_id, order_id, points, hold.expires_at)

    @precondition(lambda self: bool(self.holds_in("open")))
    @rule(data=st.data(), quarters=st.integers(1, 4))
    def capture_hold(self, data: st.DataObject, quarters: int) -> None:
        # Given a hold the test placed (maybe lapsed by now)
        hold = data.draw(st.sampled_from(self.holds_in("open")))
        points = max(1, hold.points * quarters // 4)
        active = self.now < hold.expires_at
        enough = points <= self.available(hold.member_id) + hold.points  # its own points count for it
        # When it is captured for all or part of its points
        captured: list[HoldResult] = []
        refused = self.expect_refused(
            hold.member_id,
            lambda: captured.append(container().checkout.capture(self.tenant, hold.hold_id, points, self.now)),
        )
        event(f"capture (active={active}): {refused.code if refused else 'captured'}")
        if not active:
            # Then a lapsed hold is a conflict
            assert refused is not None and refused.code == "hold_not_active", refused
            hold.status = "released"
            return
        # Then an active hold is captured, unless a debt arisen since the hold makes the balance too small
        assert (refused is None) == enough, refused
        if refused is None:
            assert (captured[0].status, captured[0].points) == ("captured", points)
            hold.status, hold.captured = "captured", points
            self.balance[hold.member_id] -= points
        else:
            assert refused.code == "insufficient_points", refused

    @precondition(lambda self: bool(self.holds_in("open")))
    @rule(data=st.data())
    def release_hold(self, data: st.DataObject) -> None:
        # Given an open hold (maybe lapsed)
        hold = data.draw(st.sampled_from(self.holds_in("open")))
        self.touched.add(hold.member_id)
        # When released, then it answers "released" and its points are free again
        result = container().checkout.release(self.tenant, hold.hold_id, self.now)
        assert result.status == "released"
        hold.status = "released"

    @precondition(lambda self: any(h.order_id not in self.orders and h.status != "voided" for h in self.holds.values()))
    @rule(
        data=st.data(),
        extra=st.integers(0, 200_000),
        fewer=st.booleans(),
        late=st.sampled_from(["now", "now", "within", "beyond"]),
    )
    def pay_order_with_hold(self, data: st.DataObject, extra: int, fewer: bool, late: str) -> None:
        # Given a hold (open, lapsed, captured or released) whose order is not paid yet
        hold = data.draw(
            st.sampled_from([h for h in self.holds.values() if h.order_id not in self.orders and h.status != "voided"])
        )
        points = max(1, hold.points // 2) if fewer else 0  # 0: "use the hold's points"
        wanted = points or hold.points
        request = PaidOrderIn(
            order_id=hold.order_id,
            customer=CustomerIn(member_id=hold.member_id),
            currency=CURRENCY,
            cart=self.cart(hold.points * POINT_VALUE * 2 + extra),
            points_redeemed=points,
            hold_id=hold.hold_id,
            paid_at=self.paid_at(late),
        )
        active = hold.status == "open" and self.now < hold.expires_at
        if hold.status == "captured":  # the captured points pay for it
            expected = None
        elif active:  # the hold is captured now; its own points count for it
            enough = wanted <= self.available(hold.member_id) + hold.points
            expected = None if enough else "insufficient_points"
        else:  # the hold lapsed or was released: the points are spent directly
            expected = self.direct_redemption_refusal(hold.member_id, wanted)
        # When the order is paid naming the hold
        applied: list[OrderResult] = []
        refused = self.expect_refused(hold.member_id, lambda: applied.append(self.paid(request)))
        event(f"pay with {hold.status} hold (active={active}, paid {late}): {refused.code if refused else 'applied'}")
        # Then it is applied unless the points are gone (hold lapsed and spent elsewhere, or a debt)
        assert (refused.code if refused else None) == expected, (refused, hold, wanted)
        if refused is not None:
            return
        # And it carries the captured points, else the requested ones (a smaller capture releases the rest)
        (result,) = applied
        assert result.points_redeemed == (hold.captured if hold.status == "captured" else wanted), result
        self.record_paid(request, result, redeemed_before=hold.status == "captured")
        if active:
            hold.status, hold.captured = "captured", wanted

    # -- refunds and cancellations ---------------------------------------------------------------

    @precondition(lambda self: bool(self.orders))
    @rule(data=st.data(), percent=st.sampled_from([1, 10, 33, 50, 100, 100, 101, 150]))
    def refund_order(self, data: st.DataObject, percent: int) -> None:
        # Given a paid order (maybe partly refunded, maybe cancelled)
        order = data.draw(st.sampled_from(list(self.orders.values())))
        left = order.cash_paid - order.refunded
        amount = max(1, left * percent // 100)
        refund_id = self.new_id("r")
        # When a refund arrives (past 100 %: more than the cash left)
        result: list[OrderResult] = []
        refused = self.expect_refused(order.member_id, lambda: result.append(self.refunded(order, refund_id, amount)))
        event(f"refund {percent}%: {refused.code if refused else result[0].status}")
        if order.cancelled:
            # Then after a cancellation it is acknowledged and changes nothing
            assert refused is None and result[0].status == "ignored", (refused, result)
            self.assert_unchanged(order.member_id)
        elif amount > left:
            # Then more than the cash paid is refused
            assert refused is not None and refused.code == "refund_exceeds_paid", refused
        else:
            # Then the cumulative share is reversed and restored
            assert refused is None, refused
            self.record_refund(order, refund_id, amount, result[0])

    @precondition(lambda self: bool(self.item_refundable()))
    @rule(data=st.data(), sku=st.sampled_from(["A", "B", "C"]))
    def refund_an_item(self, data: st.DataObject, sku: str) -> None:
        # Given a paid order with lines (rules on), not cancelled, whose line ``sku`` was not returned yet
        order = data.draw(st.sampled_from(self.item_refundable()))
        line = next(line for line in order.request.cart.lines if line.sku == sku)
        if sku in order.returned:
            return
        amount = min(line.amount_minor, order.cash_paid - order.refunded)
        if amount <= 0:
            return
        # When that line is refunded, naming it
        refund_id = self.new_id("r")
        result = self.refunded(order, refund_id, amount, items=(line,))
        event(f"refund item {sku}: {result.status}")
        # Then it is applied: what it takes back stays within what the order earned, the spent points by the share
        self.record_refund(order, refund_id, amount, result, by_items=True)
        order.returned.add(sku)

    def item_refundable(self) -> list[OrderModel]:
        return [
            o for o in self.orders.values() if not o.cancelled and o.request.cart.lines and o.refunded < o.cash_paid
        ]

    @rule(data=st.data(), before_payment=st.booleans(), member_id=st.sampled_from(MEMBERS))
    def cancel_order(self, data: st.DataObject, before_payment: bool, member_id: str) -> None:
        open_orders = [o for o in self.orders.values() if not o.cancelled]
        if open_orders and not before_payment:
            # Given a paid order (maybe partly refunded), when it is cancelled
            order = data.draw(st.sampled_from(open_orders))
            # Then everything left is reversed and restored
            self.record_refund(order, "CANCEL", None, self.refunded(order, "CANCEL", None))
            return
        # Given an order cancelled before its payment was reported
        order_id = self.new_id("o")
        cancelled = container().orders.refunded(self.tenant, order_id, "CANCEL", None, None, self.now)
        assert cancelled.status == "applied", cancelled
        # When the late order.paid arrives, then it is ignored and writes nothing
        request = PaidOrderIn(
            order_id=order_id,
            customer=CustomerIn(member_id=member_id),
            currency=CURRENCY,
            cart=self.cart(100_000),
            points_redeemed=0,
            hold_id=None,
            paid_at=self.now,
        )
        assert self.paid(request).status == "ignored"
        self.assert_unchanged(member_id)

    @precondition(lambda self: bool(self.captured_unpaid()))
    @rule(data=st.data())
    def cancel_captured_before_payment(self, data: st.DataObject) -> None:
        # Given a hold captured for an order whose payment was never reported
        hold = data.draw(st.sampled_from(self.captured_unpaid()))
        self.touched.add(hold.member_id)
        # When the order is cancelled, then the captured points come back to the hold's member
        result = container().orders.refunded(self.tenant, hold.order_id, "CANCEL", None, None, self.now)
        assert (result.status, result.reason, result.points_restored) == (
            "applied",
            "cancelled_before_payment",
            hold.captured,
        ), result
        assert result.balance == self.account(hold.member_id).ledger.balances(self.now).balance, result
        self.balance[hold.member_id] += hold.captured
        hold.status = "voided"

    def captured_unpaid(self) -> list[HoldModel]:
        return [h for h in self.holds_in("captured") if h.order_id not in self.orders]

    # -- replays ---------------------------------------------------------------------------------

    @precondition(lambda self: bool(self.orders))
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        # Given an input already applied: an order, a refund or cancellation, a held or captured hold
        replays: list[Callable[[], None]] = [self.replay_paid(o) for o in self.orders.values()]
        replays += [self.replay_refund(o, r) for o in self.orders.values() for r in o.refunds]
        replays += [self.replay_hold(h) for h in self.holds_in("open", "captured")]
        replays += [self.replay_void(h) for h in self.holds_in("voided")]
        # When it is delivered again, then it answers like the first time and changes nothing
        data.draw(st.sampled_from(replays))()

    def replay_paid(self, order: OrderModel) -> Callable[[], None]:
        def run() -> None:
            result = self.paid(order.request)  # under a new event id
            assert (result.status, result.points_earned, result.points_redeemed, result.balance) == (
                "duplicate",
                order.earned,
                order.redeemed,
                order.balance,
            ), result
            self.assert_unchanged(order.member_id)

        return run

    def replay_refund(self, order: OrderModel, refund_id: str) -> Callable[[], None]:
        def run() -> None:
            amount = None if refund_id == "CANCEL" else 1  # the refund id alone identifies the effect
            assert self.refunded(order, refund_id, amount).status == "duplicate"
            self.assert_unchanged(order.member_id)

        return run

    def replay_void(self, hold: HoldModel) -> Callable[[], None]:
        def run() -> None:
            self.touched.add(hold.member_id)
            again = container().orders.refunded(self.tenant, hold.order_id, "CANCEL", None, None, self.now)
            assert (again.status, again.reason) == ("ignored", "order_cancelled"), again
            paid = PaidOrderIn(
                order_id=hold.order_id,
                customer=CustomerIn(member_id=hold.member_id),
                currency=CURRENCY,
                cart=self.cart(100_000),
                points_redeemed=0,
                hold_id=hold.hold_id,
                paid_at=self.now,
            )
            assert self.paid(paid).status == "ignored"
            self.assert_unchanged(hold.member_id)

        return run

    def replay_hold(self, hold: HoldModel) -> Callable[[], None]:
        def run() -> None:
            checkout = container().checkout
            if hold.status == "captured":
                again = checkout.capture(self.tenant, hold.hold_id, None, self.now)
                assert (again.status, again.points) == ("captured", hold.captured)
                refused = self.expect_refused(
                    hold.member_id, lambda: checkout.release(self.tenant, hold.hold_id, self.now)
                )
                assert refused is not None and refused.code == "hold_captured", refused
            elif self.now < hold.expires_at:  # the same hold request again answers the same hold
                again = checkout.hold(self.tenant, hold.member_id, hold.order_id, hold.points, None, self.now)
                assert again.hold_id == hold.hold_id
            self.assert_unchanged(hold.member_id)

        return run

    # -- time ------------------------------------------------------------------------------------

    @rule(
        step=st.sampled_from(
            [timedelta(minutes=1), timedelta(minutes=16), timedelta(days=1), timedelta(days=4), timedelta(days=31)]
        ),
        then=st.sampled_from([None, None, "expire", "release-holds", "activate-pending"]),
    )
    def advance_clock(self, step: timedelta, then: str | None) -> None:
        # When time passes: holds lapse, pending lots become available, lots expire (and maybe a job runs then)
        self.now += step
        self.full_read = True
        if then is not None:
            self.run_scheduled_job(then)

    # -- scheduled jobs --------------------------------------------------------------------------

    @rule(job=st.sampled_from(["expire", "release-holds", "activate-pending"]))
    def run_scheduled_job(self, job: str) -> None:
        # When a scheduled job sweeps the members' shards at "now" (expire: entries for lots past expiry;
        # release-holds: lapsed holds leave the account; activate-pending: an activate entry, delta 0)
        shards = sorted({int(shard_of(member_pk(self.tenant.tenant_id, m))) for m in MEMBERS})
        first = [
            container().sweeper.run(ShardTask(job=job, shard=s, now=self.now, run_id="prop"), lambda: 60.0)
            for s in shards
        ]
        assert all(r.errors == 0 and r.handed_on is None for r in first), first
        event(f"{job}: {sum(r.changed for r in first)} changed")
        # Then running it again at the same "now" finds nothing left to do
        again = [
            container().sweeper.run(ShardTask(job=job, shard=s, now=self.now, run_id="prop"), lambda: 60.0)
            for s in shards
        ]
        assert sum(r.changed for r in again) == 0, again
        self.full_read = True

    # -- invariants ------------------------------------------------------------------------------

    @invariant()
    def ledger_is_consistent(self) -> None:
        for member_id in MEMBERS:
            self.check_member(member_id)
        self.touched.clear()
        self.full_read = False

    def check_member(self, member_id: str) -> None:
        now = self.now
        if member_id in self.touched or member_id not in self.seen or self.full_read:
            # read back what the step may have changed: the account and the entries added since the last read
            # (all of them after a clock move, which must equal what was read before: entries never change);
            # a member no step addressed is re-checked from the last read, and a stray write to it shows up
            # at its next read
            account = self.account(member_id)
            known = self.histories.get(member_id, [])
            if self.full_read:
                history = self.history(member_id)
                assert history[: len(known)] == known, "an entry changed"
            else:
                added = account.ledger.seq - (known[-1].movement.seq if known else 0)
                assert added >= 0, "the entry sequence went back"
                history = known + (self.history(member_id, newest=added) if added else [])
            self.histories[member_id] = history
            self.seen[member_id] = (account, self.entry_count(member_id))
            assert self.seen[member_id][1] == len(history), "an entry outside the account's sequence"
        account, history = self.seen[member_id][0], self.histories[member_id]
        balances = account.ledger.balances(now)
        lots = account.ledger.lots
        spendable = sum(lot.remaining for lot in lots if lot.available_at <= now < lot.expires_at)
        pending = sum(lot.remaining for lot in lots if now < lot.available_at and now < lot.expires_at)
        known_held = sum(h.points for h in self.holds_in("open") if h.member_id == member_id and now < h.expires_at)
        # available + held == spendable - debt; pending == remaining in pending lots; held == open holds
        assert balances.available + balances.held == spendable - account.ledger.debt
        assert balances.pending == pending
        assert balances.held == known_held
        assert account.ledger.debt >= 0
        assert all(0 < lot.remaining <= lot.points for lot in lots)
        # the member view's lots: every open lot (pending or spendable), soonest-expiring first
        open_lots = account.ledger.open_lots(now)
        assert [(lot.expires_at, lot.lot_id) for lot in open_lots] == sorted(
            (x.expires_at, x.lot_id) for x in open_lots
        )
        assert sum(lot.remaining for lot in open_lots) == spendable + pending
        # the balance shown == live lots - debt; the stored balance == sum(remaining) - debt == sum of the
        # history's deltas == what the applied events add up to, less what expired
        assert balances.balance == spendable + pending - account.ledger.debt
        assert account.ledger.balance == sum(lot.remaining for lot in lots) - account.ledger.debt
        assert account.ledger.balance == sum(e.movement.delta for e in history)
        expired = [e for e in history if e.movement.kind == "expire"]
        assert account.ledger.balance == self.balance[member_id] + sum(e.movement.delta for e in expired)
        # an expiry only removes points of lots whose time had come
        for entry in expired:
            assert all(c.change < 0 and c.expires_at <= entry.created_at for c in entry.movement.lots), entry
        # the history is complete and each balance_after follows from the entry before
        assert [e.movement.seq for e in history] == list(range(1, account.ledger.seq + 1))
        running = 0
        for entry in history:
            running += entry.movement.delta
            assert entry.movement.balance_after == running, entry
            # a redemption never makes the balance negative
            if entry.movement.kind == "redeem":
                assert entry.movement.balance_after >= 0, entry
        # lifetime spend == cash paid - cash refunded
        assert account.standing.lifetime_spend_minor == self.lifetime[member_id]


def run_against_the_emulator(machine: type[RuleBasedStateMachine], examples: int, steps: int) -> None:
    """A state machine over moto's DynamoDB: slow steps and a function-scoped ``aws`` fixture are expected."""
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )


def test_ledger_invariants_hold_over_random_event_sequences(aws: None) -> None:
    # Given emulated DynamoDB (fresh tables per example), when random sequences run, then every invariant holds
    run_against_the_emulator(LedgerMachine, EXAMPLES, 16)
