"""VIP by ABC analysis (docs/spec.md §8): the report of a period's classes, and the scheduled classification.

Both read the tenant's paid orders of the period from the sparse ``abc_paid`` index (Query pages over the period,
never a Scan) and classify with ``shared.abc``. The scheduled run then writes ``abc_class = "A"`` on the accounts
of members newly in A and removes it from members who left A (found through the sparse ``abc_members`` index),
each under the account's version like every other write, so the rules engine gives them the VIP rate and discount.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Protocol

from shared.abc import Classification, classify, metric_values
from shared.clock import iso, parse_ts
from shared.observability import logger, metrics
from shared.records import Member, MemberKey, PaidRow
from shared.services.jobs import MemberOutcome
from shared.services.member_write import Change, Loaded, MemberWrite
from shared.services.store import LedgerStore
from shared.services.sweep import ShardReport
from shared.tenants import Tenant, TenantDirectory

JOB = "classify-vip"
LOAD_BATCH = 100  # members per BatchGetItem


class AbcStore(LedgerStore, Protocol):
    def paid_rows(self, tenant: str, since: datetime, until: datetime) -> list[PaidRow]: ...
    def vip_members(self, tenant: str) -> list[str]: ...


class VipRegistry(Protocol):
    def vip_tenants(self) -> list[tuple[str, bool]]: ...
    def drop_vip_tenant(self, tenant_id: str) -> None: ...


@dataclass(frozen=True)
class VipTask:
    """One tenant's classification within a run (an SQS message on the sweep queue)."""

    tenant_id: str
    now: datetime
    run_id: str
    job: str = JOB

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "now": iso(self.now)}, sort_keys=True)

    @staticmethod
    def accepts(raw: str) -> bool:
        try:
            return bool(json.loads(raw).get("job") == JOB)
        except (ValueError, AttributeError):
            return False

    @classmethod
    def from_json(cls, raw: str) -> VipTask:
        data = json.loads(raw)
        return cls(str(data["tenant_id"]), parse_ts(data["now"]), str(data["run_id"]))


@dataclass(frozen=True, kw_only=True)
class AbcReport:
    metric: str
    period_days: int
    since: datetime
    until: datetime
    currency: str
    result: Classification


class AbcService:
    def __init__(self, store: AbcStore, registry: VipRegistry, tenants: TenantDirectory, attempts: int) -> None:
        self.store = store
        self.registry = registry
        self.tenants = tenants
        self.writes = MemberWrite(store, attempts)

    def report(self, tenant: Tenant, metric: str | None, period_days: int | None, now: datetime) -> AbcReport:
        """The classes of the period ending ``now``; unset parameters come from ``vip`` (or revenue, 365 days)."""
        program = tenant.program_at(now).settings
        metric = metric or (program.vip.metric if program.vip else "revenue")
        period_days = period_days or (program.vip.period_days if program.vip else 365)
        since = now - timedelta(days=period_days)
        rows = self.store.paid_rows(tenant.tenant_id, since, now)
        return AbcReport(
            metric=metric,
            period_days=period_days,
            since=since,
            until=now,
            currency=program.currency,
            result=classify(metric_values(rows, metric)),
        )

    # -- the scheduled classification -------------------------------------------------------------

    def plan(self, now: datetime, run_id: str) -> list[VipTask]:
        """One task per tenant in the VIP registry (a Query of one small partition of the tenants table)."""
        return [VipTask(tenant_id, now, run_id) for tenant_id, _ in self.registry.vip_tenants()]

    def classify(self, task: VipTask) -> ShardReport:
        report = ShardReport(job=JOB, shard=0)
        tenant = self.tenants.get(task.tenant_id)
        if tenant is None or tenant.status != "active":
            report.skipped += 1
            return report
        vip = tenant.current.settings.vip
        wanted: set[str] = set()
        if vip is not None:
            since = task.now - timedelta(days=vip.period_days)
            result = classify(metric_values(self.store.paid_rows(tenant.tenant_id, since, task.now), vip.metric))
            wanted = {r.member_id for r in result.of("A")}
            report.members = len(result.ranked)
        current = set(self.store.vip_members(tenant.tenant_id))
        changes = {m: "A" for m in wanted - current} | {m: None for m in current - wanted}
        for outcome in self._write(tenant, changes, task.now):
            if outcome is None:
                report.errors += 1
            else:
                report.changed += outcome.changed
        if vip is None and not report.errors:
            self.registry.drop_vip_tenant(tenant.tenant_id)  # VIP was turned off and every label is gone
        self._record(task, report, len(wanted))
        return report

    def _write(self, tenant: Tenant, changes: dict[str, str | None], now: datetime) -> list[MemberOutcome | None]:
        ids = sorted(changes)
        outcomes: list[MemberOutcome | None] = []
        for start in range(0, len(ids), LOAD_BATCH):
            keys = [MemberKey(tenant.tenant_id, m) for m in ids[start : start + LOAD_BATCH]]
            loaded = self.store.load_members(keys)
            outcomes += [self._member(tenant, key, loaded[key], changes[key.member_id], now) for key in keys]
        return outcomes

    def _member(
        self, tenant: Tenant, key: MemberKey, member: Member, klass: str | None, now: datetime
    ) -> MemberOutcome | None:
        """Set or clear the member's class under the account version; an error leaves it to the next run."""

        def step(loaded: Loaded) -> Change[MemberOutcome]:
            if not loaded.member.exists or loaded.member.account.standing.abc_class == klass:
                return Change(result=MemberOutcome())
            return Change(result=MemberOutcome(changed=True), account=loaded.account.with_standing(abc_class=klass))

        try:
            return self.writes.apply(tenant, key.member_id, step, now, first=member)
        except Exception as exc:  # one member must not stop the tenant; the next run retries it
            logger.warning(
                "vip class not written",
                extra={"tenant_id": key.tenant, "member_id": key.member_id, "error": type(exc).__name__},
            )
            return None

    @staticmethod
    def _record(task: VipTask, report: ShardReport, vips: int) -> None:
        extra = {"job": JOB, "tenant_id": task.tenant_id, "run_id": task.run_id, "vips": vips, **report.summary()}
        logger.info("tenant classified", extra=extra)
        metrics.add_metric(name="VipChanged", unit="Count", value=report.changed)
