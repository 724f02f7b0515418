"""The refund plan (docs/spec.md §3, docs/decisions.md 47) as tables: what a refund takes back and gives back.

tests/unit/test_refund_plan.py walks the worked example step by step (successive shares, restore expiries); these
tables cover the rest of ``plan_refund``'s inputs (expired points, the items' reverse target, zero-cash orders)
and the returns by item (``returned_after``, ``kept_cart``, the two targets). Expected values are worked by hand.

The order of every plan row is the docs/spec.md §2 worked example: 250000 total with 10000 shipping, 50 points redeemed at
100 minor a point, so 245000 paid in cash, 117 points earned.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.errors import Unprocessable
from shared.ledger import LotChange
from shared.orders import (
    OrderRecord,
    RefundTotals,
    Returned,
    item_reverse_target,
    kept_cart,
    plan_refund,
    returned_after,
    unitemised_target,
)
from shared.program import Combo, ProgramSettings
from shared.rules import Cart, Line, Standing, earn

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CASH = 245_000
HALF = 122_500  # the cash of the first half refunded
AFTER_HALF = RefundTotals(HALF, 58, 25)  # floor(117 / 2), floor(50 / 2)


def order(*, total: int = 250_000, shipping: int = 10_000, redeemed: int = 50, earned: int = 117) -> OrderRecord:
    lots = (LotChange("a", -redeemed, T0 + timedelta(days=200)),) if redeemed else ()
    return OrderRecord(
        order_id="o1",
        member_id="m1",
        currency="RUB",
        total_minor=total,
        shipping_minor=shipping,
        tax_minor=0,
        points_redeemed=redeemed,
        point_value_minor=100,
        earn_rate_bp=500,
        eligible_minor=total - shipping - redeemed * 100,
        points_earned=earned,
        paid_at=T0,
        program_version=1,
        earned_lot_ids=("e1",),
        redeemed_lots=lots,
    )


PLAN_ROWS = [
    # (before, amount, expired points, reverse target) -> (cumulative refunded, points reversed, points restored)
    pytest.param(RefundTotals(), 24_500, 0, None, (24_500, 11, 5), id="tenth-floors-11.7-and-5"),
    pytest.param(RefundTotals(), HALF, 0, None, (HALF, 58, 25), id="half-floors-58.5"),
    pytest.param(RefundTotals(), CASH, 0, None, (CASH, 117, 50), id="amount-equal-to-cash-is-full"),
    pytest.param(RefundTotals(), None, 0, None, (CASH, 117, 50), id="cancel-takes-everything"),
    pytest.param(AFTER_HALF, None, 0, None, (CASH, 59, 25), id="cancel-after-half-takes-the-rest"),
    pytest.param(AFTER_HALF, 61_250, 0, None, (183_750, 29, 12), id="second-refund-by-cumulative-share"),
    pytest.param(RefundTotals(), 1, 0, None, (1, 0, 0), id="one-minor-takes-nothing"),
    pytest.param(RefundTotals(), 0, 0, None, (0, 0, 0), id="zero-refund-takes-nothing"),
    pytest.param(RefundTotals(), None, 17, None, (CASH, 100, 50), id="expired-points-never-taken-twice"),
    pytest.param(RefundTotals(), HALF, 100, None, (HALF, 17, 25), id="expired-points-cap-a-partial-share"),
    pytest.param(AFTER_HALF, None, 50, None, (CASH, 9, 25), id="expired-after-a-first-reversal"),
    pytest.param(AFTER_HALF, None, 100, None, (CASH, 0, 25), id="expired-below-reversed-never-negative"),
    pytest.param(RefundTotals(), HALF, 0, 100, (HALF, 100, 25), id="items-target-replaces-cash-share"),
    pytest.param(RefundTotals(), CASH, 0, 10, (CASH, 117, 50), id="items-target-ignored-on-full-refund"),
    pytest.param(RefundTotals(), HALF, 0, -5, (HALF, 0, 25), id="items-target-below-zero-is-zero"),
    pytest.param(RefundTotals(), HALF, 0, 500, (HALF, 117, 25), id="items-target-capped-at-earned"),
    pytest.param(AFTER_HALF, 1_000, 0, 40, (123_500, 0, 0), id="items-target-below-reversed-takes-nothing"),
    pytest.param(RefundTotals(), HALF, 60, 100, (HALF, 57, 25), id="items-target-capped-by-expired"),
]


@pytest.mark.parametrize(("before", "amount", "expired", "target", "expected"), PLAN_ROWS)
def test_plan_refund(
    before: RefundTotals, amount: int | None, expired: int, target: int | None, expected: tuple[int, int, int]
) -> None:
    # Given the worked example's order and the refunds applied to it before
    # When this refund is planned
    plan = plan_refund(order(), before, amount, T0, 30, expired_points=expired, reverse_target=target)
    # Then it reaches the cumulative amount, reverses and restores the row's points
    assert (plan.refunded_minor, plan.reverse_points, plan.restored_points) == expected


@pytest.mark.parametrize(
    ("record", "amount", "expected"),
    [
        pytest.param(order(total=CASH, redeemed=0), HALF, (HALF, 58, 0), id="cash-only-order-restores-nothing"),
        pytest.param(
            order(shipping=0, total=10_000, redeemed=100, earned=0), None, (0, 0, 100), id="points-only-cancel"
        ),
        pytest.param(
            order(shipping=0, total=10_000, redeemed=100, earned=0), 0, (0, 0, 100), id="points-only-zero-is-full"
        ),
    ],
)
def test_plan_refund_of_other_orders(record: OrderRecord, amount: int | None, expected: tuple[int, int, int]) -> None:
    # Given an order paid in cash only, or in points only (no cash: any refund of it is the whole cash)
    plan = plan_refund(record, RefundTotals(), amount, T0, 30)
    # Then the plan follows the cash share, restoring the redeemed points whole when the cash is all refunded
    assert (plan.refunded_minor, plan.reverse_points, plan.restored_points) == expected


@pytest.mark.parametrize(
    ("record", "before", "amount"),
    [
        pytest.param(order(), RefundTotals(), CASH + 1, id="one-minor-above-cash"),
        pytest.param(order(), AFTER_HALF, HALF + 1, id="cumulative-above-cash"),
        pytest.param(
            order(shipping=0, total=10_000, redeemed=100, earned=0), RefundTotals(), 1, id="cash-of-points-order"
        ),
    ],
)
def test_refund_beyond_the_cash_paid_is_refused(record: OrderRecord, before: RefundTotals, amount: int) -> None:
    # When a refund would take the refunds past the cash paid / Then 422 refund_exceeds_paid
    with pytest.raises(Unprocessable) as exc:
        plan_refund(record, before, amount, T0, 30)
    assert exc.value.code == "refund_exceeds_paid"


# -- returns by item ------------------------------------------------------------------------------------------------

# Two A for 600 and one B for 400, 200 shipping: 1200 in all.
CART = Cart(1_200, 200, 0, (Line("A", "coffee", 2, 600), Line("B", "tea", 1, 400)))


@pytest.mark.parametrize(
    ("returned", "expected"),
    [
        pytest.param((), CART, id="nothing-returned"),
        pytest.param(
            (Returned("A", 1, 300),),
            Cart(900, 200, 0, (Line("A", "coffee", 1, 300), Line("B", "tea", 1, 400))),
            id="one-of-two-A",
        ),
        pytest.param(
            (Returned("A", 2, 600),), Cart(600, 200, 0, (Line("B", "tea", 1, 400),)), id="line-returned-whole"
        ),
        pytest.param(
            (Returned("A", 2, 600), Returned("B", 1, 400)), Cart(200, 200, 0, ()), id="all-returned-shipping-stays"
        ),
        pytest.param((Returned("A", 5, 900),), Cart(600, 200, 0, (Line("B", "tea", 1, 400),)), id="more-than-bought"),
        pytest.param((Returned("Z", 1, 100),), CART, id="unknown-sku-ignored"),
    ],
)
def test_kept_cart(returned: tuple[Returned, ...], expected: Cart) -> None:
    # Given the order's cart and the SKUs returned so far / Then the cart the customer keeps
    assert kept_cart(CART, returned) == expected


def test_kept_cart_never_goes_below_shipping_and_tax() -> None:
    # Given a discounted order (lines 1000, paid 700 with 200 shipping and 50 tax) / When all goods come back
    discounted = Cart(700, 200, 50, (Line("A", None, 1, 1_000),))
    # Then the kept total is the shipping and tax, not 700 - 1000
    assert kept_cart(discounted, (Returned("A", 1, 1_000),)) == Cart(250, 200, 50, ())


def test_returned_after_accumulates_per_sku() -> None:
    # Given one A returned before / When one A and two B come back / Then per SKU, sorted
    before = (Returned("A", 1, 300),)
    items = (Line("B", None, 2, 800), Line("A", None, 1, 300))
    assert returned_after(before, items) == (Returned("A", 2, 600), Returned("B", 2, 800))


@pytest.mark.parametrize(
    ("earned", "kept", "expected"),
    [
        pytest.param(150, 50, 100, id="combo-broken-goes-with-the-return"),
        pytest.param(117, 117, 0, id="kept-goods-earn-it-all"),
        pytest.param(50, 80, 0, id="kept-earn-more-today-takes-nothing"),
    ],
)
def test_item_reverse_target(earned: int, kept: int, expected: int) -> None:
    assert item_reverse_target(earned, kept) == expected


@pytest.mark.parametrize(
    ("item_points", "refunded", "cash", "expected"),
    [
        pytest.param(50, HALF, CASH, 100, id="item-bonus-whole-rest-by-share"),  # 50 + floor(100 / 2)
        pytest.param(0, HALF, CASH, 75, id="no-item-points-pure-share"),  # floor(150 / 2)
        pytest.param(150, 1, CASH, 150, id="all-item-points-go-first"),
        pytest.param(50, 0, 0, 150, id="no-cash-takes-everything"),
    ],
)
def test_unitemised_target(item_points: int, refunded: int, cash: int, expected: int) -> None:
    # Given an order that earned 150 points, ``item_points`` of them from its items
    assert unitemised_target(150, item_points, refunded, cash) == expected


def test_returning_half_a_combo_takes_the_combo_bonus_back() -> None:
    # Given 10 % and a combo A+B of 50 points: A and B for 50000 each earn 100 + 50
    program = ProgramSettings(currency="RUB", earn_rate_bp=1_000, combos=[Combo(skus=["A", "B"], bonus_points=50)])
    bought = Cart(100_000, 0, 0, (Line("A", None, 1, 50_000), Line("B", None, 1, 50_000)))
    record = order(total=100_000, shipping=0, redeemed=0, earned=150)
    # When B comes back: the kept A alone earns 50
    returned = returned_after((), (Line("B", None, 1, 50_000),))
    kept = earn(kept_cart(bought, returned), 0, program, Standing(), T0).total_points
    plan = plan_refund(record, RefundTotals(), 50_000, T0, 30, reverse_target=item_reverse_target(150, kept))
    # Then 100 points go back (B's 50 and the combo's 50), not half of 150
    assert (kept, plan.reverse_points) == (50, 100)
