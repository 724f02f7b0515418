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

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from shared.clock import parse_ts
from shared.orders import Returned, item_reverse_target, kept_cart, returned_after, unitemised_target
from shared.program import ProgramSettings
from shared.records import EntryRecord
from shared.rules import Cart, Line, Standing, earn
from shared.tenants import Tenant


def recorded_lines(cart: Cart) -> list[list[Any]]:
    """Compact (``[sku, category, quantity, amount_minor]``): a 100-line order's PAID entry stays a few KB."""
    return [[line.sku, line.category, line.quantity, line.amount_minor] for line in cart.lines]


def recorded_standing(standing: Standing) -> dict[str, Any]:
    return asdict(standing)


def reverse_target(
    tenant: Tenant,
    paid: EntryRecord,
    before: Sequence[Returned],
    items: Sequence[Line] | None,
    refunded_minor: int,
) -> tuple[int | None, tuple[Returned, ...]]:
    """The earned points all refunds so far take back (None: by the cash share), and the items returned so far."""
    d = paid.details
    returned = tuple(before)
    if "lines" not in d or "standing" not in d or not d["lines"]:
        return None, returned
    paid_at = parse_ts(d["paid_at"])
    program = tenant.program_at(paid_at).settings
    earned, redeemed = int(d["points_earned"]), int(d["points_redeemed"])
    if items:
        returned = returned_after(returned, items)
        kept = kept_cart(_cart(d), returned)
        standing = _standing(d["standing"])
        return item_reverse_target(earned, earn(kept, redeemed, program, standing, paid_at).total_points), returned
    bonus = item_points(d["rules"], program)
    if bonus <= 0:
        return None, returned
    return unitemised_target(earned, bonus, refunded_minor, int(d["cash_paid_minor"])), returned


def item_points(breakdown: Sequence[dict[str, Any]], program: ProgramSettings) -> int:
    """The points of an order that depend on which items it had: combos, category multipliers, category promos."""
    by_category = {p.id for p in program.promotions if p.categories is not None}
    return sum(
        int(line["points"])
        for line in breakdown
        if line["rule"] in ("combo", "category") or (line["rule"] == "promotion" and line.get("id") in by_category)
    )


def _standing(d: dict[str, Any]) -> Standing:
    return Standing(
        spend_minor=int(d["spend_minor"]),
        kept_tier=d.get("kept_tier"),
        vip=bool(d["vip"]),
        boost_active=bool(d["boost_active"]),
        boost_discount_open=bool(d["boost_discount_open"]),
    )


def _cart(d: dict[str, Any]) -> Cart:
    lines = tuple(
        Line(sku=str(sku), category=category, quantity=int(quantity), amount_minor=int(amount))
        for sku, category, quantity, amount in d["lines"]
    )
    return Cart(int(d["total_minor"]), int(d["shipping_minor"]), int(d["tax_minor"]), lines)
