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
from shared.errors import Conflict, Forbidden, NotFound, Unprocessable
from shared.keys import transfer_month_key, transfer_scope
from shared.ports import Duplicate
from shared.program import ProgramSettings
from shared.records import Commit, CounterRecord, EntryRecord, Member
from shared.services.store import LedgerStore, bumped, expire_due, with_retries
from shared.standing import month_key
from shared.tenants import Tenant
from shared.transfers import move_points


@dataclass(frozen=True)
class TransferIn:
    transfer_id: str
    from_member_id: str
    to_member_id: str
    points: int


@dataclass(frozen=True)
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
        self.attempts = attempts

    def transfer(self, tenant: Tenant, request: TransferIn, now: datetime) -> TransferResult:
        program = tenant.program_at(now).settings
        tid = tenant.tenant_id

        def step() -> TransferResult:
            done = self.store.entries(tid, transfer_scope(request.transfer_id))
            if done:  # a retry: answer the first result, whatever changed since (even the settings)
                return _recorded(done, request)
            _check_allowed(program, request)
            sender = self._member(tid, request.from_member_id, "member_not_found", "sender")
            recipient = self._member(tid, request.to_member_id, "recipient_not_found", "recipient")
            month = month_key(now, program.timezone)
            counter = self._counted(tid, program, request, month)
            return self._apply(tenant, request, (sender, recipient), counter, month, now)

        def duplicate(_: Duplicate) -> TransferResult | None:
            done = self.store.entries(tid, transfer_scope(request.transfer_id))
            return _recorded(done, request) if done else None

        return with_retries(self.attempts, step, duplicate)

    def _apply(
        self,
        tenant: Tenant,
        request: TransferIn,
        members: tuple[Member, Member],
        counter: CounterRecord,
        month: str,
        now: datetime,
    ) -> TransferResult:
        """Move the points and write both sides in one transaction (a stale read loses its version condition)."""
        sender, recipient = members
        min_age = timedelta(days=tenant.program_at(now).settings.transfer.min_lot_age_days)
        s_acc, s_expired = expire_due(sender.account, now)
        r_acc, r_expired = expire_due(recipient.account, now)
        s_acc, out, r_acc, incoming = move_points(s_acc, r_acc, request.points, now, min_lot_age=min_age)
        details = {
            "transfer_id": request.transfer_id,
            "from_member_id": request.from_member_id,
            "to_member_id": request.to_member_id,
            "points": request.points,
            "month": month,
        }
        entries = [
            EntryRecord(
                scope=transfer_scope(request.transfer_id),
                key=key,
                member_id=member.account.member_id,
                movement=movement,
                reference=request.transfer_id,
                created_at=now,
                details=details,
            )
            for key, member, movement in (("OUT", sender, out), ("IN", recipient, incoming))
        ]
        current = tenant.current.settings
        self.store.commit_pair(
            tenant.tenant_id,
            Commit(
                member_id=request.from_member_id,
                account=bumped(s_acc, current, now),
                expected_version=sender.account.version,
                entries=(*s_expired, entries[0]),
                counter=counter,
            ),
            Commit(
                member_id=request.to_member_id,
                account=bumped(r_acc, current, now),
                expected_version=recipient.account.version,
                entries=(*r_expired, entries[1]),
            ),
        )
        return _recorded(entries, request, "applied")

    def _member(self, tenant_id: str, member_id: str, code: str, role: str) -> Member:
        member = self.store.load_member(tenant_id, member_id)
        if not member.exists:
            raise NotFound(f"no such {role}", code=code)
        return member

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


def _check_allowed(program: ProgramSettings, request: TransferIn) -> None:
    if not program.transfer.enabled:
        raise Forbidden("transfers are not enabled in this program", code="transfers_disabled")
    if request.from_member_id == request.to_member_id:
        raise Unprocessable("a member cannot transfer points to themselves", code="self_transfer")


def _recorded(entries: list[EntryRecord], request: TransferIn, status: str = "duplicate") -> TransferResult:
    """The result as written (a retry with the same transfer_id must name the same transfer, or it is a 409)."""
    out = next(e for e in entries if e.key == "OUT")
    incoming = next(e for e in entries if e.key == "IN")
    d = out.details
    if (d["from_member_id"], d["to_member_id"], d["points"]) != (
        request.from_member_id,
        request.to_member_id,
        request.points,
    ):
        raise Conflict("transfer_id was already used for another transfer", code="transfer_id_reused")
    lots = [{"points": c.change, "expires_at": iso(c.expires_at)} for c in incoming.movement.lots]
    return TransferResult(
        status,
        request.transfer_id,
        request.from_member_id,
        request.to_member_id,
        request.points,
        lots,
        out.movement.balance_after,
        incoming.movement.balance_after,
        str(d["month"]),
    )
