"""What a reminder says, per channel and language (docs/spec.md §7). Pure: the senders only deliver."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, kw_only=True)
class Reminder:
    """Everything a reminder message may name."""

    tenant_id: str
    member_id: str
    name: str | None
    phone: str | None
    points: int
    expiry_date: date
    language: str  # en | ru


def format_date(day: date, language: str) -> str:
    return day.strftime("%d.%m.%Y") if language == "ru" else day.isoformat()


def ru_plural(count: int, one: str, few: str, many: str) -> str:
    """A Russian noun after a number takes one of three forms (1 балл, 2 балла, 5 баллов, 11 баллов, 21 балл)."""
    tens, units = count % 100, count % 10
    if units == 1 and tens != 11:
        return f"{count} {one}"
    if 2 <= units <= 4 and not 12 <= tens <= 14:
        return f"{count} {few}"
    return f"{count} {many}"


def _ru_points(points: int) -> str:
    return ru_plural(points, "балл", "балла", "баллов")


def email_data(r: Reminder) -> dict[str, str]:
    """The SES template's data: the template (infra/resources.json) words the subject and body."""
    points = _ru_points(r.points) if r.language == "ru" else f"{r.points} points"
    return {
        "name": r.name or "",
        "points": str(r.points),
        "points_text": points,
        "date": format_date(r.expiry_date, r.language),
        "merchant": r.tenant_id,
    }


def sms_text(r: Reminder) -> str:
    when = format_date(r.expiry_date, r.language)
    if r.language == "ru":
        return f"{r.tenant_id}: {_ru_points(r.points)} сгорят {when}. Успейте потратить их!"
    return f"{r.tenant_id}: {r.points} of your points expire on {when}. Use them before they are gone!"


def staff_call(r: Reminder) -> tuple[str, str]:
    """Subject and body of the "call this customer" task on the managers' topic (JSON body for tooling)."""
    when = format_date(r.expiry_date, r.language)
    if r.language == "ru":
        subject = f"Позвонить клиенту: {_ru_points(r.points)} сгорят {when}"
    else:
        subject = f"Call customer: {r.points} points expire on {when}"
    body = {
        "task": "call_customer",
        "tenant_id": r.tenant_id,
        "member_id": r.member_id,
        "name": r.name,
        "phone": r.phone,
        "points": r.points,
        "expiry_date": r.expiry_date.isoformat(),
    }
    return subject[:100], json.dumps(body, ensure_ascii=False)


@dataclass(frozen=True, kw_only=True)
class GrantNotice:
    """What a bulk grant's message names (docs/spec.md §8)."""

    tenant_id: str
    name: str | None
    points: int
    reason: str
    expiry_date: date
    language: str


def grant_email_data(n: GrantNotice) -> dict[str, str]:
    """The data of the grant SES template (infra/resources.json, ``GrantEmailEn`` / ``Ru``)."""
    points = _ru_points(n.points) if n.language == "ru" else f"{n.points} points"
    return {
        "name": n.name or "",
        "points": str(n.points),
        "points_text": points,
        "reason": n.reason,
        "date": format_date(n.expiry_date, n.language),
        "merchant": n.tenant_id,
    }


def grant_sms_text(n: GrantNotice) -> str:
    when = format_date(n.expiry_date, n.language)
    if n.language == "ru":
        return f"{n.tenant_id}: вам начислено {_ru_points(n.points)} ({n.reason}). Действуют до {when}."
    return f"{n.tenant_id}: you got {n.points} points ({n.reason}). Spend them by {when}."
