"""Order-level rules (SPEC §2, §3): what a paid order earns and what a refund takes back.

A paid order is recorded once with every amount its later refunds need (``OrderRecord``);
refunds are computed from that record and the refunds before them, never from today's rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.errors import Unprocessable
from shared.ledger import Credit, LotChange
from shared.money import eligible_minor, share_floor
from shared.program import ProgramSettings
from shared.rules import Cart, Earning


def max_redeemable(cart: Cart, available: int, program: ProgramSettings) -> int:
    """The most points usable on a cart: the share cap, the balance, and the minimum (§4)."""
    goods = eligible_minor(cart.total_minor, cart.shipping_minor, cart.tax_minor, 0, program.point_value_minor)
    by_share = (goods * program.max_redeem_share_bp) // (10_000 * program.point_value_minor)
    points = min(by_share, max(0, available))
    return points if points >= program.min_redeem_points else 0


def earn_credits(earning: Earning, paid_at: datetime, program: ProgramSettings) -> list[Credit]:
    """The permanent program's lot, then one lot per promo with the promo's own lifetime (SPEC §8)."""
    available_at = paid_at + timedelta(days=program.pending_days)
    credits = [Credit(earning.points, "order", available_at, paid_at + timedelta(days=program.lifetime_days))]
    credits += [Credit(p.points, "promo", available_at, p.expires_at) for p in earning.promos]
    return [c for c in credits if c.points > 0]


@dataclass(frozen=True)
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
) -> RefundPlan:
    """The refund's share is cumulative cash refunded / cash paid; ``None`` cancels the rest.

    ``expired_points``: earned points of this order that expired unspent. The member already lost
    them, so they are never taken back a second time (no debt for points nobody could spend)."""
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
    reverse_target = order.points_earned if full else share_floor(order.points_earned, cumulative, cash)
    reverse_target = min(reverse_target, order.points_earned - expired_points)
    restore_target = order.points_redeemed if full else share_floor(order.points_redeemed, cumulative, cash)
    restore_points = restore_target - before.restored_points
    return RefundPlan(
        cumulative,
        max(0, reverse_target - before.reversed_points),
        _restore_credits(order, before.restored_points, restore_points, now, restore_grace_days),
    )


def _restore_credits(
    order: OrderRecord, already: int, points: int, now: datetime, grace_days: int
) -> tuple[Credit, ...]:
    """Give spent points back lot by lot, last-consumed (latest-expiring) first, keeping each
    lot's original expiry while it is in the future, else ``grace_days`` from now. Pieces that end
    up with the same expiry merge into one lot."""
    by_expiry: dict[datetime, int] = {}
    skip, left = already, points
    for change in reversed(order.redeemed_lots):
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
