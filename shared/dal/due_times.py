"""The times the scheduled jobs' due indexes range on, read off an ``Account`` (no storage library here: the
in-memory store answers its due queries with them, ``account_codec`` writes them to the ACCOUNT item).

Every ``WakeUps`` field is the ``AccountItem`` attribute of the same name; the ledger derives three more times. A
job's row in ``shared.scheduled_jobs`` names its index's attribute, so a new wake-up needs no edit here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import datetime

from shared.account import Account, WakeUps

WAKEUP_FIELDS = tuple(f.name for f in fields(WakeUps))
# The due times the ACCOUNT item derives from the ledger (the other due indexes range on a wake-up).
DERIVED_TIMES: dict[str, Callable[[Account], datetime | None]] = {
    "next_expiry": lambda a: a.ledger.next_expiry,
    "hold_expiry": lambda a: a.ledger.next_hold_expiry,
    "next_available": lambda a: a.next_activation,
}


def due_time(attribute: str) -> Callable[[Account], datetime | None]:
    """The account's value of a due index's range ``attribute``: a derived time or a wake-up."""
    if attribute in DERIVED_TIMES:
        return DERIVED_TIMES[attribute]
    if attribute not in WAKEUP_FIELDS:
        raise ValueError(f"{attribute} is neither a derived due time nor a WakeUps field")
    return lambda account: getattr(account.wakeups, attribute)  # type: ignore[no-any-return]
