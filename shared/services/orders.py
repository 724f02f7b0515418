"""Order events (docs/spec.md §3, §5): accrual on payment, proportional reversal on refund or cancel.

Each event is applied in one transaction whose keys are the business keys (``ORDER#id/PAID``,
``ORDER#id/REFUND#rid``), so a replay or a second delivery under another event id finds the
key taken and answers with the first result instead of applying twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from shared.account import Account
from shared.entry_details import PaidDetails, RedeemDetails
from shared.errors import Unprocessable
from shared.hold_codes import hold_id_for
from shared.keys import PAID, REDEEM, order_scope
from shared.ledger import Ledger, LotChange, Movement, capture, credit, nothing, reverse, spend
from shared.orders import earn_credits, max_redeemable
from shared.ports import Duplicate
from shared.program import ProgramSettings, ProgramVersion
from shared.records import EntryRecord, HoldRecord, Member, OrderHoldClaim, OrderState, PaidIndex, Profile
from shared.rules import Cart, Earning, Line, Standing, earn
from shared.services.member_write import Change, Loaded, MemberWrite, Partner
from shared.services.order_refunds import OrderRefunds, Refunding, paid_details
from shared.services.order_types import CustomerIn, OrderResult, PaidOrderIn
from shared.services.referrals import Referee, ReferralIn, Referrals
from shared.services.returns import item_points
from shared.services.store import LedgerStore
from shared.standing import Gained, after_paid, month_key, standing_of
from shared.tenants import Tenant


@dataclass(frozen=True, kw_only=True)
class Paying:
    """An order.paid as checked before its write: the order (its hold code resolved), the hold it names, the
    referral its code resolved to, and the program version in force at ``paid_at``."""

    order: PaidOrderIn
    hold: HoldRecord | None
    referral: ReferralIn | None
    version: ProgramVersion
    event_id: str | None


@dataclass(frozen=True, kw_only=True)
class Referred:
    """What a referral code did in the order's write: the member's ledger after the referee bonus, its entries, the
    referrer's change, and what the PAID entry records about the code."""

    ledger: Ledger
    entries: tuple[EntryRecord, ...] = ()
    partner: Partner | None = None
    recorded: dict[str, object] | None = None


def _paid_result(paid: EntryRecord, status: str) -> OrderResult:
    """The answer to an order.paid, the first time and on every duplicate. Its balance is the member's once the
    order's write was done: the PAID entry's own, unless later entries of that write changed it (a referral
    bonus, the expiry of lots born expired), in which case the PAID entry records it as ``answered_balance``."""
    d = paid_details(paid)
    balance = d.answered_balance if d.answered_balance is not None else paid.movement.balance_after
    return OrderResult(
        status=status,
        order_id=d.order_id,
        member_id=paid.member_id,
        points_earned=d.points_earned,
        points_redeemed=d.points_redeemed,
        balance=balance,
        reason=d.code_charge,
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
        self.writes = MemberWrite(store, attempts)
        self.referrals = Referrals(store, self.writes)
        self.refunds = OrderRefunds(store, self.writes, self.referrals)

    # -- order.paid ------------------------------------------------------------------------------

    def paid(self, tenant: Tenant, order: PaidOrderIn, event_id: str | None, now: datetime) -> OrderResult:
        version = tenant.program_at(order.paid_at)
        program = version.settings
        if order.currency != program.currency:
            raise Unprocessable(f"orders must be in {program.currency}", code="currency_mismatch")
        _check_redeem_value(order.points_redeemed, program.point_value_minor, order.cart.total_minor)
        order, hold = self._hold_of(tenant, order)
        customer = order.customer
        referee = Referee(member_id=customer.member_id, email=customer.email, phone=customer.phone)
        referral = self.referrals.resolve(tenant, customer.referral_code, referee, program)
        paying = Paying(order=order, hold=hold, referral=referral, version=version, event_id=event_id)

        def step(loaded: Loaded) -> Change[OrderResult]:
            state = self.store.load_order(tenant.tenant_id, order.order_id)
            answered = _answered(state, order)
            if answered is not None:
                return Change(result=answered)
            return self._accrue(tenant, paying, state, loaded, now)

        def duplicate(dup: Duplicate) -> OrderResult | None:
            return self._after_duplicate(tenant, order.order_id, dup)

        return self.writes.apply(tenant, customer.member_id, step, now, on_duplicate=duplicate)

    def _hold_of(self, tenant: Tenant, order: PaidOrderIn) -> tuple[PaidOrderIn, HoldRecord | None]:
        """The hold the order names, by its discount code or its ``hold_id`` (it must be this customer's and order's)."""
        if order.hold_code:
            return self._by_code(tenant, order)
        hold = self.store.get_hold(tenant.tenant_id, order.hold_id) if order.hold_id else None
        if order.hold_id and (
            hold is None or hold.member_id != order.customer.member_id or hold.order_id != order.order_id
        ):
            raise Unprocessable("hold_id does not name a hold of this customer and order", code="hold_mismatch")
        return order, hold

    def _accrue(
        self, tenant: Tenant, paying: Paying, state: OrderState, loaded: Loaded, now: datetime
    ) -> Change[OrderResult]:
        """The order's write: its redemption, its points, the standing, the referral, the PAID entry."""
        order, program = paying.order, paying.version.settings
        ledger, redeemed_entries, redeemed = self._redeem(
            order, paying.hold, state, loaded.account.ledger, program, now
        )
        _check_redeem_value(redeemed, program.point_value_minor, order.cart.total_minor)
        standing = standing_of(loaded.account.standing, program, order.paid_at)
        earning = earn(order.cart, redeemed, program, standing, order.paid_at)
        credits = earn_credits(earning, order.paid_at, program)
        ledger, movement = credit(ledger, "earn", credits, now) if credits else nothing(ledger, "earn")
        qualifies = earning.eligible_minor >= program.min_check_minor
        before = loaded.account.with_ledger(ledger)
        cash_paid = order.cart.total_minor - redeemed * program.point_value_minor
        account = after_paid(before, program, cash_paid, order.paid_at, standing, starts_boost=qualifies)
        referred = self._referred(tenant, paying, loaded.member.account, ledger, qualifies, now)
        details = replace(
            _paid_details(paying, redeemed, earning, movement, standing),
            gained=_gained(before, account),
            referral=referred.recorded,
            code_charge=_code_charge(order, redeemed_entries),
        )
        final = referred.ledger.balances(now).balance  # what the view shows after this write (born-expired lots out)
        if final != movement.balance_after:
            details = replace(details, answered_balance=final)
        paid = _paid_entry(paying, loaded.member.account.member_id, movement, details, now)
        return Change(
            result=_paid_result(paid, "applied"),
            account=account.with_ledger(referred.ledger),
            entries=(*redeemed_entries, paid, *referred.entries),
            profile=_merged_profile(loaded.member, order.customer),
            claim=_captured_claim(paying.hold, redeemed_entries),
            partner=referred.partner,  # the referrer earns in the same transaction as the order, or not at all
        )

    def _referred(
        self, tenant: Tenant, paying: Paying, before: Account, ledger: Ledger, qualifies: bool, now: datetime
    ) -> Referred:
        """The referral bonuses of a first qualifying order (the referee's in this write, the referrer's as partner)."""
        offered, order = paying.referral, paying.order
        if offered is None:
            return Referred(ledger=ledger)
        if not (offered.applies(before) and qualifies):
            return Referred(ledger=ledger, recorded=offered.recorded(False, qualifies))
        offered, counter = self.referrals.allowance(tenant, offered, order.paid_at, paying.version.settings)
        scope = order_scope(order.order_id)
        ledger, entries, partner = self.referrals.refer(tenant, offered, counter, ledger, scope, order.paid_at, now)
        return Referred(ledger=ledger, entries=tuple(entries), partner=partner, recorded=offered.recorded(True))

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
        ledger: Ledger,
        program: ProgramSettings,
        now: datetime,
    ) -> tuple[Ledger, list[EntryRecord], int]:
        """Points spent on the order: a hold captured earlier, the hold named now, or a direct spend."""
        if state.redemption:
            return ledger, [], state.redemption.points
        wanted = order.points_redeemed or (hold.points if hold else 0)
        if hold and wanted > hold.points:
            raise Unprocessable("points_redeemed exceeds the hold", code="hold_exceeded")
        if not wanted:
            return ledger, [], 0
        captured = hold.hold_id if hold and ledger.active_hold(hold.hold_id, now) else None
        if captured:
            ledger, movement = capture(ledger, captured, wanted, now)
        elif order.hold_code:  # the platform gave the discount already: take its points, into debt if they are gone
            ledger, movement = reverse(ledger, wanted, now)
            movement = replace(movement, kind="redeem")
        else:  # no hold, or it lapsed before payment: spend directly if the balance and the cap allow
            _check_direct_spend(order.cart, wanted, program)
            ledger, movement = spend(ledger, wanted, now)
        # only a hold that was really captured is named: a lapsed one stays releasable
        entry = EntryRecord(
            scope=order_scope(order.order_id),
            key=REDEEM,
            member_id=ledger.member_id,
            movement=movement,
            reference=order.order_id,
            created_at=now,
            details=RedeemDetails(hold_id=captured),
        )
        return ledger, [entry], wanted

    def _after_duplicate(self, tenant: Tenant, order_id: str, dup: Duplicate) -> OrderResult | None:
        state = self.store.load_order(tenant.tenant_id, order_id)
        if state.voided:
            return OrderResult(status="ignored", order_id=order_id, reason="order_cancelled")
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
        """A refund (``amount_minor``) or, with ``None``, the cancellation of the whole order (``OrderRefunds``)."""
        request = Refunding(order_id=order_id, refund_id=refund_id, amount_minor=amount_minor, event_id=event_id,
                            cumulative_minor=cumulative_minor, items=items)  # fmt: skip
        return self.refunds.refunded(tenant, request, now)


def _answered(state: OrderState, order: PaidOrderIn) -> OrderResult | None:
    """The answer when the order needs no write: cancelled before payment, or paid already."""
    if state.voided:
        return OrderResult(status="ignored", order_id=order.order_id, reason="order_cancelled")
    if state.paid:
        return _paid_result(state.paid, "duplicate")
    if state.redemption and state.redemption.member_id != order.customer.member_id:
        raise Unprocessable(
            "the points redeemed on this order belong to another member", code="redemption_of_another_member"
        )
    return None


def _check_direct_spend(cart: Cart, wanted: int, program: ProgramSettings) -> None:
    if wanted < program.min_redeem_points:
        raise Unprocessable(f"at least {program.min_redeem_points} points per redemption", code="below_minimum")
    if wanted > max_redeemable(cart, wanted, program):
        cap = max_redeemable(cart, 10**15, program)
        raise Unprocessable(f"at most {cap} points may pay for this order", code="exceeds_redeem_share")


def _paid_details(
    paying: Paying, redeemed: int, earning: Earning, movement: Movement, standing: Standing
) -> PaidDetails:
    """What the PAID entry records: every amount a refund needs, and how the points came about (docs/spec.md §3, §8).
    The lines and the standing the rules saw are kept when a refund by item must recompute (decision 47)."""
    order, program = paying.order, paying.version.settings
    by_items = bool(order.cart.lines) and item_points(earning.breakdown, program) != 0
    return PaidDetails(
        order_id=order.order_id,
        currency=order.currency,
        total_minor=order.cart.total_minor,
        shipping_minor=order.cart.shipping_minor,
        tax_minor=order.cart.tax_minor,
        points_redeemed=redeemed,
        point_value_minor=program.point_value_minor,
        earn_rate_bp=earning.rate_bp,
        tier=earning.tier,
        eligible_minor=earning.eligible_minor,
        points_earned=earning.total_points,
        rules=tuple(earning.breakdown),
        cash_paid_minor=order.cart.total_minor - redeemed * program.point_value_minor,
        paid_at=order.paid_at,
        spend_month=month_key(order.paid_at, program.timezone),
        program_version=paying.version.version,
        restore_grace_days=program.restore_grace_days,
        earned_lot_ids=tuple(c.lot_id for c in movement.lots),
        lines=order.cart.lines if by_items else (),
        standing=standing if by_items else None,
    )


def _paid_entry(paying: Paying, member_id: str, movement: Movement, details: PaidDetails, now: datetime) -> EntryRecord:
    """The PAID entry, a row of the tenant's paid orders for the ABC analysis (the ``abc_paid`` index)."""
    order = paying.order
    return EntryRecord(
        scope=order_scope(order.order_id),
        key=PAID,
        member_id=member_id,
        movement=movement,
        reference=order.order_id,
        created_at=now,
        event_id=paying.event_id,
        details=details,
        paid_index=PaidIndex(order_id=order.order_id, paid_at=details.paid_at, cash_minor=details.cash_paid_minor),
    )


def _captured_claim(hold: HoldRecord | None, redeemed: list[EntryRecord]) -> OrderHoldClaim | None:
    """A hold captured by the paid order itself ends the order's checkout as a capture would (decision 58)."""
    captured = any(isinstance(e.details, RedeemDetails) and e.details.hold_id for e in redeemed)
    if hold is None or not captured:
        return None
    return OrderHoldClaim(hold.order_id, hold.hold_id, hold.member_id, hold.expires_at, "captured")


def _code_charge(order: PaidOrderIn, redeemed: list[EntryRecord]) -> str | None:
    """Why a platform order's code was charged unusually (counted, alarmed): passed on, or paid into debt."""
    if not order.hold_code:
        return None
    if order.code_owner:
        return "hold_code_of_another_member"
    return "hold_code_into_debt" if any(e.movement.debt_change > 0 for e in redeemed) else None


def _gained(before: Account, after: Account) -> Gained:
    """What the order did to the standing, for its refund to undo."""
    started = after.standing.boost_until
    return Gained(
        tier_before=before.standing.tier,
        boost_until=started if started != before.standing.boost_until else None,
    )


def _check_redeem_value(points: int, point_value_minor: int, total_minor: int) -> None:
    if points * point_value_minor > total_minor:
        raise Unprocessable("points_redeemed are worth more than the order total", code="redeem_exceeds_total")


__all__ = ["CustomerIn", "LotChange", "OrderResult", "OrderService", "PaidOrderIn"]
