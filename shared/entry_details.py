"""What a ledger entry records beyond its movement, as typed records (issue 15 item 2).

Each kind of entry that carries more than points has its own record: the order's accrual (``PaidDetails``: every
amount a refund needs and how the points came about), a redemption (``RedeemDetails``), a transfer side, a
referral bonus, a bulk or birthday grant, an activation. Services build them with keyword arguments and read their
fields; storage keeps them as the entry's ``details`` map (``to_map``, the stored layout unchanged) and reads them
back by the entry's sort key (``details_from``). Nothing reads a details key by string outside this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any, cast

from shared.clock import iso, parse_ts
from shared.keys import ACTIVATE_PREFIX, BIRTHDAY_PREFIX, GRANT_PREFIX, PAID, REDEEM, REFEREE, REFERRER, WELCOME
from shared.rules import Line, Standing
from shared.standing import Gained


@dataclass(frozen=True, kw_only=True)
class PaidDetails:
    """An order's PAID entry (docs/spec.md §3, §8)."""

    order_id: str
    currency: str
    total_minor: int
    shipping_minor: int
    tax_minor: int
    points_redeemed: int
    point_value_minor: int
    earn_rate_bp: int
    tier: str | None
    eligible_minor: int
    points_earned: int
    rules: tuple[Mapping[str, Any], ...]  # which rule gave how many points
    cash_paid_minor: int
    paid_at: datetime
    spend_month: str | None  # the tenant-time month whose spend the order counts in (None: recorded before it was)
    program_version: int
    restore_grace_days: int = 30
    earned_lot_ids: tuple[str, ...] = ()
    gained: Gained | None = None  # what the order did to the standing, for its refund to undo (None: not recorded)
    lines: tuple[Line, ...] = ()  # kept when item-based points need the items to refund by (decision 47)
    standing: Standing | None = None  # the standing the rules saw, kept with the lines
    referral: Mapping[str, Any] | None = None  # the referral code on the order: applied, or why it was ignored
    code_charge: str | None = None  # why a platform order's code was charged unusually
    answered_balance: int | None = None  # the member's balance after the whole write, when not the entry's own

    def to_map(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("gained", "lines", "standing", "referral", "code_charge", "answered_balance")
        }
        d.update(
            rules=[dict(r) for r in self.rules], paid_at=iso(self.paid_at), earned_lot_ids=list(self.earned_lot_ids)
        )
        if self.gained is not None:
            until = self.gained.boost_until
            d.update(tier_before=self.gained.tier_before, boost_started_until=iso(until) if until else None)
        if self.lines:
            d.update(lines=[[x.sku, x.category, x.quantity, x.amount_minor] for x in self.lines])
            d.update(standing=asdict(self.standing) if self.standing else None)
        optional = {
            "referral": self.referral,
            "code_charge": self.code_charge,
            "answered_balance": self.answered_balance,
        }
        d.update({k: (dict(v) if isinstance(v, Mapping) else v) for k, v in optional.items() if v is not None})
        return d

    @classmethod
    def from_map(cls, d: Mapping[str, Any]) -> PaidDetails:
        plain = {f.name: d[f.name] for f in fields(cls) if f.name in d and f.name not in _PAID_DECODED}
        redeemed, value = int(d["points_redeemed"]), int(d["point_value_minor"])
        return cls(
            **plain,
            rules=tuple(d.get("rules") or ()),
            cash_paid_minor=int(d.get("cash_paid_minor", int(d["total_minor"]) - redeemed * value)),
            paid_at=parse_ts(d["paid_at"]),
            spend_month=d.get("spend_month"),
            earned_lot_ids=tuple(d.get("earned_lot_ids") or ()),
            gained=_gained(d),
            lines=tuple(_line(row) for row in d.get("lines") or ()),
            standing=Standing(**d["standing"]) if d.get("standing") else None,
        )


_PAID_DECODED = frozenset(
    {"rules", "cash_paid_minor", "paid_at", "spend_month", "earned_lot_ids", "gained", "lines", "standing"}
)


def _gained(d: Mapping[str, Any]) -> Gained | None:
    if "tier_before" not in d:  # recorded before orders kept it
        return None
    started = d.get("boost_started_until")
    return Gained(tier_before=d["tier_before"], boost_until=parse_ts(started) if started else None)


def _line(row: list[Any]) -> Line:
    sku, category, quantity, amount = row
    return Line(sku=str(sku), category=category, quantity=int(quantity), amount_minor=int(amount))


@dataclass(frozen=True, kw_only=True)
class RedeemDetails:
    """Points spent on an order: ``hold_id`` names the hold really captured (None: a direct spend)."""

    hold_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class TransferDetails:
    transfer_id: str
    from_member_id: str
    to_member_id: str
    points: int
    month: str  # the sender's tenant-time month the transfer counts against


@dataclass(frozen=True, kw_only=True)
class RefereeDetails:
    referrer_id: str
    code: str


@dataclass(frozen=True, kw_only=True)
class ReferrerDetails:
    referee_id: str
    order_id: str


@dataclass(frozen=True, kw_only=True)
class GrantDetails:
    grant_id: str
    reason: str
    points: int


@dataclass(frozen=True, kw_only=True)
class BirthdayDetails:
    rule: str  # "birthday"
    year: int
    points: int
    lifetime_days: int


@dataclass(frozen=True, kw_only=True)
class WelcomeDetails:
    """The welcome bonus of a customer who joined from the cabinet (issue 16 item 3)."""

    points: int
    lifetime_days: int


@dataclass(frozen=True, kw_only=True)
class ActivationDetails:
    points: int  # what became spendable


Plain = (
    RedeemDetails | TransferDetails | RefereeDetails | ReferrerDetails | GrantDetails | BirthdayDetails | WelcomeDetails
)
EntryDetails = PaidDetails | Plain | ActivationDetails


def details_map(details: EntryDetails | None) -> dict[str, Any]:
    """The stored (and shown) form: a map of plain values."""
    if details is None:
        return {}
    if isinstance(details, PaidDetails):
        return details.to_map()
    return {k: v for k, v in asdict(details).items() if not (k == "hold_id" and v is None)}


def details_from(scope: str, key: str, d: Mapping[str, Any]) -> EntryDetails | None:
    """The record an entry's sort key says its details are (None: an entry without details)."""
    kind = _kind(scope, key)
    if kind is None or (not d and kind is not RedeemDetails):
        return None
    if kind is PaidDetails:
        return PaidDetails.from_map(d)
    made: EntryDetails = cast(Any, kind)(**{f.name: d.get(f.name) for f in fields(kind)})
    return made


def _kind(scope: str, key: str) -> type[EntryDetails] | None:
    if key == PAID:
        return PaidDetails
    if key == REDEEM:
        return RedeemDetails
    if key == WELCOME:
        return WelcomeDetails
    if scope.startswith("TRANSFER#") and key in ("OUT", "IN"):
        return TransferDetails
    by_prefix = {REFEREE: RefereeDetails, REFERRER: ReferrerDetails, GRANT_PREFIX: GrantDetails}
    by_prefix |= {BIRTHDAY_PREFIX: BirthdayDetails, ACTIVATE_PREFIX: ActivationDetails}
    return next((kind for prefix, kind in by_prefix.items() if key.startswith(prefix)), None)
