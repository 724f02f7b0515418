"""The ledger invariants of docs/spec.md §3, checked over what the API shows of one member after a load run.

Input: the member view (`GET /members/{id}`), every history entry (`GET /members/{id}/history`, all pages, newest
first) and, when the run is sure of it, what the run's answers promised (the balance the applied orders add up to
and the holds left open). Output: one line per broken invariant (none when the member is consistent).

The same invariants as tests/property/test_ledger_stateful.py, seen from outside through HTTP: that test reads the
account item, this one only what a merchant can read. It assumes a quiet ledger (no request in flight) and no lot
past its expiry without its `expire` entry yet (a load run's lots live for the program's lifetime).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

NOTIFICATION = "notification"  # messages share the history but move no points


@dataclass(frozen=True)
class Promised:
    """What the answers of the run said: ``balance`` = points earned − points redeemed by the applied orders,
    ``held`` = points of the holds placed and neither captured nor released."""

    balance: int
    held: int


def violations(
    member_id: str, view: Mapping[str, Any], history: Sequence[Mapping[str, Any]], promised: Promised | None = None
) -> list[str]:
    """Every invariant the member breaks, as readable lines naming the member."""
    found: list[str] = []

    def check(ok: bool, what: str) -> None:
        if not ok:
            found.append(f"{member_id}: {what}")

    balance, available, pending, held, debt = (
        int(view[k]) for k in ("balance", "available", "pending", "held", "debt")
    )
    lots = list(view["lots"])
    remaining = sum(int(lot["remaining"]) for lot in lots)
    entries = [e for e in history if e.get("kind") != NOTIFICATION]
    deltas = sum(int(e["delta"]) for e in entries)

    check(balance == remaining - debt, f"balance {balance} != sum of lot remainders {remaining} - debt {debt}")
    check(
        balance == available + held + pending,
        f"balance {balance} != available {available} + held {held} + pending {pending}",
    )
    check(balance == deltas, f"balance {balance} != sum of the history's deltas {deltas}")
    check(debt >= 0, f"negative debt {debt}")
    check(held >= 0, f"negative held {held}")
    check(held <= max(balance, 0), f"held {held} > balance {balance}")
    check(available >= 0 or debt > 0, f"negative available {available} without a debt")
    for lot in lots:
        check(
            0 < int(lot["remaining"]) <= int(lot["points"]),
            f"lot {lot['lot_id']} has {lot['remaining']} of {lot['points']} points left",
        )
    expiries = [(str(lot["expires_at"]), str(lot["lot_id"])) for lot in lots]
    check(expiries == sorted(expiries), "the lots are not soonest-expiring first")

    oldest_first = list(reversed(entries))
    seqs = [int(e["seq"]) for e in oldest_first]
    check(seqs == list(range(1, len(seqs) + 1)), f"the entries' seq are not 1..{len(seqs)} without gaps: {seqs}")
    running = 0
    for entry in oldest_first:
        running += int(entry["delta"])
        check(
            int(entry["balance_after"]) == running,
            f"entry {entry['seq']} says balance_after {entry['balance_after']}, the deltas give {running}",
        )
        if entry["kind"] == "redeem":
            check(
                int(entry["balance_after"]) >= 0,
                f"redemption {entry['seq']} left the balance at {entry['balance_after']}",
            )

    if promised is not None:
        check(
            balance == promised.balance,
            f"balance {balance} != {promised.balance} the applied orders add up to (an update lost or doubled)",
        )
        check(held == promised.held, f"held {held} != {promised.held} in the holds left open")
    return found
