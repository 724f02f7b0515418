"""DynamoDB store of tenants: one partition per tenant holding its record and program versions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import DeleteError, PynamoDBException, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from shared.dal.ledger_store import StoreUnavailable
from shared.dal.models import ProgramItem, TenantItem, TenantsTable, VipTenantItem
from shared.errors import Conflict
from shared.program import ProgramSettings, ProgramVersion
from shared.tenants import Tenant

VIP_REGISTRY = "REGISTRY#vip"


def tenant_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}"


def _vip_item(tenant_id: str, active: bool, version: ProgramVersion) -> VipTenantItem:
    return VipTenantItem(
        VIP_REGISTRY, tenant_pk(tenant_id), tenant_id=tenant_id, active=active, updated_at=version.effective_at
    )


def _program_item(tenant_id: str, version: ProgramVersion) -> ProgramItem:
    return ProgramItem(
        tenant_pk(tenant_id),
        f"PROGRAM#{version.version:06d}",
        version=version.version,
        effective_at=version.effective_at,
        settings=version.settings.model_dump(mode="json"),
        created_at=version.effective_at,
    )


class DynamoTenantStore:
    def load(self, tenant_id: str) -> Tenant | None:
        record, programs = None, []
        try:
            items = list(TenantsTable.query(tenant_pk(tenant_id)))  # one Query: record + all versions
        except PynamoDBException as exc:
            raise StoreUnavailable(f"storage failed: {type(exc).__name__}") from exc
        for item in items:
            if isinstance(item, TenantItem):
                record = item
            elif isinstance(item, ProgramItem):
                settings = ProgramSettings.model_validate(_ints(item.settings.as_dict()))
                programs.append(
                    ProgramVersion(version=int(item.version), effective_at=item.effective_at, settings=settings)
                )
        if record is None or not programs:
            return None
        secrets = {k: list(v) for k, v in record.webhook_secrets.as_dict().items()}
        hashes = tuple(str(h) for h in record.api_key_hashes)
        return Tenant(record.tenant_id, record.status, hashes, secrets, tuple(programs))

    def create(self, tenant: Tenant) -> None:
        item = TenantItem(
            tenant_pk(tenant.tenant_id),
            "TENANT",
            tenant_id=tenant.tenant_id,
            status=tenant.status,
            api_key_hashes=list(tenant.api_key_hashes),
            webhook_secrets=tenant.webhook_secrets,
            created_at=tenant.programs[0].effective_at,
        )
        try:
            with TransactWrite(connection=TenantsTable._get_connection().connection) as tx:
                tx.save(item, condition=TenantItem.pk.does_not_exist())
                tx.save(_program_item(tenant.tenant_id, tenant.programs[0]), condition=ProgramItem.pk.does_not_exist())
                if tenant.programs[0].settings.vip is not None:
                    tx.save(_vip_item(tenant.tenant_id, True, tenant.programs[0]))
        except TransactWriteError as exc:
            reasons = {r.code for r in exc.cancellation_reasons if r}
            if "ConditionalCheckFailed" in reasons:
                raise Conflict(f"tenant {tenant.tenant_id} exists", code="tenant_exists") from exc
            raise StoreUnavailable(f"storage failed: {exc.cause_response_code or 'unknown'}") from exc

    def set_webhook_secrets(self, tenant_id: str, platform: str, secrets: list[str]) -> None:
        """Replace one platform's secrets with one UpdateItem (the other platforms' are untouched)."""
        item = TenantItem(tenant_pk(tenant_id), "TENANT")
        try:
            item.update(
                actions=[TenantItem.webhook_secrets[platform].set(secrets)],  # type: ignore[index]
                condition=TenantItem.pk.exists(),
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise Conflict(f"tenant {tenant_id} does not exist", code="tenant_not_found") from exc
            raise StoreUnavailable(f"storage failed: {exc.cause_response_code or 'unknown'}") from exc

    def set_status(self, tenant_id: str, status: str, reason: str | None, at: datetime) -> None:
        """One UpdateItem on the tenant's record, which must exist."""
        item = TenantItem(tenant_pk(tenant_id), "TENANT")
        reason_action = TenantItem.status_reason.set(reason) if reason else TenantItem.status_reason.remove()
        try:
            item.update(
                actions=[TenantItem.status.set(status), TenantItem.status_changed_at.set(at), reason_action],
                condition=TenantItem.pk.exists(),
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise Conflict(f"tenant {tenant_id} does not exist", code="tenant_not_found") from exc
            raise StoreUnavailable(f"storage failed: {exc.cause_response_code or 'unknown'}") from exc

    def add_program(self, tenant_id: str, version: ProgramVersion, vip_registry: bool | None = None) -> None:
        """Save a new version; with ``vip_registry`` not None, in the same transaction list the tenant in the VIP
        registry as active (True) or as "clear its VIPs at the next run" (False)."""
        try:
            with TransactWrite(connection=TenantsTable._get_connection().connection) as tx:
                tx.save(_program_item(tenant_id, version), condition=ProgramItem.pk.does_not_exist())
                if vip_registry is not None:
                    tx.save(_vip_item(tenant_id, vip_registry, version))
        except TransactWriteError as exc:
            if any(r and r.code == "ConditionalCheckFailed" for r in exc.cancellation_reasons):
                raise Conflict("the program changed meanwhile; read it again", code="program_conflict") from exc
            raise StoreUnavailable(f"storage failed: {exc.cause_response_code or 'unknown'}") from exc

    def vip_tenants(self) -> list[tuple[str, bool]]:
        """(tenant id, active) of every tenant in the VIP registry: one Query of its partition, never a Scan."""
        try:
            return [(item.tenant_id, bool(item.active)) for item in VipTenantItem.query(VIP_REGISTRY)]
        except PynamoDBException as exc:
            raise StoreUnavailable(f"storage failed: {type(exc).__name__}") from exc

    def drop_vip_tenant(self, tenant_id: str) -> None:
        """Leave the registry once the VIPs are cleared, unless a new version turned VIP on again meanwhile."""
        try:
            VipTenantItem(VIP_REGISTRY, tenant_pk(tenant_id)).delete(condition=VipTenantItem.active == False)  # noqa: E712
        except DeleteError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise StoreUnavailable(f"storage failed: {exc.cause_response_code or 'unknown'}") from exc


def _ints(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal, at any depth; the settings model wants plain ints."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value
