"""Order-level rules (docs/spec.md §2, §3): what a paid order earns and what a refund takes back.

A paid order is recorded once with every amount its later refunds need (``OrderRecord``);
refunds are computed from that record and the refunds before them, never from today's rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from shared.errors import Unprocessable
from shared.ledger import Credit, LotChange
from shared.money import eligible_minor, share_floor
from shared.program import ProgramSettings
from shared.rules import Cart, Earning, Line


def max_redeemable(cart: Cart, available: int, program: ProgramSettings) -> int:
    """The most points usable on a cart: the share cap, the balance, and the minimum (§4)."""
    goods = eligible_minor(cart.total_minor, cart.shipping_minor, cart.tax_minor, 0, program.point_value_minor)
    by_share = (goods * program.max_redeem_share_bp) // (10_000 * program.point_value_minor)
    points = min(by_share, max(0, available))
    return points if points >= program.min_redeem_points else 0


def earn_credits(earning: Earning, paid_at: datetime, program: ProgramSettings) -> list[Credit]:
    """The permanent program's lot, then one lot per promo with the promo's own lifetime (docs/spec.md §8)."""
    available_at = paid_at + timedelta(days=program.pending_days)
    credits = [Credit(earning.points, "order", available_at, paid_at + timedelta(days=program.lifetime_days))]
    credits += [Credit(p.points, "promo", available_at, p.expires_at) for p in earning.promos]
    return [c for c in credits if c.points > 0]


@dataclass(frozen=True, kw_only=True)
class OrderRecord:
    """What an order.paid did, frozen at that moment (the PAID entry)."""

    order_id: str
    member_id: str
    currency: str
    total_minor: int
    shipping_minor: int
    tax_minor: int
    points_redeemed: int
    point_value_minor: int
    earn_rate_bp: int
    eligible_minor: int
    points_earned: int
    paid_at: datetime
    program_version: int
    earned_lot_ids: tuple[str, ...] = ()
    redeemed_lots: tuple[LotChange, ...] = ()  # in consumption order, negative changes

    @property
    def cash_paid_minor(self) -> int:
        return self.total_minor - self.points_redeemed * self.point_value_minor


@dataclass(frozen=True)
class RefundTotals:
    """Sums over the refunds already applied to an order."""

    refunded_minor: int = 0
    reversed_points: int = 0
    restored_points: int = 0


@dataclass(frozen=True)
class RefundPlan:
    refunded_minor: int  # cumulative cash refunded after this refund
    reverse_points: int
    restore: tuple[Credit, ...]

    @property
    def restored_points(self) -> int:
        return sum(c.points for c in self.restore)


def plan_refund(
    order: OrderRecord,
    before: RefundTotals,
    amount_minor: int | None,
    now: datetime,
    restore_grace_days: int,
    expired_points: int = 0,
    reverse_target: int | None = None,
) -> RefundPlan:
    """The refund's share is cumulative cash refunded / cash paid; ``None`` cancels the rest.

    ``expired_points``: earned points of this order that expired unspent. The member already lost
    them, so they are never taken back a second time (no debt for points nobody could spend).
    ``reverse_target``: the earned points the refunds so far take back in all, when the items say it better than
    the cash share (``item_reverse_target``); a full refund takes everything whatever it says."""
    cash = order.cash_paid_minor
    if amount_minor is None:
        cumulative = cash
    else:
        cumulative = before.refunded_minor + amount_minor
        if cumulative > cash:
            raise Unprocessable(
                f"refunds would total {cumulative}, more than the {cash} paid in cash",
                code="refund_exceeds_paid",
            )
    full = amount_minor is None or cumulative == cash
    if full:
        reverse_target = order.points_earned
    elif reverse_target is None:
        reverse_target = share_floor(order.points_earned, cumulative, cash)
    reverse_target = min(max(0, reverse_target), order.points_earned - expired_points)
    restore_target = order.points_redeemed if full else share_floor(order.points_redeemed, cumulative, cash)
    restore_points = restore_target - before.restored_points
    return RefundPlan(
        cumulative,
        max(0, reverse_target - before.reversed_points),
        restore_credits(order.redeemed_lots, before.restored_points, restore_points, now, restore_grace_days),
    )


def restore_credits(
    redeemed_lots: tuple[LotChange, ...], already: int, points: int, now: datetime, grace_days: int
) -> tuple[Credit, ...]:
    """Give spent points back lot by lot, last-consumed (latest-expiring) first, keeping each
    lot's original expiry while it is in the future, else ``grace_days`` from now. Pieces that end
    up with the same expiry merge into one lot."""
    by_expiry: dict[datetime, int] = {}
    skip, left = already, points
    for change in reversed(redeemed_lots):
        spent = -change.change
        skipped = min(skip, spent)
        skip -= skipped
        piece = min(left, spent - skipped)
        if piece <= 0:
            continue
        left -= piece
        expires = change.expires_at if change.expires_at > now else now + timedelta(days=grace_days)
        by_expiry[expires] = by_expiry.get(expires, 0) + piece
    if left > 0:  # redeemed points with no lot detail (should not happen): grace expiry
        expires = now + timedelta(days=grace_days)
        by_expiry[expires] = by_expiry.get(expires, 0) + left
    return tuple(Credit(p, "refund", now, e) for e, p in sorted(by_expiry.items()))


# -- returns by item (issue 13): what the customer keeps earns what it would have earned alone -----------------


@dataclass(frozen=True)
class Returned:
    """One SKU's returns over all refunds of an order so far."""

    sku: str
    quantity: int
    amount_minor: int


def returned_after(before: Sequence[Returned], items: Sequence[Line]) -> tuple[Returned, ...]:
    totals = {r.sku: (r.quantity, r.amount_minor) for r in before}
    for line in items:
        quantity, amount = totals.get(line.sku, (0, 0))
        totals[line.sku] = (quantity + line.quantity, amount + line.amount_minor)
    return tuple(Returned(sku=sku, quantity=q, amount_minor=a) for sku, (q, a) in sorted(totals.items()))


def kept_cart(cart: Cart, returned: Sequence[Returned]) -> Cart:
    """The order as the customer keeps it: each SKU's returned quantity and amount taken off its lines (a line
    returned whole leaves), the goods' total with them; shipping and tax stay."""
    left = {r.sku: (r.quantity, r.amount_minor) for r in returned}
    lines = []
    for line in cart.lines:
        quantity, amount = left.get(line.sku, (0, 0))
        take_q, take_a = min(quantity, line.quantity), min(amount, line.amount_minor)
        left[line.sku] = (quantity - take_q, amount - take_a)
        if take_q < line.quantity:
            lines.append(replace(line, quantity=line.quantity - take_q, amount_minor=line.amount_minor - take_a))
    removed = sum(line.amount_minor for line in cart.lines) - sum(line.amount_minor for line in lines)
    total = max(cart.total_minor - removed, cart.shipping_minor + cart.tax_minor)
    return Cart(total, cart.shipping_minor, cart.tax_minor, tuple(lines))


def item_reverse_target(points_earned: int, kept_points: int) -> int:
    """Take back what the order earned beyond what the kept goods earn alone (a combo broken by a return goes)."""
    return max(0, points_earned - kept_points)


def unitemised_target(points_earned: int, item_points: int, refunded_minor: int, cash_minor: int) -> int:
    """A partial refund that names no items, of an order whose points came partly from its items (combos,
    categories): which items went back is unknown, so their bonus goes whole with the first such refund and the
    rest by the cash share (the merchant who sends ``items`` gets the exact answer)."""
    rest = points_earned - item_points
    return item_points + share_floor(rest, refunded_minor, cash_minor) if cash_minor else points_earned
