"""Holiday / bulk grants (docs/spec.md §8): create once, fan out on the sweep queue, grant each member exactly once.

Exactly once per member: the member's points and the entry ``M#<member>/GRANT#<grant_id>`` are written in one
transaction with the entry conditional on ``attribute_not_exists``, so a redelivered task or an overlapping worker
finds the entry and changes nothing. The progress counters come from the parts' results, each recorded once (see
``shared.grants`` and docs/decisions.md "Bulk grants"), so redeliveries never count twice.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from shared.entry_details import GrantDetails
from shared.errors import Conflict, NotFound
from shared.grants import Grant, GrantRequest, GrantTask, PartResult, check, first_tasks, new_grant
from shared.keys import business_key, grant_entry_key, grant_message_key, member_scope
from shared.ledger import Credit, credit
from shared.notify.messages import GrantNotice, grant_email_data, grant_sms_text
from shared.observability import logger, metrics
from shared.ports import Delivery, Notifier
from shared.records import EntryRecord, Member, MemberKey, NotificationRecord
from shared.reminders import sms_window_open
from shared.services.member_write import Change, Loaded, MemberWrite
from shared.services.reminders import outcome_of
from shared.services.store import LedgerStore
from shared.tenants import Tenant, TenantDirectory

SUSPENDED_RETRY_SECONDS = 900  # SQS's longest message delay


class GrantStore(Protocol):
    def create(self, tenant: str, grant: Grant) -> bool: ...
    def get(self, tenant: str, grant_id: str) -> Grant | None: ...
    def mark_enqueued(self, tenant: str, grant_id: str) -> None: ...
    def mark_started(self, tenant: str, grant_id: str, at: datetime) -> None: ...
    def get_part(self, tenant: str, grant_id: str, chain: str, part: int) -> PartResult | None: ...
    def record_part(self, tenant: str, grant_id: str, result: PartResult, at: datetime) -> bool: ...
    def members(self, tenant: str, shard: int, cursor: dict[str, Any] | None, limit: int) -> Any: ...
    def message_status(self, tenant: str, member_id: str, key: str) -> str | None: ...


class GrantQueue(Protocol):
    def send(self, tasks: list[Any], delay_seconds: int = 0) -> None: ...


@dataclass(frozen=True, kw_only=True)
class GrantConfig:
    chunk_size: int  # member ids per task
    page_size: int  # members per index page (one BatchGetItem)
    threads: int
    attempts: int  # commit retries per member
    email_from: str
    template_prefix: str


@dataclass
class GrantReport:
    """One task's work for the worker: the part's result, and the task to send next (None: nothing)."""

    result: PartResult | None
    handed_on: GrantTask | None = None
    delay_seconds: int = 0  # how long the handed-on task waits in the queue

    def summary(self) -> dict[str, int]:
        return self.result.summary() if self.result else {}


@dataclass(frozen=True)
class Outcome:
    status: str  # granted | skipped | failed
    notified: bool = False


class GrantService:
    def __init__(
        self,
        store: LedgerStore,
        grants: GrantStore,
        queue: GrantQueue,
        tenants: TenantDirectory,
        notifier: Notifier,
        config: GrantConfig,
    ) -> None:
        self.store = store
        self.grants = grants
        self.queue = queue
        self.tenants = tenants
        self.notifier = notifier
        self.config = config

    # -- the API -----------------------------------------------------------------------------------

    def create(self, tenant: Tenant, request: GrantRequest, now: datetime) -> Grant:
        """Store the grant and enqueue its chains; the same id again returns the stored grant, never a new run.

        A creation cut off between storing and enqueueing is finished by the client's retry (tasks sent twice
        are harmless: entries and parts are conditional writes)."""
        check(request, tenant.current.settings, now)
        tid = tenant.tenant_id
        grant = self.grants.get(tid, request.grant_id)
        if grant is None:
            fresh = new_grant(request, now, self.config.chunk_size)
            grant = fresh if self.grants.create(tid, fresh) else self.grants.get(tid, request.grant_id)
            assert grant is not None
        if grant.fingerprint != request.fingerprint:
            raise Conflict("grant_id was used for another grant", code="grant_id_conflict")
        if not grant.enqueued:
            self.queue.send(first_tasks(tid, grant, request.member_ids, self.config.chunk_size))
            self.grants.mark_enqueued(tid, grant.grant_id)
            grant = replace(grant, enqueued=True)
            logger.info("grant enqueued", extra={"grant_id": grant.grant_id, "chains": grant.chains})
        return grant

    def get(self, tenant_id: str, grant_id: str) -> Grant:
        grant = self.grants.get(tenant_id, grant_id)
        if grant is None:
            raise NotFound("no such grant", code="grant_not_found")
        return grant

    # -- the worker --------------------------------------------------------------------------------

    def run(self, task: GrantTask, time_left: Callable[[], float], now: datetime) -> GrantReport:
        """Do one part: its members, then record it once and name the next part of the chain."""
        grant = self.grants.get(task.tenant, task.grant_id)
        tenant = self.tenants.get(task.tenant)
        if grant is None or tenant is None:
            logger.warning("grant task dropped", extra={"grant_id": task.grant_id, "tenant_id": task.tenant})
            return GrantReport(None)
        if tenant.suspended:  # the grant waits for the resume: the same task comes back every 15 minutes
            logger.info("grant task postponed: tenant suspended", extra={"grant_id": task.grant_id})
            return GrantReport(None, task, SUSPENDED_RETRY_SECONDS)
        done = self.grants.get_part(task.tenant, task.grant_id, task.chain, task.part)
        if done is not None:  # a redelivery of a recorded part: only its successor may be missing
            return GrantReport(None, self._next(task, done))
        if time_left() <= 0:
            return GrantReport(None, task)
        if grant.started_at is None:
            self.grants.mark_started(task.tenant, grant.grant_id, now)
        result = self._members(tenant, grant, task, time_left, now)
        if not self.grants.record_part(task.tenant, grant.grant_id, result, now):
            result = self.grants.get_part(task.tenant, task.grant_id, task.chain, task.part) or result
        self._metrics(grant, result)
        return GrantReport(result, self._next(task, result))

    @staticmethod
    def _next(task: GrantTask, result: PartResult) -> GrantTask | None:
        if result.next_cursor is None:
            return None
        return replace(task, part=task.part + 1, cursor=result.next_cursor)

    def _members(
        self, tenant: Tenant, grant: Grant, task: GrantTask, time_left: Callable[[], float], now: datetime
    ) -> PartResult:
        result = PartResult(chain=task.chain, part=task.part)
        with ThreadPoolExecutor(max_workers=self.config.threads) as pool:
            if task.member_ids is not None:
                self._batch(pool, tenant, grant, list(task.member_ids), result, now)
                return result
            cursor, shard = task.cursor, task.shard
            assert shard is not None
            while True:  # at least one page per part, so a chain always moves on
                page = self.grants.members(tenant.tenant_id, shard, cursor, self.config.page_size)
                wanted = [m for m, tier in page.members if grant.tier is None or tier == grant.tier]
                result.targeted += len(wanted)
                self._batch(pool, tenant, grant, wanted, result, now)
                cursor = page.cursor
                if cursor is None or time_left() <= 0:
                    break
        result.next_cursor = cursor
        return result

    def _batch(
        self,
        pool: ThreadPoolExecutor,
        tenant: Tenant,
        grant: Grant,
        member_ids: list[str],
        result: PartResult,
        now: datetime,
    ) -> None:
        if not member_ids:
            return
        keys = [MemberKey(tenant.tenant_id, m) for m in member_ids]
        loaded = self.store.load_members(keys, profiles=True)
        for outcome in pool.map(lambda key: self._member(tenant, grant, key, loaded[key], now), keys):
            result.granted += outcome.status == "granted"
            result.skipped += outcome.status == "skipped"
            result.failed += outcome.status == "failed"
            result.notified += outcome.notified

    # -- one member --------------------------------------------------------------------------------

    def _member(self, tenant: Tenant, grant: Grant, key: MemberKey, first: Member, now: datetime) -> Outcome:
        entry_key = business_key(member_scope(key.member_id), grant_entry_key(grant.grant_id))
        writes = MemberWrite(self.store, self.config.attempts)
        try:
            status = writes.apply(
                tenant,
                key.member_id,
                lambda loaded: self._grant_one(grant, loaded, now),
                now,
                first=first,
                on_duplicate=lambda dup: "granted" if dup.key == entry_key else None,
            )
        except Exception as exc:  # one member must not stop the part; it is counted as failed
            logger.warning(
                "grant failed for a member",
                extra={"grant_id": grant.grant_id, "member_id": key.member_id, "error": type(exc).__name__},
            )
            return Outcome("failed")
        if status != "granted" or not grant.notify:
            return Outcome(status)
        return Outcome(status, self._notify(tenant, grant, first, now))

    @staticmethod
    def _grant_one(grant: Grant, loaded: Loaded, now: datetime) -> Change[str]:
        member = loaded.member
        if not (member.exists or member.profile is not None):
            return Change(result="skipped")  # an unknown id: no account, no profile
        if grant.tier is not None and member.account.standing.tier != grant.tier:
            return Change(result="skipped")  # left the tier since the index was read
        if grant.expires_at <= now:
            return Change(result="skipped")  # the grant's points would be born expired
        lot = Credit(grant.points, "grant", now, grant.expires_at)
        ledger, movement = credit(loaded.account.ledger, "grant", [lot], now)
        account = loaded.account.with_ledger(ledger)
        details = GrantDetails(grant_id=grant.grant_id, reason=grant.reason, points=grant.points)
        entry = EntryRecord(
            scope=member_scope(account.member_id), key=grant_entry_key(grant.grant_id), member_id=account.member_id, movement=movement,
            reference=grant.grant_id, created_at=now, event_id=None, details=details,
        )  # fmt: skip
        return Change(result="granted", account=account, entries=(entry,))

    # -- notifications -----------------------------------------------------------------------------

    def _notify(self, tenant: Tenant, grant: Grant, member: Member, now: datetime) -> bool:
        """Each chosen channel at most once per member: claim the record, send, write the outcome.

        True when a message of this grant reached the member (now or on an earlier delivery of the part)."""
        program = tenant.current.settings
        zone = ZoneInfo(program.timezone)
        profile = member.profile
        reached = False
        for channel in grant.notify:
            address = None
            if profile is not None and profile.consent.get(channel, True):
                address = profile.email if channel == "email" else profile.phone
            if address is None:
                continue
            key = grant_message_key(grant.grant_id, channel)
            claim = NotificationRecord(
                member_id=member.account.member_id, key=key, expiry_date=grant.expires_at.astimezone(zone).date().isoformat(), days_before=0, channel=channel,
                points=grant.points, status="sending", attempts=1, seq=member.account.ledger.seq + 1, created_at=now, updated_at=now, grant_id=grant.grant_id,
            )  # fmt: skip
            if not self.store.claim_notification(tenant.tenant_id, claim, None):
                reached |= self.grants.message_status(tenant.tenant_id, claim.member_id, key) == "sent"
                continue
            if channel == "sms" and not sms_window_open(now, zone):
                delivery = Delivery("skipped", error="outside the SMS window 09:00-21:00 tenant time")
            else:
                delivery = self._send(tenant, grant, member, channel, address)
            self.store.finish_notification(tenant.tenant_id, outcome_of(claim, delivery, now))
            metrics.add_metric(name=f"GrantMessages_{delivery.status}", unit="Count", value=1)
            reached |= delivery.status == "sent"
        return reached

    def _send(self, tenant: Tenant, grant: Grant, member: Member, channel: str, address: str) -> Delivery:
        program = tenant.current.settings
        day = grant.expires_at.astimezone(ZoneInfo(program.timezone)).date()
        name = member.profile.name if member.profile else None
        notice = GrantNotice(
            tenant_id=tenant.tenant_id,
            name=name,
            points=grant.points,
            reason=grant.reason,
            expiry_date=day,
            language=program.language,
        )
        if channel == "email":
            template = f"{self.config.template_prefix}-{program.language}"
            sender = tenant.email_from or self.config.email_from  # bound by the operator, else the platform's
            return self.notifier.email(address, sender, template, grant_email_data(notice))
        return self.notifier.sms(address, grant_sms_text(notice), program.sms_sender_id)

    @staticmethod
    def _metrics(grant: Grant, result: PartResult) -> None:
        logger.info(
            "grant part recorded",
            extra={"grant_id": grant.grant_id, "chain": result.chain, "part": result.part, **result.summary()},
        )
        metrics.add_metric(name="PointsGranted", unit="Count", value=result.granted * grant.points)


__all__ = ["GrantConfig", "GrantReport", "GrantService"]
