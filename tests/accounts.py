"""Accounts for tests: ``account("c1", lots=..., tier=..., reminded_through=...)`` puts each named field into its part
of ``shared.account.Account`` (the ledger, the standing, the wake-ups), so a test names only what it is about."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from shared.account import Account, ProgramStanding, WakeUps
from shared.ledger import Ledger

_PARTS = {part: {f.name for f in fields(part)} for part in (Ledger, ProgramStanding, WakeUps)}


def account(member_id: str, *, version: int = 0, **named: Any) -> Account:
    unknown = set(named) - set().union(*_PARTS.values())
    if unknown:
        raise TypeError(f"no account field {sorted(unknown)}")
    ledger = Ledger(member_id, **{k: v for k, v in named.items() if k in _PARTS[Ledger]})
    standing = ProgramStanding(**{k: v for k, v in named.items() if k in _PARTS[ProgramStanding]})
    wakeups = WakeUps(**{k: v for k, v in named.items() if k in _PARTS[WakeUps]})
    return Account(ledger=ledger, version=version, standing=standing, wakeups=wakeups)
