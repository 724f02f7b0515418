"""Refunds and cancellations of an order (docs/spec.md §3, §5): earned points taken back, spent points given back.

A refund is found by its order: the attempt reads the order's records, then the member whose order it is, and
commits through ``MemberWrite`` (expire first, wake-ups last, the version condition). Its business key
(``ORDER#id/REFUND#rid``) makes a replay answer the first result; a platform's running total of cash refunded
(``cumulative_minor``) is turned into this refund's amount from fresh state on every attempt, so that out-of-order
or concurrent deliveries never refund twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from shared.entry_details import PaidDetails
from shared.errors import NotFound
from shared.keys import CANCEL_RESTORE, order_scope, refund_key
from shared.ledger import Ledger, credit, reverse
from shared.orders import OrderRecord, RefundPlan, RefundTotals, Returned, plan_refund, restore_credits
from shared.ports import Duplicate
from shared.records import Commit, EntryRecord, OrderState, RefundRecord
from shared.rules import Line
from shared.services.member_write import Change, Loaded, MemberWrite
from shared.services.order_types import OrderResult
from shared.services.referrals import Referrals
from shared.services.returns import reverse_target
from shared.services.store import LedgerStore
from shared.standing import after_refund, month_key
from shared.tenants import Tenant


@dataclass(frozen=True, kw_only=True)
class Refunding:
    """One refund request: ``amount_minor`` None cancels the rest of the order; ``cumulative_minor`` is a platform's
    running total of cash refunded; ``items`` the goods returned, when the refund names them."""

    order_id: str
    refund_id: str
    amount_minor: int | None
    event_id: str | None
    cumulative_minor: int | None = None
    items: Sequence[Line] | None = None


def paid_details(paid: EntryRecord) -> PaidDetails:
    """The PAID entry's record (an order's accrual always has one)."""
    if not isinstance(paid.details, PaidDetails):
        raise ValueError(f"{paid.scope}/{paid.key} has no order details")
    return paid.details


def order_record(paid: EntryRecord, state: OrderState) -> OrderRecord:
    d = paid_details(paid)
    return OrderRecord(
        order_id=d.order_id,
        member_id=paid.member_id,
        currency=d.currency,
        total_minor=d.total_minor,
        shipping_minor=d.shipping_minor,
        tax_minor=d.tax_minor,
        points_redeemed=d.points_redeemed,
        point_value_minor=d.point_value_minor,
        earn_rate_bp=d.earn_rate_bp,
        eligible_minor=d.eligible_minor,
        points_earned=d.points_earned,
        paid_at=d.paid_at,
        program_version=d.program_version,
        earned_lot_ids=d.earned_lot_ids,
        redeemed_lots=tuple(state.redemption.lots if state.redemption else ()),
    )


class OrderRefunds:
    def __init__(self, store: LedgerStore, writes: MemberWrite, referrals: Referrals) -> None:
        self.store = store
        self.writes = writes
        self.referrals = referrals

    def refunded(self, tenant: Tenant, request: Refunding, now: datetime) -> OrderResult:
        """A refund (``amount_minor``) or, with ``None``, the cancellation of the whole order."""
        order_id, refund_id = request.order_id, request.refund_id

        def duplicate(dup: Duplicate) -> OrderResult | None:
            state = self.store.load_order(tenant.tenant_id, order_id)
            previous = next((r for r in state.refunds if r.refund_id == refund_id), None)
            if previous:
                return _refund_result(previous, "duplicate")
            return None  # another refund or the void landed first: recompute from the new state

        return self.writes.retrying(lambda: self._attempt(tenant, request, now), duplicate)

    def _attempt(self, tenant: Tenant, request: Refunding, now: datetime) -> OrderResult:
        order_id = request.order_id
        state = self.store.load_order(tenant.tenant_id, order_id)
        previous = next((r for r in state.refunds if r.refund_id == request.refund_id), None)
        if previous:
            return _refund_result(previous, "duplicate")
        amount = request.amount_minor
        if request.cumulative_minor is not None:
            amount = request.cumulative_minor - (state.refunds[-1].refunded_minor if state.refunds else 0)
            if amount <= 0 and state.paid is not None:
                return OrderResult(
                    status="ignored", order_id=order_id, member_id=state.paid.member_id, reason="nothing_new_refunded"
                )
        if state.voided:
            return OrderResult(status="ignored", order_id=order_id, reason="order_cancelled")
        if state.paid is None:
            if amount is None:  # cancelled before paid: block a late payment from earning
                return self._cancel_unpaid(tenant, state, request, now)
            raise NotFound(f"order {order_id} was never paid here", code="order_not_found")
        if state.cancelled:
            return OrderResult(
                status="ignored", order_id=order_id, member_id=state.paid.member_id, reason="order_cancelled"
            )
        loaded = self.writes.load(tenant, state.paid.member_id, now)
        change = self._refund(tenant, state, replace(request, amount_minor=amount), loaded, now)
        return self.writes.commit(tenant, loaded, change, now)

    def _cancel_unpaid(self, tenant: Tenant, state: OrderState, request: Refunding, now: datetime) -> OrderResult:
        """Void an order never reported paid, so that a late payment earns nothing; points captured for it (a hold
        captured at checkout) go back to their member in the same write, each piece with its lot's expiry."""
        order_id, redemption = request.order_id, state.redemption
        if redemption is None:
            self.store.commit(tenant.tenant_id, Commit(member_id="", void_order=order_id))
            return OrderResult(status="applied", order_id=order_id, reason="cancelled_before_payment")
        program = tenant.current.settings
        loaded = self.writes.load(tenant, redemption.member_id, now)
        credits = restore_credits(redemption.lots, 0, redemption.points, now, program.restore_grace_days)
        ledger, movement = credit(loaded.account.ledger, "restore", credits, now)
        entry = EntryRecord(scope=order_scope(order_id), key=CANCEL_RESTORE, member_id=redemption.member_id, movement=movement, reference=order_id, created_at=now,
                            event_id=request.event_id)  # fmt: skip
        result = OrderResult(status="applied", order_id=order_id, member_id=redemption.member_id, points_restored=redemption.points,
                             balance=ledger.balances(now).balance, reason="cancelled_before_payment")  # fmt: skip
        change = Change(
            result=result, account=loaded.account.with_ledger(ledger), entries=(entry,), void_order=order_id
        )
        return self.writes.commit(tenant, loaded, change, now)

    def _refund(
        self, tenant: Tenant, state: OrderState, request: Refunding, loaded: Loaded, now: datetime
    ) -> Change[OrderResult]:
        """The refund's change: earned points back, spent points given back, the standing and the referral undone."""
        assert state.paid is not None
        paid, record = paid_details(state.paid), order_record(state.paid, state)
        plan, returned, before = self._plan(tenant, state, request, loaded, now)
        ledger, entries = _moved(loaded.account.ledger, plan, record, request, now)
        refunded_now = plan.refunded_minor - before.refunded_minor
        program = tenant.current.settings
        month = paid.spend_month or month_key(record.paid_at, program.timezone)
        full = plan.refunded_minor == record.cash_paid_minor
        partner = None
        if full:
            ledger, taken, partner = self.referrals.take_back(tenant, state, refund_key(request.refund_id), ledger, now)
            entries += taken
        account = after_refund(loaded.account.with_ledger(ledger), program, refunded_now, month, now, paid.gained, full)
        refund = RefundRecord(order_id=record.order_id, refund_id=request.refund_id, member_id=record.member_id, amount_minor=request.amount_minor,
                              refunded_minor=plan.refunded_minor, reversed_points=plan.reverse_points, restored_points=plan.restored_points, created_at=now, event_id=request.event_id,
                              order_paid_at=record.paid_at, returned=returned)  # fmt: skip
        result = replace(_refund_result(refund, "applied"), balance=ledger.balances(now).balance)
        # the referrer loses the bonus in the same transaction as the refund, or not at all
        return Change(result=result, account=account, entries=tuple(entries), refund=refund, partner=partner)

    def _plan(
        self, tenant: Tenant, state: OrderState, request: Refunding, loaded: Loaded, now: datetime
    ) -> tuple[RefundPlan, tuple[Returned, ...], RefundTotals]:
        """What this refund takes back and gives back, from the refunds before it and the points already expired."""
        assert state.paid is not None
        paid, record = paid_details(state.paid), order_record(state.paid, state)
        last = state.refunds[-1] if state.refunds else None
        before = RefundTotals(
            last.refunded_minor if last else 0,
            sum(r.reversed_points for r in state.refunds),
            sum(r.restored_points for r in state.refunds),
        )
        expired = self._expired_earned(tenant, record, loaded, state.paid.movement.seq)
        cumulative = before.refunded_minor + (request.amount_minor or 0)
        target, returned = reverse_target(tenant, paid, last.returned if last else (), request.items, cumulative)
        plan = plan_refund(record, before, request.amount_minor, now, paid.restore_grace_days, expired, target)
        return plan, returned, before

    def _expired_earned(self, tenant: Tenant, record: OrderRecord, loaded: Loaded, paid_seq: int) -> int:
        """Earned points of the order that expired unspent: in this write's expiry, or earlier ones
        (read only when one of the order's lots is no longer open)."""
        own = set(record.earned_lot_ids)
        changes = [c for entry in loaded.expired for c in entry.movement.lots]
        if own - {lot.lot_id for lot in loaded.member.account.ledger.lots}:
            changes += self.store.expired_since(tenant.tenant_id, record.member_id, paid_seq)
        return sum(-c.change for c in changes if c.lot_id in own)


def _moved(
    ledger: Ledger, plan: RefundPlan, record: OrderRecord, request: Refunding, now: datetime
) -> tuple[Ledger, list[EntryRecord]]:
    """The plan applied to the ledger: the reversal of earned points, then the restore of spent ones."""
    scope, base = order_scope(record.order_id), refund_key(request.refund_id)
    entries: list[EntryRecord] = []
    if plan.reverse_points:
        ledger, movement = reverse(ledger, plan.reverse_points, now, record.earned_lot_ids)
        entries.append(EntryRecord(scope=scope, key=f"{base}#REVERSE", member_id=record.member_id, movement=movement, reference=record.order_id, created_at=now,
                                   event_id=request.event_id))  # fmt: skip
    if plan.restore:
        ledger, movement = credit(ledger, "restore", plan.restore, now)
        entries.append(EntryRecord(scope=scope, key=f"{base}#RESTORE", member_id=record.member_id, movement=movement, reference=record.order_id, created_at=now,
                                   event_id=request.event_id))  # fmt: skip
    return ledger, entries


def _refund_result(refund: RefundRecord, status: str) -> OrderResult:
    return OrderResult(
        status=status,
        order_id=refund.order_id,
        member_id=refund.member_id,
        points_reversed=refund.reversed_points,
        points_restored=refund.restored_points,
    )
