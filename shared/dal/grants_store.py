"""DynamoDB storage of bulk grants (layout in infra/ACCESS_PATTERNS.md): the grant record, its parts, the
tenant's members through the ``by_tenant`` index (a Query per page, never a Scan)."""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared.dal.models import AccountItem, GrantItem, GrantPartItem, LedgerTable, NotificationItem
from shared.dal.transactions import RETRYABLE_REASONS, guard
from shared.grants import Grant, PartResult
from shared.keys import grant_scope, member_pk, shard_pk, tenant_pk
from shared.ports import StoreUnavailable

RECORD_ATTEMPTS = 8  # parts of one grant finishing at the same moment conflict on the grant item


@dataclass(frozen=True)
class MemberPage:
    members: list[tuple[str, str | None]]  # (member id, tier) in member id order
    cursor: dict[str, Any] | None


def grant_pk(tenant: str, grant_id: str) -> str:
    return tenant_pk(tenant, grant_scope(grant_id))


def part_key(chain: str, part: int) -> str:
    return f"PART#{chain}#{part:05d}"


def _grant_from(item: GrantItem) -> Grant:
    return Grant(
        grant_id=item.grant_id,
        fingerprint=item.fingerprint,
        segment=item.segment,
        tier=item.tier,
        member_count=int(item.member_count),
        points=int(item.points),
        expires_at=item.expires_at,
        reason=item.reason,
        notify=tuple(str(channel) for channel in item.notify or []),
        chains=int(item.chains),
        created_at=item.created_at,
        targeted=int(item.targeted),
        granted=int(item.granted),
        skipped=int(item.skipped),
        failed=int(item.failed),
        notified=int(item.notified),
        chains_done=int(item.chains_done),
        parts_done=int(item.parts_done),
        enqueued=bool(item.enqueued),
        started_at=item.started_at,
        updated_at=item.updated_at,
    )


def _part_from(item: GrantPartItem) -> PartResult:
    chain, part = item.sk.split("#")[1:3]
    cursor = json.loads(item.next_cursor) if item.next_cursor else None
    return PartResult(
        chain=chain,
        part=int(part),
        next_cursor=cursor,
        targeted=int(item.targeted),
        granted=int(item.granted),
        skipped=int(item.skipped),
        failed=int(item.failed),
        notified=int(item.notified),
    )


class DynamoGrantStore:
    def create(self, tenant: str, grant: Grant) -> bool:
        """Store a new grant; False when the id is taken (the caller reads the first one)."""
        item = GrantItem(
            grant_pk(tenant, grant.grant_id),
            "GRANT",
            grant_id=grant.grant_id,
            fingerprint=grant.fingerprint,
            segment=grant.segment,
            tier=grant.tier,
            member_count=grant.member_count,
            points=grant.points,
            expires_at=grant.expires_at,
            reason=grant.reason,
            notify=list(grant.notify),
            chains=grant.chains,
            targeted=grant.targeted,
            created_at=grant.created_at,
            updated_at=grant.created_at,
        )
        try:
            guard(lambda: item.save(condition=GrantItem.pk.does_not_exist()))
        except StoreUnavailable as exc:
            if getattr(exc.__cause__, "cause_response_code", None) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get(self, tenant: str, grant_id: str) -> Grant | None:
        try:
            item = guard(lambda: GrantItem.get(grant_pk(tenant, grant_id), "GRANT", consistent_read=True))
        except GrantItem.DoesNotExist:
            return None
        return _grant_from(item)

    def mark_enqueued(self, tenant: str, grant_id: str) -> None:
        item = GrantItem(grant_pk(tenant, grant_id), "GRANT")
        guard(lambda: item.update(actions=[GrantItem.enqueued.set(True)]))

    def mark_started(self, tenant: str, grant_id: str, at: datetime) -> None:
        item = GrantItem(grant_pk(tenant, grant_id), "GRANT")
        guard(lambda: item.update(actions=[GrantItem.started_at.set(GrantItem.started_at | at)]))

    def get_part(self, tenant: str, grant_id: str, chain: str, part: int) -> PartResult | None:
        try:
            item = guard(
                lambda: GrantPartItem.get(grant_pk(tenant, grant_id), part_key(chain, part), consistent_read=True)
            )
        except GrantPartItem.DoesNotExist:
            return None
        return _part_from(item)

    def record_part(self, tenant: str, grant_id: str, result: PartResult, at: datetime) -> bool:
        """The part's record and its counts on the grant, in one transaction; False: it was recorded before."""
        pk = grant_pk(tenant, grant_id)
        part = GrantPartItem(
            pk,
            part_key(result.chain, result.part),
            next_cursor=json.dumps(result.next_cursor, sort_keys=True) if result.next_cursor else None,
            targeted=result.targeted,
            granted=result.granted,
            skipped=result.skipped,
            failed=result.failed,
            notified=result.notified,
            created_at=at,
        )
        actions: list[Action] = [
            GrantItem.targeted.add(result.targeted),
            GrantItem.granted.add(result.granted),
            GrantItem.skipped.add(result.skipped),
            GrantItem.failed.add(result.failed),
            GrantItem.notified.add(result.notified),
            GrantItem.parts_done.add(1),
            GrantItem.chains_done.add(0 if result.next_cursor else 1),
            GrantItem.updated_at.set(at),
        ]
        for attempt in range(RECORD_ATTEMPTS):
            try:
                with TransactWrite(connection=LedgerTable._get_connection().connection) as tx:
                    tx.save(part, condition=GrantPartItem.pk.does_not_exist())
                    tx.update(GrantItem(pk, "GRANT"), actions=actions, condition=GrantItem.pk.exists())
                return True
            except TransactWriteError as exc:
                reasons = [r.code if r else None for r in exc.cancellation_reasons]
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    return False
                if not RETRYABLE_REASONS & set(reasons):
                    raise StoreUnavailable(f"storage failed: {exc.cause_response_code or 'unknown'}") from exc
            time.sleep(random.uniform(0, 0.005 * 2 ** min(attempt, 6)))
        raise StoreUnavailable("grant record contended, the part is retried")

    def members(self, tenant: str, shard: int, cursor: dict[str, Any] | None, limit: int) -> MemberPage:
        """One page of the tenant's members in one shard of ``by_tenant`` (keys and tier only)."""
        result = AccountItem.by_tenant.query(
            shard_pk(tenant, f"{shard:02d}"), limit=limit, page_size=limit, last_evaluated_key=cursor
        )
        found = guard(lambda: [(item.member_id, item.tier) for item in result])
        last = result.last_evaluated_key if len(found) == limit else None
        return MemberPage(found, last)

    def message_status(self, tenant: str, member_id: str, key: str) -> str | None:
        """The status of one notification record (read only when a claim lost: a redelivered part)."""
        try:
            item = guard(lambda: NotificationItem.get(member_pk(tenant, member_id), key, consistent_read=True))
        except NotificationItem.DoesNotExist:
            return None
        return str(item.status)
