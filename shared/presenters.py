"""JSON shapes of the API responses (SPEC §6): one function per resource, plain dicts out."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from shared.clock import iso
from shared.hold_codes import code_of
from shared.ledger import Lot
from shared.program import ProgramVersion
from shared.records import EntryRecord, HistoryPage, NotificationRecord, Profile
from shared.services.checkout import HoldResult, Quote
from shared.services.members import MemberView
from shared.services.orders import OrderResult
from shared.services.transfers import TransferResult


def order_result(result: OrderResult) -> dict[str, Any]:
    return {k: v for k, v in asdict(result).items() if v is not None}


def transfer(t: TransferResult) -> dict[str, Any]:
    return asdict(t)


def quote(q: Quote) -> dict[str, Any]:
    return asdict(q)


def hold(h: HoldResult) -> dict[str, Any]:
    return {
        "hold_id": h.hold_id,
        "code": code_of(h.hold_id),  # the one-time checkout code (None for holds made before codes existed)
        "order_id": h.order_id,
        "member_id": h.member_id,
        "points": h.points,
        "discount_minor": h.discount_minor,
        "expires_at": iso(h.expires_at),
        "status": h.status,
    }


def lot(item: Lot) -> dict[str, Any]:
    return {
        "lot_id": item.lot_id,
        "points": item.points,
        "remaining": item.remaining,
        "source": item.source,
        "earned_at": iso(item.earned_at),
        "available_at": iso(item.available_at),
        "expires_at": iso(item.expires_at),
    }


def profile(p: Profile | None) -> dict[str, Any]:
    if p is None:
        return {"email": None, "phone": None, "name": None, "birthday": None, "consent": {}}
    return {"email": p.email, "phone": p.phone, "name": p.name, "birthday": p.birthday, "consent": p.consent}


def member(view: MemberView) -> dict[str, Any]:
    b = view.balances
    return {
        "member_id": view.member_id,
        "balance": b.balance,
        "available": b.available,
        "pending": b.pending,
        "held": b.held,
        "debt": b.debt,
        "tier": view.tier,
        "tier_spend_minor": view.tier_spend_minor,
        "vip": view.vip,
        "boost_until": iso(view.boost_until) if view.boost_until else None,
        "lifetime_spend_minor": view.lifetime_spend_minor,
        "referral_code": view.referral_code,  # what a new customer gives on a first order (program `referral`)
        "lots": [lot(x) for x in view.lots],
        **profile(view.profile),
    }


def entry(e: EntryRecord) -> dict[str, Any]:
    mv = e.movement
    return {
        "seq": mv.seq,
        "kind": mv.kind,
        "delta": mv.delta,
        "balance_after": mv.balance_after,
        "debt_change": mv.debt_change,
        "reference": e.reference,
        "entry": f"{e.scope}/{e.key}",
        "created_at": iso(e.created_at),
        "lots": [{"lot_id": c.lot_id, "change": c.change, "expires_at": iso(c.expires_at)} for c in mv.lots],
        "details": e.details,
    }


def notification(n: NotificationRecord) -> dict[str, Any]:
    """A reminder in the history: no points move (delta 0); ``details`` say what was sent and how it went."""
    return {
        "seq": n.seq,
        "kind": "notification",
        "delta": 0,
        "reference": "expiry_reminder",
        "entry": f"M#{n.member_id}/{n.key}",
        "created_at": iso(n.created_at),
        "lots": [],
        "details": {
            "channel": n.channel,
            "days_before": n.days_before,
            "expiry_date": n.expiry_date,
            "points": n.points,
            "status": n.status,
            "attempts": n.attempts,
            "cost_usd_micros": n.cost_usd_micros,
            "message_id": n.message_id,
            "error": n.error,
            "updated_at": iso(n.updated_at),
        },
    }


def history(page: HistoryPage) -> dict[str, Any]:
    items = [notification(e) if isinstance(e, NotificationRecord) else entry(e) for e in page.entries]
    return {"entries": items, "next_cursor": page.cursor}


def program(version: ProgramVersion) -> dict[str, Any]:
    return {
        "version": version.version,
        "effective_at": iso(version.effective_at),
        **version.settings.model_dump(mode="json"),
    }
