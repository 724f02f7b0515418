"""Checkout redemption (docs/spec.md §4): quote, hold, capture, release.

A hold is a reservation inside the member's account (so the balance check and the reservation
are one conditional write) plus a small hold record that lets capture/release find the member
from the hold id alone. Capture writes the account and the order's REDEEM entry: one
transaction, two items.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from shared.entry_details import RedeemDetails
from shared.errors import Conflict, NotFound, Unprocessable
from shared.hold_codes import new_hold_id
from shared.keys import REDEEM, hold_claim_key, order_scope
from shared.ledger import Hold, capture, place_hold, release_hold
from shared.orders import max_redeemable
from shared.ports import Duplicate
from shared.records import EntryRecord, HoldRecord, OrderHoldClaim
from shared.rules import Cart, discounts, earn
from shared.services.member_write import Change, Loaded, MemberWrite
from shared.services.store import LedgerStore
from shared.standing import standing_of
from shared.tenants import Tenant


@dataclass(frozen=True, kw_only=True)
class Quote:
    available: int
    max_redeemable_points: int
    max_discount_minor: int
    points_to_earn: int
    points_to_earn_at_max_redeem: int
    tier: str | None = None
    tier_discount_minor: int = 0  # the tier's (or VIP's) discount program on this cart
    boost_discount_minor: int = 0  # the post-purchase boost's one-time discount, while it runs


@dataclass(frozen=True, kw_only=True)
class HoldResult:
    hold_id: str
    order_id: str
    member_id: str
    points: int
    discount_minor: int
    expires_at: datetime
    status: str  # active | captured | released


class CheckoutService:
    def __init__(self, store: LedgerStore, attempts: int) -> None:
        self.store = store
        self.writes = MemberWrite(store, attempts)

    def quote(self, tenant: Tenant, member_id: str, currency: str, cart: Cart, now: datetime) -> Quote:
        program = tenant.program_at(now).settings
        if currency != program.currency:
            raise Unprocessable(f"carts must be in {program.currency}", code="currency_mismatch")
        account = self.store.load_member(tenant.tenant_id, member_id).account
        available = max(0, account.ledger.balances(now).available)
        points = max_redeemable(cart, available, program)
        standing = standing_of(account.standing, program, now)
        earning = earn(cart, 0, program, standing, now)
        off = discounts(cart, program, standing)
        return Quote(
            available=available,
            max_redeemable_points=points,
            max_discount_minor=points * program.point_value_minor,
            points_to_earn=earning.total_points,
            points_to_earn_at_max_redeem=earn(cart, points, program, standing, now).total_points,
            tier=earning.tier,
            tier_discount_minor=off.tier_discount_minor,
            boost_discount_minor=off.boost_discount_minor,
        )

    def hold(
        self, tenant: Tenant, member_id: str, order_id: str, points: int, cart: Cart | None, now: datetime
    ) -> HoldResult:
        program = tenant.program_at(now).settings
        if points < program.min_redeem_points:
            raise Unprocessable(f"at least {program.min_redeem_points} points per redemption", code="below_minimum")
        if cart is not None and points > max_redeemable(cart, points, program):  # the share cap alone
            cap = max_redeemable(cart, 10**15, program)
            raise Unprocessable(f"at most {cap} points may pay for this cart", code="exceeds_redeem_share")
        discount = points * program.point_value_minor
        expires_at = now + timedelta(minutes=program.hold_ttl_minutes)
        hold_id = new_hold_id()

        def step(loaded: Loaded) -> Change[HoldResult]:
            ledger = loaded.account.ledger
            existing = next((h for h in ledger.holds if h.order_id == order_id and h.active(now)), None)
            if existing is not None and existing.points == points:  # the same request again
                same = HoldResult(hold_id=existing.hold_id, order_id=order_id, member_id=member_id, points=points,
                                  discount_minor=discount, expires_at=existing.expires_at, status="active")  # fmt: skip
                return Change(result=same)
            hold = Hold(hold_id=hold_id, order_id=order_id, points=points, expires_at=expires_at)
            account = loaded.account.with_ledger(place_hold(ledger, hold, now))
            record = HoldRecord(
                hold_id=hold_id,
                member_id=member_id,
                order_id=order_id,
                points=points,
                discount_minor=discount,
                expires_at=expires_at,
                created_at=now,
            )
            claim = OrderHoldClaim(order_id, hold_id, member_id, expires_at, "active")
            placed = HoldResult(hold_id=hold_id, order_id=order_id, member_id=member_id, points=points,
                                discount_minor=discount, expires_at=expires_at, status="active")  # fmt: skip
            return Change(result=placed, account=account, hold=record, claim=claim)

        def duplicate(dup: Duplicate) -> HoldResult | None:
            if dup.key == hold_claim_key(order_id):
                _refuse_taken_order(self.store.hold_claim(tenant.tenant_id, order_id), member_id, now)
            return None  # the claim was freed meanwhile, or a hold id retry: recompute

        return self.writes.apply(tenant, member_id, step, now, on_duplicate=duplicate)

    def capture(self, tenant: Tenant, hold_id: str, points: int | None, now: datetime) -> HoldResult:
        hold = self._hold(tenant, hold_id)
        point_value = tenant.program_at(now).settings.point_value_minor

        def step(loaded: Loaded) -> Change[HoldResult]:
            state = self.store.load_order(tenant.tenant_id, hold.order_id)
            if state.redemption is not None:
                _same_capture(state.redemption.points, points)
                return Change(
                    result=self._captured(hold, state.redemption.hold_id, state.redemption.points, point_value)
                )
            if state.paid is not None or state.voided:  # points spent now would be on no order's record
                code = "order_cancelled" if state.voided else "order_already_paid"
                raise Conflict("the order was paid or cancelled without these points; release the hold", code=code)
            wanted = hold.points if points is None else points
            ledger, movement = capture(loaded.account.ledger, hold_id, wanted, now)
            entry = EntryRecord(scope=order_scope(hold.order_id), key=REDEEM, member_id=hold.member_id, movement=movement, reference=hold.order_id, created_at=now,
                                event_id=None, details=RedeemDetails(hold_id=hold_id))  # fmt: skip
            captured = replace(_result(hold, "captured"), points=wanted, discount_minor=wanted * point_value)
            return Change(
                result=captured,
                account=loaded.account.with_ledger(ledger),
                entries=(entry,),
                claim=_ended(hold, "captured"),
            )

        def duplicate(_: Duplicate) -> HoldResult | None:
            redemption = self.store.load_order(tenant.tenant_id, hold.order_id).redemption
            if redemption is None:
                return None
            _same_capture(redemption.points, points)
            return self._captured(hold, redemption.hold_id, redemption.points, point_value)

        return self.writes.apply(tenant, hold.member_id, step, now, on_duplicate=duplicate)

    def release(self, tenant: Tenant, hold_id: str, now: datetime) -> HoldResult:
        hold = self._hold(tenant, hold_id)

        def step(loaded: Loaded) -> Change[HoldResult]:
            if loaded.member.account.ledger.active_hold(hold_id, now) is None:
                redemption = self.store.load_order(tenant.tenant_id, hold.order_id).redemption
                if redemption is not None and redemption.hold_id == hold_id:
                    raise Conflict("the hold was captured; refund the order instead", code="hold_captured")
                return Change(result=_result(hold, "released"))  # released or expired already: nothing to do
            account = loaded.account.with_ledger(release_hold(loaded.account.ledger, hold_id, now))
            return Change(result=_result(hold, "released"), account=account, claim=_ended(hold, "released"))

        return self.writes.apply(tenant, hold.member_id, step, now)

    def _hold(self, tenant: Tenant, hold_id: str) -> HoldRecord:
        hold = self.store.get_hold(tenant.tenant_id, hold_id)
        if hold is None:
            raise NotFound("no such hold", code="hold_not_found")
        return hold

    @staticmethod
    def _captured(hold: HoldRecord, captured_by: str | None, points: int, point_value: int) -> HoldResult:
        if captured_by != hold.hold_id:
            raise Conflict("the order's points were already redeemed by another hold", code="hold_not_active")
        return replace(_result(hold, "captured"), points=points, discount_minor=points * point_value)


def _result(hold: HoldRecord, status: str) -> HoldResult:
    return HoldResult(
        hold_id=hold.hold_id,
        order_id=hold.order_id,
        member_id=hold.member_id,
        points=hold.points,
        discount_minor=hold.discount_minor,
        expires_at=hold.expires_at,
        status=status,
    )


def _ended(hold: HoldRecord, status: Literal["captured", "released"]) -> OrderHoldClaim:
    return OrderHoldClaim(hold.order_id, hold.hold_id, hold.member_id, hold.expires_at, status)


def _refuse_taken_order(claim: OrderHoldClaim | None, member_id: str, now: datetime) -> None:
    """One open hold per order (decision 58): a second checkout for the order, by any member, is refused while the
    first hold is open, and every hold once the order's points were captured."""
    if claim is None:
        return
    if claim.status == "captured":
        raise Conflict(
            "the order's points were already redeemed; refund the order instead", code="order_already_redeemed"
        )
    if claim.status == "active" and claim.member_id != member_id and claim.expires_at > now:
        raise Conflict(
            f"order has an open hold until {claim.expires_at:%Y-%m-%dT%H:%M:%SZ}; capture or release it first",
            code="hold_exists",
        )


def _same_capture(captured: int, asked: int | None) -> None:
    """A capture again with the same body answers the first result; with other points it is a conflict (the
    points of the first capture were spent: the caller must not believe the new ones were)."""
    if asked is not None and asked != captured:
        raise Conflict(f"the hold was captured for {captured} points", code="capture_differs")
