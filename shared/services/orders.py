"""Order events (docs/spec.md §3, §5): accrual on payment, proportional reversal on refund or cancel.

Each event is applied in one transaction whose keys are the business keys (``ORDER#id/PAID``,
``ORDER#id/REFUND#rid``), so a replay or a second delivery under another event id finds the
key taken and answers with the first result instead of applying twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from shared.clock import iso, parse_ts
from shared.errors import NotFound, Unprocessable
from shared.hold_codes import hold_id_for
from shared.keys import CANCEL_RESTORE, PAID, REDEEM, order_scope, refund_key
from shared.ledger import Account, EntryKind, LotChange, Movement, capture, credit, reverse, spend
from shared.orders import (
    OrderRecord,
    RefundTotals,
    earn_credits,
    max_redeemable,
    plan_refund,
    restore_credits,
)
from shared.ports import Duplicate
from shared.program import ProgramSettings
from shared.records import Commit, EntryRecord, HoldRecord, Member, OrderHoldClaim, OrderState, Profile, RefundRecord
from shared.rules import Cart, Earning, Line, earn
from shared.services.referrals import Referee, Referrals
from shared.services.returns import item_points, recorded_lines, recorded_standing, reverse_target
from shared.services.store import LedgerStore, bumped, expire_born, expire_due, with_retries
from shared.standing import Gained, after_paid, after_refund, month_key, standing_of
from shared.tenants import Tenant


@dataclass(frozen=True)
class CustomerIn:
    member_id: str
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    birthday: str | None = None
    referral_code: str | None = None


@dataclass(frozen=True)
class PaidOrderIn:
    order_id: str
    customer: CustomerIn
    currency: str
    cart: Cart
    points_redeemed: int
    hold_id: str | None
    paid_at: datetime
    hold_code: str | None = None  # a platform order's discount code that may name one of our holds
    code_owner: str | None = None  # set when that hold is another member's (the code was passed on)


@dataclass(frozen=True)
class OrderResult:
    status: str  # applied | duplicate | ignored
    order_id: str
    member_id: str | None = None
    points_earned: int = 0
    points_redeemed: int = 0
    points_reversed: int = 0
    points_restored: int = 0
    balance: int | None = None
    reason: str | None = None


def _zero(account: Account, kind: EntryKind) -> tuple[Account, Movement]:
    """An entry with no points (an order below the earning threshold is still on record)."""
    seq = account.seq + 1
    return replace(account, seq=seq), Movement(kind, 0, seq, account.balance)


def order_record(paid: EntryRecord, state: OrderState) -> OrderRecord:
    d = paid.details
    lots = state.redemption.lots if state.redemption else ()
    return OrderRecord(
        order_id=d["order_id"],
        member_id=paid.member_id,
        currency=d["currency"],
        total_minor=d["total_minor"],
        shipping_minor=d["shipping_minor"],
        tax_minor=d["tax_minor"],
        points_redeemed=d["points_redeemed"],
        point_value_minor=d["point_value_minor"],
        earn_rate_bp=d["earn_rate_bp"],
        eligible_minor=d["eligible_minor"],
        points_earned=d["points_earned"],
        paid_at=parse_ts(d["paid_at"]),
        program_version=d["program_version"],
        earned_lot_ids=tuple(d.get("earned_lot_ids", ())),
        redeemed_lots=tuple(lots),
    )


def _paid_result(paid: EntryRecord, status: str) -> OrderResult:
    """The answer to an order.paid, the first time and on every duplicate. Its balance is the member's once the
    order's write was done: the PAID entry's own, unless later entries of that write changed it (a referral
    bonus, the expiry of lots born expired), in which case the PAID entry records it as ``answered_balance``."""
    d = paid.details
    return OrderResult(
        status,
        d["order_id"],
        paid.member_id,
        d["points_earned"],
        d["points_redeemed"],
        balance=d.get("answered_balance", paid.movement.balance_after),
        reason=d.get("code_charge"),
    )


def _merged_profile(member: Member, customer: CustomerIn) -> Profile | None:
    """The contact data this order carries that differs from the profile read, as a patch (None: nothing to write,
    and no empty profile item for a customer without contact data). The store writes only the fields it names,
    never consent, so a merchant's opt-out landing after this order's read is not undone."""
    stored = member.profile or Profile(member_id=customer.member_id)

    def news(carried: str | None, old: str | None) -> str | None:
        return carried if carried and carried != old else None

    patch = Profile(
        member_id=customer.member_id,
        email=news(customer.email, stored.email),
        phone=news(customer.phone, stored.phone),
        name=news(customer.name, stored.name),
        birthday=news(customer.birthday, stored.birthday),
    )
    return None if patch == Profile(member_id=customer.member_id) else patch


class OrderService:
    def __init__(self, store: LedgerStore, attempts: int) -> None:
        self.store = store
        self.attempts = attempts
        self.referrals = Referrals(store)

    # -- order.paid ------------------------------------------------------------------------------

    def paid(self, tenant: Tenant, order: PaidOrderIn, event_id: str | None, now: datetime) -> OrderResult:
        version = tenant.program_at(order.paid_at)
        program = version.settings
        if order.currency != program.currency:
            raise Unprocessable(f"orders must be in {program.currency}", code="currency_mismatch")
        _check_redeem_value(order.points_redeemed, program.point_value_minor, order.cart.total_minor)
        if order.hold_code:
            order, hold = self._by_code(tenant, order)
        else:
            hold = self.store.get_hold(tenant.tenant_id, order.hold_id) if order.hold_id else None
            if order.hold_id and (
                hold is None or hold.member_id != order.customer.member_id or hold.order_id != order.order_id
            ):
                raise Unprocessable("hold_id does not name a hold of this customer and order", code="hold_mismatch")
        customer = order.customer
        referee = Referee(member_id=customer.member_id, email=customer.email, phone=customer.phone)
        referral = self.referrals.resolve(tenant, customer.referral_code, referee, program)

        def step() -> OrderResult:
            state = self.store.load_order(tenant.tenant_id, order.order_id)
            if state.voided:
                return OrderResult("ignored", order.order_id, reason="order_cancelled")
            if state.paid:
                return _paid_result(state.paid, "duplicate")
            if state.redemption and state.redemption.member_id != order.customer.member_id:
                raise Unprocessable(
                    "the points redeemed on this order belong to another member", code="redemption_of_another_member"
                )
            member = self.store.load_member(tenant.tenant_id, order.customer.member_id)
            account, entries = expire_due(member.account, now)
            account, redeemed_entries, redeemed = self._redeem(order, hold, state, account, program, now)
            entries += redeemed_entries
            _check_redeem_value(redeemed, program.point_value_minor, order.cart.total_minor)
            standing = standing_of(account, program, order.paid_at)
            earning = earn(order.cart, redeemed, program, standing, order.paid_at)
            credits = earn_credits(earning, order.paid_at, program)
            if credits:
                account, movement = credit(account, "earn", credits, now)
            else:
                account, movement = _zero(account, "earn")
            cash_paid = order.cart.total_minor - redeemed * program.point_value_minor
            qualifies = earning.eligible_minor >= program.min_check_minor
            gained_from = account
            account = after_paid(account, program, cash_paid, order.paid_at, standing, starts_boost=qualifies)
            offered, counter = referral, None
            refers = offered is not None and offered.applies(member.account) and qualifies
            if refers and offered is not None:
                offered, counter = self.referrals.allowance(tenant, offered, order.paid_at, program)
            details = _paid_details(order, redeemed, earning, movement, program, version.version)
            details.update(_gained(gained_from, account))
            if order.cart.lines and item_points(earning.breakdown, program):  # a refund by item recomputes them
                details.update(lines=recorded_lines(order.cart), standing=recorded_standing(standing))
            if offered is not None:
                details["referral"] = offered.recorded(refers, qualifies)
            charge = _code_charge(order, redeemed_entries)
            if charge:
                details["code_charge"] = charge
            paid = EntryRecord(
                order_scope(order.order_id),
                PAID,
                member.account.member_id,
                movement,
                order.order_id,
                now,
                event_id,
                details,
            )
            at = len(entries)
            entries.append(paid)
            partner = None
            if refers and offered is not None:
                scope = order_scope(order.order_id)
                account, partner = self.referrals.refer(
                    tenant, offered, counter, account, entries, scope, order.paid_at, now
                )
            account = expire_born(account, entries, now)
            if account.balance != movement.balance_after:  # the answer is what the view shows after this write
                paid = entries[at] = replace(paid, details={**details, "answered_balance": account.balance})
            commit = Commit(
                member.account.member_id,
                bumped(account, tenant.current.settings, now),
                member.account.version,
                tuple(entries),
                profile=_merged_profile(member, order.customer),
                claim=_captured_claim(hold, redeemed_entries),
            )
            if partner is None:
                self.store.commit(tenant.tenant_id, commit)
            else:  # referee and referrer earn in the same transaction as the order, or not at all
                self.store.commit_pair(tenant.tenant_id, commit, partner)
            return _paid_result(paid, "applied")

        return with_retries(self.attempts, step, lambda dup: self._after_duplicate(tenant, order.order_id, dup))

    def _by_code(self, tenant: Tenant, order: PaidOrderIn) -> tuple[PaidOrderIn, HoldRecord | None]:
        """A platform order whose discount code names a hold of this customer redeems that hold's points.

        The platform's total already has the discount taken off; docs/spec.md §2 totals are before points, so the
        discount is added back. Any other code (the shop's own discounts) leaves the order as it is."""
        hold_id = hold_id_for(order.hold_code or "")
        hold = self.store.get_hold(tenant.tenant_id, hold_id) if hold_id else None
        if hold is None:
            return replace(order, hold_code=None), None
        cart = replace(order.cart, total_minor=order.cart.total_minor + hold.discount_minor)
        if hold.member_id != order.customer.member_id:  # a code passed on: who got the discount pays for it
            return replace(order, hold_id=None, points_redeemed=hold.points, cart=cart, code_owner=hold.member_id), None
        return replace(order, hold_id=hold.hold_id, points_redeemed=hold.points, cart=cart), hold

    def _redeem(
        self,
        order: PaidOrderIn,
        hold: HoldRecord | None,
        state: OrderState,
        account: Account,
        program: ProgramSettings,
        now: datetime,
    ) -> tuple[Account, list[EntryRecord], int]:
        """Points spent on the order: a hold captured earlier, the hold named now, or a direct spend."""
        if state.redemption:
            return account, [], state.redemption.points
        wanted = order.points_redeemed or (hold.points if hold else 0)
        if hold and wanted > hold.points:
            raise Unprocessable("points_redeemed exceeds the hold", code="hold_exceeded")
        if not wanted:
            return account, [], 0
        captured = hold.hold_id if hold and account.active_hold(hold.hold_id, now) else None
        if captured:
            account, movement = capture(account, captured, wanted, now)
        elif order.hold_code:  # the platform gave the discount already: take its points, into debt if they are gone
            account, movement = reverse(account, wanted, now)
            movement = replace(movement, kind="redeem")
        else:  # no hold, or it lapsed before payment: spend directly if the balance and the cap allow
            if wanted < program.min_redeem_points:
                raise Unprocessable(f"at least {program.min_redeem_points} points per redemption", code="below_minimum")
            if wanted > max_redeemable(order.cart, wanted, program):
                cap = max_redeemable(order.cart, 10**15, program)
                raise Unprocessable(f"at most {cap} points may pay for this order", code="exceeds_redeem_share")
            account, movement = spend(account, wanted, now)
        # only a hold that was really captured is named: a lapsed one stays releasable
        return account, [self._redeem_entry(account, order.order_id, movement, now, captured)], wanted

    @staticmethod
    def _redeem_entry(
        account: Account, order_id: str, movement: Movement, now: datetime, hold_id: str | None
    ) -> EntryRecord:
        details = {"hold_id": hold_id} if hold_id else {}
        return EntryRecord(order_scope(order_id), REDEEM, account.member_id, movement, order_id, now, None, details)

    def _after_duplicate(self, tenant: Tenant, order_id: str, dup: Duplicate) -> OrderResult | None:
        state = self.store.load_order(tenant.tenant_id, order_id)
        if state.voided:
            return OrderResult("ignored", order_id, reason="order_cancelled")
        if state.paid is None:  # lost a race on REDEEM only (a capture landed first): recompute
            return None
        return _paid_result(state.paid, "duplicate")

    # -- order.refunded / order.cancelled --------------------------------------------------------

    def refunded(
        self,
        tenant: Tenant,
        order_id: str,
        refund_id: str,
        amount_minor: int | None,
        event_id: str | None,
        now: datetime,
        cumulative_minor: int | None = None,
        items: Sequence[Line] | None = None,
    ) -> OrderResult:
        """A refund (``amount_minor``) or, with ``None``, the cancellation of the whole order. With
        ``cumulative_minor`` (a platform's running total of cash refunded), the refund is what that total adds to
        the refunds recorded so far, computed on every attempt from fresh state, so that out-of-order or
        concurrent deliveries never refund twice."""

        def step() -> OrderResult:
            state = self.store.load_order(tenant.tenant_id, order_id)
            previous = next((r for r in state.refunds if r.refund_id == refund_id), None)
            if previous:
                return _refund_result(previous, "duplicate")
            amount = amount_minor
            if cumulative_minor is not None:
                amount = cumulative_minor - (state.refunds[-1].refunded_minor if state.refunds else 0)
                if amount <= 0 and state.paid is not None:
                    return OrderResult("ignored", order_id, state.paid.member_id, reason="nothing_new_refunded")
            if state.voided:
                return OrderResult("ignored", order_id, reason="order_cancelled")
            if state.paid is None:
                if amount is None:  # cancelled before paid: block a late payment from earning
                    return self._cancel_unpaid(tenant, state, order_id, event_id, now)
                raise NotFound(f"order {order_id} was never paid here", code="order_not_found")
            if state.cancelled:
                return OrderResult("ignored", order_id, state.paid.member_id, reason="order_cancelled")
            return self._apply_refund(tenant, state, refund_id, amount, event_id, now, items)

        def duplicate(dup: Duplicate) -> OrderResult | None:
            state = self.store.load_order(tenant.tenant_id, order_id)
            previous = next((r for r in state.refunds if r.refund_id == refund_id), None)
            if previous:
                return _refund_result(previous, "duplicate")
            return None  # another refund or the void landed first: recompute from the new state

        return with_retries(self.attempts, step, duplicate)

    def _cancel_unpaid(
        self, tenant: Tenant, state: OrderState, order_id: str, event_id: str | None, now: datetime
    ) -> OrderResult:
        """Void an order never reported paid, so that a late payment earns nothing; points captured for it (a hold
        captured at checkout) go back to their member in the same write, each piece with its lot's expiry."""
        redemption = state.redemption
        if redemption is None:
            self.store.commit(tenant.tenant_id, Commit("", void_order=order_id))
            return OrderResult("applied", order_id, reason="cancelled_before_payment")
        program = tenant.current.settings
        member = self.store.load_member(tenant.tenant_id, redemption.member_id)
        account, entries = expire_due(member.account, now)
        credits = restore_credits(redemption.lots, 0, redemption.points, now, program.restore_grace_days)
        account, movement = credit(account, "restore", credits, now)
        entries.append(
            EntryRecord(order_scope(order_id), CANCEL_RESTORE, redemption.member_id, movement, order_id, now, event_id)
        )
        account = bumped(expire_born(account, entries, now), program, now)
        commit = Commit(redemption.member_id, account, member.account.version, tuple(entries), void_order=order_id)
        self.store.commit(tenant.tenant_id, commit)
        return OrderResult(
            "applied",
            order_id,
            redemption.member_id,
            points_restored=redemption.points,
            balance=account.balance,
            reason="cancelled_before_payment",
        )

    def _apply_refund(
        self,
        tenant: Tenant,
        state: OrderState,
        refund_id: str,
        amount_minor: int | None,
        event_id: str | None,
        now: datetime,
        items: Sequence[Line] | None = None,
    ) -> OrderResult:
        assert state.paid is not None
        record = order_record(state.paid, state)
        last = state.refunds[-1] if state.refunds else None
        before = RefundTotals(
            last.refunded_minor if last else 0,
            sum(r.reversed_points for r in state.refunds),
            sum(r.restored_points for r in state.refunds),
        )
        grace = int(state.paid.details.get("restore_grace_days", 30))
        member = self.store.load_member(tenant.tenant_id, record.member_id)
        account, entries = expire_due(member.account, now)
        expired = self._expired_earned(tenant, record, member.account, entries, state.paid.movement.seq)
        cumulative = before.refunded_minor + (amount_minor or 0)
        returned = state.refunds[-1].returned if state.refunds else ()
        target, returned = reverse_target(tenant, state.paid, returned, items, cumulative)
        plan = plan_refund(record, before, amount_minor, now, grace, expired, target)
        scope, base = order_scope(record.order_id), refund_key(refund_id)
        if plan.reverse_points:
            account, movement = reverse(account, plan.reverse_points, now, record.earned_lot_ids)
            entries.append(
                EntryRecord(scope, f"{base}#REVERSE", record.member_id, movement, record.order_id, now, event_id)
            )
        if plan.restore:
            account, movement = credit(account, "restore", plan.restore, now)
            entries.append(
                EntryRecord(scope, f"{base}#RESTORE", record.member_id, movement, record.order_id, now, event_id)
            )
            account = expire_born(account, entries, now)
        refunded_now = plan.refunded_minor - before.refunded_minor
        program = tenant.current.settings
        month = state.paid.details.get("spend_month") or month_key(record.paid_at, program.timezone)
        full = plan.refunded_minor == record.cash_paid_minor
        partner = None
        if full:
            account, partner = self.referrals.take_back(tenant, state, base, account, entries, now)
        account = after_refund(account, program, refunded_now, str(month), now, _gained_of(state.paid), full)
        account = bumped(account, program, now)
        refund = RefundRecord(
            record.order_id,
            refund_id,
            record.member_id,
            amount_minor,
            plan.refunded_minor,
            plan.reverse_points,
            plan.restored_points,
            now,
            event_id,
            record.paid_at,
            returned=returned,
        )
        commit = Commit(record.member_id, account, member.account.version, tuple(entries), refund=refund)
        if partner is None:
            self.store.commit(tenant.tenant_id, commit)
        else:  # the referrer loses the bonus in the same transaction as the refund, or not at all
            self.store.commit_pair(tenant.tenant_id, commit, partner)
        return replace(_refund_result(refund, "applied"), balance=account.balance)

    def _expired_earned(
        self, tenant: Tenant, record: OrderRecord, before: Account, expiring: list[EntryRecord], paid_seq: int
    ) -> int:
        """Earned points of the order that expired unspent: in this step's expiry, or earlier ones
        (read only when one of the order's lots is no longer open)."""
        own = set(record.earned_lot_ids)
        changes = [c for entry in expiring for c in entry.movement.lots]
        if own - {lot.lot_id for lot in before.lots}:
            changes += self.store.expired_since(tenant.tenant_id, record.member_id, paid_seq)
        return sum(-c.change for c in changes if c.lot_id in own)


def _paid_details(
    order: PaidOrderIn, redeemed: int, earning: Earning, movement: Movement, program: ProgramSettings, version: int
) -> dict[str, Any]:
    """What the PAID entry records: every amount a refund needs, and how the points came about (docs/spec.md §3, §8)."""
    return {
        "order_id": order.order_id,
        "currency": order.currency,
        "total_minor": order.cart.total_minor,
        "shipping_minor": order.cart.shipping_minor,
        "tax_minor": order.cart.tax_minor,
        "points_redeemed": redeemed,
        "point_value_minor": program.point_value_minor,
        "earn_rate_bp": earning.rate_bp,
        "tier": earning.tier,
        "eligible_minor": earning.eligible_minor,
        "points_earned": earning.total_points,
        "rules": list(earning.breakdown),  # which rule gave how many points (docs/spec.md §8)
        "cash_paid_minor": order.cart.total_minor - redeemed * program.point_value_minor,
        "paid_at": iso(order.paid_at),
        "spend_month": month_key(order.paid_at, program.timezone),
        "program_version": version,
        "restore_grace_days": program.restore_grace_days,
        "earned_lot_ids": [c.lot_id for c in movement.lots],
    }


def _captured_claim(hold: HoldRecord | None, redeemed: list[EntryRecord]) -> OrderHoldClaim | None:
    """A hold captured by the paid order itself ends the order's checkout as a capture would (decision 58)."""
    if hold is None or not any(entry.details.get("hold_id") == hold.hold_id for entry in redeemed):
        return None
    return OrderHoldClaim(hold.order_id, hold.hold_id, hold.member_id, hold.expires_at, "captured")


def _code_charge(order: PaidOrderIn, redeemed: list[EntryRecord]) -> str | None:
    """Why a platform order's code was charged unusually (counted, alarmed): passed on, or paid into debt."""
    if not order.hold_code:
        return None
    if order.code_owner:
        return "hold_code_of_another_member"
    return "hold_code_into_debt" if any(e.movement.debt_change > 0 for e in redeemed) else None


def _gained(before: Account, after: Account) -> dict[str, Any]:
    """What the order did to the standing (``shared.standing.Gained``), for its refund to undo."""
    started = after.boost_until if after.boost_until != before.boost_until else None
    return {"tier_before": before.tier, "boost_started_until": iso(started) if started else None}


def _gained_of(paid: EntryRecord) -> Gained | None:
    d = paid.details
    if "tier_before" not in d:  # recorded before orders kept it
        return None
    started = d.get("boost_started_until")
    return Gained(tier_before=d["tier_before"], boost_until=parse_ts(started) if started else None)


def _check_redeem_value(points: int, point_value_minor: int, total_minor: int) -> None:
    if points * point_value_minor > total_minor:
        raise Unprocessable("points_redeemed are worth more than the order total", code="redeem_exceeds_total")


def _refund_result(refund: RefundRecord, status: str) -> OrderResult:
    return OrderResult(
        status,
        refund.order_id,
        refund.member_id,
        points_reversed=refund.reversed_points,
        points_restored=refund.restored_points,
    )


__all__ = ["CustomerIn", "LotChange", "OrderResult", "OrderService", "PaidOrderIn"]
