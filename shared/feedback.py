"""A customer's rating of a paid order (issue 16 item 6), pure: the score's range, the merchant's time-ordered list,
its cursor, and the complaint the staff get for a low score.

The merchant lists feedback by time without a Scan: each rating is also kept in a tenant-wide partition per UTC month
(``FEEDBACK#<yyyy-mm>``, sort key ``<created_at>#<order>``), so that a list from ``since`` reads the months from
``since`` to now, oldest first: at most four for the longest window (``MAX_SINCE``). A rating is a few per order at
most, so one month's partition stays far below DynamoDB's write limit of a partition.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.clock import iso
from shared.errors import BadRequest, Unprocessable

MIN_SCORE, MAX_SCORE = 1, 5
MAX_COMMENT = 1000
COMPLAINT_AT_MOST = 2  # a score of 1 or 2 is a complaint the staff act on
MAX_SINCE = timedelta(days=92)  # how far back the merchant's list reaches
MAX_PAGE = 100


@dataclass(frozen=True, kw_only=True)
class Feedback:
    """One rating, at most one per order (the first one stays)."""

    tenant_id: str
    order_id: str
    member_id: str
    score: int
    comment: str
    created_at: datetime
    reward_points: int = 0  # what the member got for it (the program's setting then; the same whatever the score)


@dataclass(frozen=True)
class Position:
    """Where a list page starts: the month's partition and the sort key after which it reads (``""``: from the
    start of ``since``'s)."""

    month: str
    after: str


def valid_score(score: int) -> bool:
    return MIN_SCORE <= score <= MAX_SCORE


def is_complaint(score: int) -> bool:
    return score <= COMPLAINT_AT_MOST


def month_of(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m")


def list_key(created_at: datetime, order_id: str) -> str:
    """The sort key in the month's partition: by time, then by order (two ratings in one second both kept)."""
    return f"{iso(created_at)}#{order_id}"


def months(first: str, now: datetime) -> list[str]:
    """The months from ``first`` (``yyyy-mm``) to the month of ``now``, oldest first."""
    year, month = (int(part) for part in first.split("-"))
    last = month_of(now)
    found = []
    while (current := f"{year:04d}-{month:02d}") <= last:
        found.append(current)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def start(since: datetime, now: datetime) -> Position:
    """The first page's position: from ``since``, which may not be older than ``MAX_SINCE`` (422 ``since_too_old``)."""
    if since < now - MAX_SINCE:
        raise Unprocessable(
            f"since may be at most {MAX_SINCE.days} days ago",
            code="since_too_old",
            details={"max_days": MAX_SINCE.days},
        )
    # just before the first key of ``since``'s second: keys compare as text, "#" sorts after nothing shorter
    return Position(month_of(since), iso(since))


def cursor_of(position: Position) -> str:
    raw = json.dumps({"m": position.month, "k": position.after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def position_of(cursor: str, now: datetime) -> Position:
    """A cursor back to its position; one not issued here, or older than the window, is a 400 ``invalid_cursor``."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        position = Position(str(data["m"]), str(data["k"]))
        datetime.strptime(position.month, "%Y-%m")
    except (ValueError, TypeError, KeyError, binascii.Error) as exc:
        raise BadRequest("cursor was not issued here", code="invalid_cursor") from exc
    if position.month < month_of(now - MAX_SINCE) or position.month > month_of(now):
        raise BadRequest("cursor is out of the list's window", code="invalid_cursor")
    return position


def complaint(tenant_id: str, feedback: Feedback, language: str) -> tuple[str, str]:
    """Subject and body of the complaint task on the managers' topic (JSON body for tooling). No contact, name or
    member id (a shop may use e-mail addresses as member ids): the staff find the customer by the order."""
    if language == "ru":
        subject = f"Жалоба: заказ {feedback.order_id} оценён на {feedback.score} из {MAX_SCORE}"
    else:
        subject = f"Complaint: order {feedback.order_id} rated {feedback.score} of {MAX_SCORE}"
    body = {
        "task": "feedback_complaint",
        "tenant_id": tenant_id,
        "order_id": feedback.order_id,
        "score": feedback.score,
        "comment": feedback.comment,
        "created_at": iso(feedback.created_at),
    }
    return subject[:100], json.dumps(body, ensure_ascii=False)
