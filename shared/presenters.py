"""JSON shapes of the API responses (docs/spec.md §6): one function per resource, plain dicts out."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from shared.abc import CLASSES
from shared.clock import iso
from shared.entry_details import details_map
from shared.grants import Grant
from shared.hold_codes import code_of
from shared.keys import business_key, member_scope
from shared.ledger import Lot
from shared.program import ProgramSettings, ProgramVersion
from shared.records import EntryRecord, HistoryPage, NotificationRecord, Profile
from shared.services.abc import AbcReport
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
        "next_tier": (
            {"name": view.next_tier, "spend_needed_minor": view.next_tier_spend_needed_minor}
            if view.next_tier
            else None
        ),
        "vip": view.vip,
        "boost_until": iso(view.boost_until) if view.boost_until else None,
        "lifetime_spend_minor": view.lifetime_spend_minor,
        "referral_code": view.referral_code,  # what a new customer gives on a first order (program `referral`)
        "lots": [lot(x) for x in view.lots],
        **profile(view.profile),
    }


def cabinet_shop(tenant_id: str, program: ProgramSettings) -> dict[str, Any]:
    """The shop as its cabinet page shows it before a login (no member data)."""
    face = program.cabinet
    return {
        "tenant_id": tenant_id,
        "title": face.title or tenant_id,
        "colour": face.colour,
        "language": program.language,
        "currency": program.currency,
        "self_enrolment": face.self_enrolment,
        "sms_login": bool(face.sms_calling_codes),
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
        "details": details_map(e.details),
    }


def notification(n: NotificationRecord) -> dict[str, Any]:
    """A message in the history: no points move (delta 0); ``details`` say what was sent and how it went."""
    return {
        "seq": n.seq,
        "kind": "notification",
        "delta": 0,
        "reference": f"grant:{n.grant_id}" if n.grant_id else ("expiry_reminder" if n.topic == "expiry" else n.topic),
        "entry": business_key(member_scope(n.member_id), n.key),
        "created_at": iso(n.created_at),
        "lots": [],
        "details": {
            "topic": n.topic,
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
            **({"grant_id": n.grant_id} if n.grant_id else {}),
        },
    }


def history(page: HistoryPage) -> dict[str, Any]:
    items = [notification(e) if isinstance(e, NotificationRecord) else entry(e) for e in page.entries]
    return {"entries": items, "next_cursor": page.cursor}


# Details that name another member: a customer's own history shows the points moved, never the other party's id
# (a merchant's internal customer number; the friend was found by a contact or a code).
OTHER_MEMBER = ("from_member_id", "to_member_id", "referrer_id", "referee_id")


def customer_history(page: HistoryPage, member_id: str) -> dict[str, Any]:
    """The history as its member sees it in the cabinet: the merchant's, less other members' ids."""
    shown = history(page)
    for item in shown["entries"]:
        details = item["details"]
        for key in OTHER_MEMBER:
            if key in details and details[key] != member_id:
                del details[key]
    return shown


def program(version: ProgramVersion) -> dict[str, Any]:
    return {
        "version": version.version,
        "effective_at": iso(version.effective_at),
        **version.settings.model_dump(mode="json"),
    }


def _share_bp(part: int, total: int) -> int:
    return part * 10_000 // total if total else 0


def abc_report(report: AbcReport, member_id: str | None, limit: int, offset: int) -> dict[str, Any]:
    """Counts and totals per class, one page of the A members (highest first), and one member's class on request."""
    result = report.result
    classes = {}
    for klass in CLASSES:
        ranked = result.of(klass)
        value = sum(r.value for r in ranked)
        classes[klass] = {"members": len(ranked), "value": value, "share_bp": _share_bp(value, result.total)}
    a_members = result.of("A")
    page = a_members[offset : offset + limit]
    body: dict[str, Any] = {
        "metric": report.metric,
        "period_days": report.period_days,
        "from": iso(report.since),
        "to": iso(report.until),
        "currency": report.currency if report.metric == "revenue" else None,
        "total": result.total,
        "members": len(result.ranked),
        "classes": classes,
        "class_a": [
            {
                "member_id": r.member_id,
                "value": r.value,
                "rank": r.rank,
                "share_bp": _share_bp(r.value, result.total),
                "cumulative_share_bp": _share_bp(r.cumulative, result.total),
            }
            for r in page
        ],
        "next_cursor": str(offset + limit) if offset + limit < len(a_members) else None,
    }
    if member_id is not None:
        found = result.find(member_id)
        body["member"] = {
            "member_id": member_id,
            "class": found.klass if found else "C",
            "value": found.value if found else 0,
            "rank": found.rank if found else None,
        }
    return body


def grant(g: Grant) -> dict[str, Any]:
    """A bulk grant and its progress; the counters count members (``notified``: reached by at least one message)."""
    segment: dict[str, Any] = {"all": True} if g.segment == "all" else {}
    if g.segment == "tier":
        segment = {"tier": g.tier}
    if g.segment == "member_ids":
        segment = {"member_ids": g.member_count}
    done = g.status == "done"
    return {
        "grant_id": g.grant_id,
        "status": g.status,
        "segment": segment,
        "points": g.points,
        "expires_at": iso(g.expires_at),
        "reason": g.reason,
        "notify": list(g.notify),
        "targeted": g.targeted,
        "granted": g.granted,
        "skipped": g.skipped,
        "failed": g.failed,
        "notified": g.notified,
        "tasks": {"chains": g.chains, "chains_done": g.chains_done, "parts_done": g.parts_done},
        "created_at": iso(g.created_at),
        "started_at": iso(g.started_at) if g.started_at else None,
        "finished_at": iso(g.updated_at) if done and g.updated_at else None,
    }
