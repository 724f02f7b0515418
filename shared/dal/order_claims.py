"""The order's hold claim (ORDER#<id>/HOLD): one open hold per order, across members.

Its conditions carry the rule, so two checkouts racing for one order cannot both win:
- a new hold takes the claim when there is none, or when the claim is its own member's (whose account already
  refuses a second open hold for the order), released, or past its TTL; never once the order's points were captured;
- a capture or a release writes the claim only if it is still this hold's. A hold that is open in its account owns
  the claim (nobody else can take it before its TTL), so this condition holds whenever the account write does.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shared.dal.models import OrderHoldItem
from shared.keys import HOLD, hold_claim_key
from shared.records import OrderHoldClaim

CLAIM_RECORD_DAYS = 30  # like a hold record: a month after the TTL, a captured order is still known by its REDEEM


def claim_write(pk: str, claim: OrderHoldClaim, now_epoch: int) -> tuple[OrderHoldItem, Any, str]:
    """The claim item, its condition and its duplicate key (a failed condition raises ``Duplicate`` of that key)."""
    item = OrderHoldItem(
        pk,
        HOLD,
        hold_id=claim.hold_id,
        member_id=claim.member_id,
        status=claim.status,
        expires_epoch=int(claim.expires_at.timestamp()),
        ttl=int((claim.expires_at + timedelta(days=CLAIM_RECORD_DAYS)).timestamp()),
    )
    return item, _condition(claim, now_epoch), hold_claim_key(claim.order_id)


def _condition(claim: OrderHoldClaim, now_epoch: int) -> Any:
    free = OrderHoldItem.pk.does_not_exist()
    if claim.status != "active":
        return free | (OrderHoldItem.hold_id == claim.hold_id)
    takeable = (
        (OrderHoldItem.member_id == claim.member_id)
        | (OrderHoldItem.status == "released")
        | (OrderHoldItem.expires_epoch <= now_epoch)
    )
    return free | ((OrderHoldItem.status != "captured") & takeable)
