"""What a partial refund takes back when an order's points came from its items (issue 13, decision 47).

The PAID entry of an order whose breakdown has item-based points keeps the order's lines and the standing the rules
saw (an order earning by its amount alone keeps neither: the cash share is already right for it), so a refund that
names its items recomputes
what the customer keeps with the program version of the payment: the points taken back are what the order earned
beyond what the kept goods earn alone (returning the cheap half of a combo takes the combo bonus). A partial refund
without items, of an order whose breakdown has item-based points, takes those whole and the rest by the cash share.
Orders recorded before lines were kept are refunded by the cash share, as they always were.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shared.entry_details import PaidDetails
from shared.orders import Returned, item_reverse_target, kept_cart, returned_after, unitemised_target
from shared.program import ProgramSettings
from shared.rules import Cart, Line, earn
from shared.tenants import Tenant


def reverse_target(
    tenant: Tenant,
    paid: PaidDetails,
    before: Sequence[Returned],
    items: Sequence[Line] | None,
    refunded_minor: int,
) -> tuple[int | None, tuple[Returned, ...]]:
    """The earned points all refunds so far take back (None: by the cash share), and the items returned so far."""
    returned = tuple(before)
    if not paid.lines or paid.standing is None:
        return None, returned
    program = tenant.program_at(paid.paid_at).settings
    if items:
        returned = returned_after(returned, items)
        cart = Cart(paid.total_minor, paid.shipping_minor, paid.tax_minor, paid.lines)
        kept = kept_cart(cart, returned)
        kept_points = earn(kept, paid.points_redeemed, program, paid.standing, paid.paid_at).total_points
        return item_reverse_target(paid.points_earned, kept_points), returned
    bonus = item_points(paid.rules, program)
    if bonus <= 0:
        return None, returned
    return unitemised_target(paid.points_earned, bonus, refunded_minor, paid.cash_paid_minor), returned


def item_points(breakdown: Sequence[Mapping[str, Any]], program: ProgramSettings) -> int:
    """The points of an order that depend on which items it had: combos, category multipliers, category promos."""
    by_category = {p.id for p in program.promotions if p.categories is not None}
    return sum(
        int(line["points"])
        for line in breakdown
        if line["rule"] in ("combo", "category") or (line["rule"] == "promotion" and line.get("id") in by_category)
    )
