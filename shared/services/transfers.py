"""Points transfers between two members of one tenant (docs/spec.md §8, ``transfer`` program setting).

One transfer is one TransactWriteItems: both ACCOUNT items (each under its version), the sender's
``TRANSFER#<id>/OUT`` and the recipient's ``TRANSFER#<id>/IN`` entries (created only if new: the
caller's ``transfer_id`` is the business key) and the sender's ``TRANSFER#<YYYY-MM>`` counter of
points sent that month (replaced only if it still holds the total the limit was checked against).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.clock import iso
from shared.entry_details import TransferDetails
from shared.errors import Conflict, Forbidden, NotFound, Unprocessable
from shared.keys import TRANSFER_IN, TRANSFER_OUT, transfer_month_key, transfer_scope
from shared.ports import Duplicate
from shared.program import ProgramSettings
from shared.records import CounterRecord, EntryRecord
from shared.services.member_write import Change, Loaded, MemberWrite, Partner
from shared.services.store import LedgerStore
from shared.standing import month_key
from shared.tenants import Tenant
from shared.transfers import move_points


@dataclass(frozen=True)
class TransferIn:
    transfer_id: str
    from_member_id: str
    to_member_id: str
    points: int


@dataclass(frozen=True, kw_only=True)
class TransferResult:
    status: str  # applied | duplicate
    transfer_id: str
    from_member_id: str
    to_member_id: str
    points: int
    lots: list[dict[str, object]]  # what arrived: points and the expiry they kept
    from_balance: int
    to_balance: int
    month: str


class TransferService:
    def __init__(self, store: LedgerStore, attempts: int) -> None:
        self.store = store
        self.writes = MemberWrite(store, attempts)

    def transfer(self, tenant: Tenant, request: TransferIn, now: datetime) -> TransferResult:
        program = tenant.program_at(now).settings
        tid = tenant.tenant_id

        def step(sender: Loaded) -> Change[TransferResult]:
            done = self.store.entries(tid, transfer_scope(request.transfer_id))
            if done:  # a retry: answer the first result, whatever changed since (even the settings)
                return Change(result=_recorded(done, request))
            _check_allowed(program, request)
            if not sender.member.exists:
                raise NotFound("no such sender", code="member_not_found")
            recipient = self.writes.load(tenant, request.to_member_id, now)
            if not recipient.member.exists:
                raise NotFound("no such recipient", code="recipient_not_found")
            month = month_key(now, program.timezone)
            counter = self._counted(tid, program, request, month)
            return _moved(
                request, sender, recipient, counter, month, timedelta(days=program.transfer.min_lot_age_days), now
            )

        def duplicate(_: Duplicate) -> TransferResult | None:
            done = self.store.entries(tid, transfer_scope(request.transfer_id))
            return _recorded(done, request) if done else None

        return self.writes.apply(tenant, request.from_member_id, step, now, on_duplicate=duplicate)

    def _counted(self, tenant_id: str, program: ProgramSettings, request: TransferIn, month: str) -> CounterRecord:
        """The sender's points sent this month with this transfer added, within the monthly limit."""
        key = transfer_month_key(month)
        sent = self.store.counter(tenant_id, request.from_member_id, key)
        limit = program.transfer.max_points_per_month
        if limit and (sent or 0) + request.points > limit:
            left = max(0, limit - (sent or 0))
            raise Unprocessable(
                f"monthly transfer limit is {limit} points; {left} left this month", code="transfer_limit_exceeded"
            )
        return CounterRecord(request.from_member_id, key, (sent or 0) + request.points, sent)


def _moved(
    request: TransferIn,
    sender: Loaded,
    recipient: Loaded,
    counter: CounterRecord,
    month: str,
    min_lot_age: timedelta,
    now: datetime,
) -> Change[TransferResult]:
    """Move the points: the sender's change with the recipient's as its partner, one transaction."""
    s_ledger, out, r_ledger, incoming = move_points(
        sender.account.ledger, recipient.account.ledger, request.points, now, min_lot_age=min_lot_age
    )
    details = TransferDetails(
        transfer_id=request.transfer_id,
        from_member_id=request.from_member_id,
        to_member_id=request.to_member_id,
        points=request.points,
        month=month,
    )
    entries = [
        EntryRecord(
            scope=transfer_scope(request.transfer_id),
            key=key,
            member_id=member_id,
            movement=movement,
            reference=request.transfer_id,
            created_at=now,
            details=details,
        )
        for key, member_id, movement in (
            (TRANSFER_OUT, request.from_member_id, out),
            (TRANSFER_IN, request.to_member_id, incoming),
        )
    ]
    partner = Partner(
        recipient, Change(result=None, account=recipient.account.with_ledger(r_ledger), entries=(entries[1],))
    )
    result = _recorded(entries, request, "applied")
    return Change(
        result=result,
        account=sender.account.with_ledger(s_ledger),
        entries=(entries[0],),
        counter=counter,
        partner=partner,
    )


def _check_allowed(program: ProgramSettings, request: TransferIn) -> None:
    if not program.transfer.enabled:
        raise Forbidden("transfers are not enabled in this program", code="transfers_disabled")
    if request.from_member_id == request.to_member_id:
        raise Unprocessable("a member cannot transfer points to themselves", code="self_transfer")


def _recorded(entries: list[EntryRecord], request: TransferIn, status: str = "duplicate") -> TransferResult:
    """The result as written (a retry with the same transfer_id must name the same transfer, or it is a 409)."""
    out = next(e for e in entries if e.key == TRANSFER_OUT)
    incoming = next(e for e in entries if e.key == TRANSFER_IN)
    d = out.details
    assert isinstance(d, TransferDetails)
    if (d.from_member_id, d.to_member_id, d.points) != (
        request.from_member_id,
        request.to_member_id,
        request.points,
    ):
        raise Conflict("transfer_id was already used for another transfer", code="transfer_id_reused")
    lots = [{"points": c.change, "expires_at": iso(c.expires_at)} for c in incoming.movement.lots]
    return TransferResult(
        status=status,
        transfer_id=request.transfer_id,
        from_member_id=request.from_member_id,
        to_member_id=request.to_member_id,
        points=request.points,
        lots=lots,
        from_balance=out.movement.balance_after,
        to_balance=incoming.movement.balance_after,
        month=d.month,
    )
