"""DynamoDB store of tenants: one partition per tenant holding its record and program versions.

The operator's settings (``email_from``, ``staff_topic_arn``) live on the record only; a loaded program version
shows the record's values, whatever a version written before they were the operator's holds. A bound sender's claim
(``SENDER#<domain>``) is its own partition, so that one domain serves one tenant."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import DeleteError, PynamoDBException, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from shared import clock
from shared.dal.models import ProgramItem, SenderClaimItem, TenantItem, TenantsTable, VipTenantItem
from shared.dal.tenants_keys import SENDER, VIP_REGISTRY, program_sk, sender_pk, tenant_pk
from shared.errors import Conflict
from shared.ports import StoreUnavailable
from shared.program import OPERATOR_SETTINGS, ProgramSettings, ProgramVersion
from shared.tenants import Tenant


def _vip_item(tenant_id: str, active: bool, version: ProgramVersion) -> VipTenantItem:
    return VipTenantItem(
        VIP_REGISTRY, tenant_pk(tenant_id), tenant_id=tenant_id, active=active, updated_at=version.effective_at
    )


def _program_item(tenant_id: str, version: ProgramVersion) -> ProgramItem:
    return ProgramItem(
        tenant_pk(tenant_id),
        program_sk(version.version),
        version=version.version,
        effective_at=version.effective_at,
        settings=version.settings.model_dump(mode="json", exclude=set(OPERATOR_SETTINGS)),
        created_at=version.effective_at,
    )


class DynamoTenantStore:
    def load(self, tenant_id: str) -> Tenant | None:
        record, programs = None, []
        try:
            items = list(TenantsTable.query(tenant_pk(tenant_id)))  # one Query: record + all versions
        except PynamoDBException as exc:
            raise StoreUnavailable(f"storage failed: {type(exc).__name__}") from exc
        record = next((item for item in items if isinstance(item, TenantItem)), None)
        if record is None:
            return None
        bound: dict[str, str | None] = {"email_from": record.email_from, "staff_topic_arn": record.staff_topic_arn}
        programs = [_program_version(item, bound) for item in items if isinstance(item, ProgramItem)]
        if not programs:
            return None
        retiring = record.retiring_api_keys.as_dict() if record.retiring_api_keys else {}
        return Tenant(
            tenant_id=record.tenant_id,
            status=record.status,
            api_key_hashes=tuple(str(h) for h in record.api_key_hashes),
            webhook_secrets={k: list(v) for k, v in record.webhook_secrets.as_dict().items()},
            programs=tuple(programs),
            email_from=record.email_from,
            staff_topic_arn=record.staff_topic_arn,
            retiring_keys={str(h): clock.parse_ts(str(until)) for h, until in retiring.items()},
        )

    def create(self, tenant: Tenant, sender_claim: str | None = None) -> None:
        """The record, the first program version and the sender's claim, in one transaction."""
        item = TenantItem(
            tenant_pk(tenant.tenant_id),
            "TENANT",
            tenant_id=tenant.tenant_id,
            status=tenant.status,
            api_key_hashes=list(tenant.api_key_hashes),
            webhook_secrets=tenant.webhook_secrets,
            email_from=tenant.email_from,
            staff_topic_arn=tenant.staff_topic_arn,
            created_at=tenant.programs[0].effective_at,
        )
        try:
            with TransactWrite(connection=TenantsTable._get_connection().connection) as tx:
                tx.save(item, condition=TenantItem.pk.does_not_exist())
                tx.save(_program_item(tenant.tenant_id, tenant.programs[0]), condition=ProgramItem.pk.does_not_exist())
                if tenant.programs[0].settings.vip is not None:
                    tx.save(_vip_item(tenant.tenant_id, True, tenant.programs[0]))
                if sender_claim:
                    _claim_sender(tx, tenant.tenant_id, sender_claim)
        except TransactWriteError as exc:
            reasons = [r.code if r else None for r in exc.cancellation_reasons]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise Conflict(f"tenant {tenant.tenant_id} exists", code="tenant_exists") from exc
            if "ConditionalCheckFailed" in reasons:
                raise _bound_elsewhere(sender_claim) from exc
            raise StoreUnavailable(f"storage failed: {exc.cause_response_code or 'unknown'}") from exc

    def set_api_keys(self, tenant_id: str, hashes: tuple[str, ...], retiring: dict[str, datetime]) -> None:
        """Replace the key hashes and the keys in their grace period with one UpdateItem."""
        grace = {h: clock.iso(until) for h, until in retiring.items()}
        self._update(
            tenant_id,
            TenantItem.api_key_hashes.set(list(hashes)),  # type: ignore[arg-type]
            TenantItem.retiring_api_keys.set(grace) if grace else TenantItem.retiring_api_keys.remove(),
        )

    def bind_staff_topic(self, tenant_id: str, topic_arn: str | None) -> None:
        self._update(
            tenant_id,
            TenantItem.staff_topic_arn.set(topic_arn) if topic_arn else TenantItem.staff_topic_arn.remove(),
        )

    def bind_sender(self, tenant_id: str, address: str | None, claim: str | None, previous: str | None) -> None:
        """Claim the sender's domain for the tenant (a transaction: the record exists, no other tenant holds the
        claim), then set the record's sender, then release the previous claim. Each step is idempotent, and a
        failure between them leaves at worst a claim the tenant no longer uses: run the command again."""
        if claim:
            self._claim_sender(tenant_id, claim)
        self._update(tenant_id, TenantItem.email_from.set(address) if address else TenantItem.email_from.remove())
        if previous and previous != claim:
            released = SenderClaimItem.pk.does_not_exist() | (SenderClaimItem.tenant_id == tenant_id)
            try:
                SenderClaimItem(sender_pk(previous), SENDER).delete(condition=released)
            except DeleteError as exc:
                raise StoreUnavailable(f"storage failed: {exc.cause_response_code or 'unknown'}") from exc

    @staticmethod
    def _claim_sender(tenant_id: str, claim: str) -> None:
        record = TenantItem(tenant_pk(tenant_id), "TENANT")
        try:
            with TransactWrite(connection=TenantsTable._get_connection().connection) as tx:
                tx.condition_check(TenantItem, record.pk, record.sk, condition=TenantItem.pk.exists())
                _claim_sender(tx, tenant_id, claim)
        except TransactWriteError as exc:
            reasons = [r.code if r else None for r in exc.cancellation_reasons]  # the check first, then the put
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise Conflict(f"tenant {tenant_id} does not exist", code="tenant_not_found") from exc
            if "ConditionalCheckFailed" in reasons:
                raise _bound_elsewhere(claim) from exc
            raise StoreUnavailable(f"storage failed: {exc.cause_response_code or 'unknown'}") from exc

    def _update(self, tenant_id: str, *actions: Any) -> None:
        """One UpdateItem on the tenant's record, which must exist."""
        try:
            TenantItem(tenant_pk(tenant_id), "TENANT").update(actions=list(actions), condition=TenantItem.pk.exists())
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise Conflict(f"tenant {tenant_id} does not exist", code="tenant_not_found") from exc
            raise StoreUnavailable(f"storage failed: {exc.cause_response_code or 'unknown'}") from exc

    def set_webhook_secrets(self, tenant_id: str, platform: str, secrets: list[str]) -> None:
        """Replace one platform's secrets with one UpdateItem (the other platforms' are untouched)."""
        self._update(tenant_id, TenantItem.webhook_secrets[platform].set(secrets))  # type: ignore[index]

    def set_status(self, tenant_id: str, status: str, reason: str | None, at: datetime) -> None:
        """One UpdateItem on the tenant's record, which must exist."""
        reason_action = TenantItem.status_reason.set(reason) if reason else TenantItem.status_reason.remove()
        self._update(tenant_id, TenantItem.status.set(status), TenantItem.status_changed_at.set(at), reason_action)

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


def _program_version(item: ProgramItem, bound: dict[str, str | None]) -> ProgramVersion:
    """A stored version with the operator's settings of the record (a version saved before they were the
    operator's may hold a merchant's value: it is never used)."""
    stored = {k: v for k, v in _ints(item.settings.as_dict()).items() if k not in OPERATOR_SETTINGS}
    settings = ProgramSettings.model_validate({**stored, **bound})
    return ProgramVersion(version=int(item.version), effective_at=item.effective_at, settings=settings)


def _claim_sender(tx: TransactWrite, tenant_id: str, claim: str) -> None:
    item = SenderClaimItem(sender_pk(claim), SENDER, tenant_id=tenant_id, claimed_at=clock.now())
    tx.save(item, condition=SenderClaimItem.pk.does_not_exist() | (SenderClaimItem.tenant_id == tenant_id))


def _bound_elsewhere(claim: str | None) -> Conflict:
    return Conflict(f"the sender domain {claim} is bound to another tenant", code="sender_bound_elsewhere")


def _ints(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal, at any depth; the settings model wants plain ints."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value
