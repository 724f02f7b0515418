"""What the program's scheduled messages say (docs/spec.md §8): birthday bonus, tier downgrade, boost ending. Pure.

E-mails are SES templates (infra/resources.json words them, ``<namespace>-<kind>-<language>``); these functions
give their data. SMS texts are whole here, like the reminder's (``shared.notify.messages``).
"""

from __future__ import annotations

from datetime import date

from shared.notify.messages import _ru_points, format_date

BIRTHDAY, TIER_DOWNGRADE, BOOST_ENDING = "birthday-bonus", "tier-downgrade", "boost-ending"  # template kinds


def _points(points: int, language: str) -> str:
    return _ru_points(points) if language == "ru" else f"{points} points"


def birthday_data(merchant: str, name: str | None, points: int, expires: date, language: str) -> dict[str, str]:
    return {
        "name": name or "",
        "merchant": merchant,
        "points": str(points),
        "points_text": _points(points, language),
        "date": format_date(expires, language),
    }


def downgrade_data(merchant: str, name: str | None, held: str | None, tier: str | None) -> dict[str, str]:
    return {"name": name or "", "merchant": merchant, "old_tier": held or "", "new_tier": tier or ""}


def boost_data(merchant: str, name: str | None, until: date, language: str) -> dict[str, str]:
    return {"name": name or "", "merchant": merchant, "date": format_date(until, language)}


def boost_sms(merchant: str, until: date, language: str) -> str:
    when = format_date(until, language)
    if language == "ru":
        return f"{merchant}: ваши повышенные баллы и скидка действуют до {when}. Успейте воспользоваться!"
    return f"{merchant}: your bonus points and discount end on {when}. Make the most of them!"
