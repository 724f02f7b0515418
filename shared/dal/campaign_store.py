"""DynamoDB implementation of ``CampaignStore`` (issue 17 item 1): a tenant's campaigns in the tenants table.

The campaigns are configuration, like the program, so they live in the tenants table, but in a partition of their
own, ``T#<tenant>#CAMPAIGNS``: the tenant's partition (``T#<tenant>``) is read whole on every tenant load, which
must not grow with campaigns. Within it (key functions below, the only place they are built):

- ``CAMPAIGN#<id>``: the current version (``CampaignItem``); the list is one Query by this prefix (at most 100);
- ``VERSION#<id>#<version:06d>``: every version ever saved (``CampaignVersionItem``);
- ``SLOT#<nnn>``: the places 000..099, one taken by each creation (``CampaignSlotItem``): the limit holds under
  concurrent creations without a counter (the API's role may only Query and PutItem this table).

Each save is one TransactWriteItems of conditional puts; throttling and server errors raise ``StoreUnavailable``.
"""

from __future__ import annotations

from typing import Any, Literal

from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from shared.campaigns import CampaignVersion, dumps, loads
from shared.dal.models import CampaignItem, CampaignSlotItem, CampaignVersionItem, TenantsTable
from shared.dal.tenants_keys import CURRENT, campaigns_pk, current_sk, slot_sk, version_sk
from shared.dal.transactions import guard
from shared.ports import StoreUnavailable


def _fields(version: CampaignVersion) -> dict[str, Any]:
    return {
        "campaign_id": version.campaign.id,
        "version": version.version,
        "effective_at": version.effective_at,
        "activated_at": version.activated_at,
        "body": dumps(version.campaign),
    }


def version_from(item: CampaignItem | CampaignVersionItem) -> CampaignVersion:
    return CampaignVersion(
        version=int(item.version),
        effective_at=item.effective_at,
        activated_at=item.activated_at,
        campaign=loads(item.body),
    )


class DynamoCampaignStore:
    """``CampaignStore`` over the tenants table: a read is one Query, a save one transaction."""

    def current(self, tenant: str, campaign_id: str) -> CampaignVersion | None:
        query = CampaignItem.query(
            campaigns_pk(tenant), CampaignItem.sk == current_sk(campaign_id), consistent_read=True
        )
        found = guard(lambda: list(query))  # a Query, not a GetItem: the API's role reads this table by Query only
        return version_from(found[0]) if found else None

    def version(self, tenant: str, campaign_id: str, version: int) -> CampaignVersion | None:
        key = CampaignVersionItem.sk == version_sk(campaign_id, version)
        found = guard(lambda: list(CampaignVersionItem.query(campaigns_pk(tenant), key, consistent_read=True)))
        return version_from(found[0]) if found else None

    def listed(self, tenant: str) -> list[CampaignVersion]:
        query = CampaignItem.query(campaigns_pk(tenant), CampaignItem.sk.startswith(CURRENT), consistent_read=True)
        return [version_from(item) for item in guard(lambda: list(query))]

    def create(self, tenant: str, version: CampaignVersion, ordinal: int) -> Literal["created", "exists", "taken"]:
        pk, campaign_id = campaigns_pk(tenant), version.campaign.id
        slot = CampaignSlotItem(pk, slot_sk(ordinal), campaign_id=campaign_id, created_at=version.effective_at)
        try:
            with TransactWrite(connection=TenantsTable._get_connection().connection) as tx:
                tx.save(
                    CampaignItem(pk, current_sk(campaign_id), **_fields(version)),
                    condition=CampaignItem.pk.does_not_exist(),
                )
                tx.save(
                    CampaignVersionItem(pk, version_sk(campaign_id, 1), **_fields(version)),
                    condition=CampaignVersionItem.pk.does_not_exist(),
                )
                tx.save(slot, condition=CampaignSlotItem.pk.does_not_exist())
        except TransactWriteError as exc:
            reasons = [r.code if r else None for r in exc.cancellation_reasons or []]
            if reasons[:1] == ["ConditionalCheckFailed"] or reasons[1:2] == ["ConditionalCheckFailed"]:
                return "exists"
            if "ConditionalCheckFailed" in reasons:
                return "taken"
            raise StoreUnavailable(f"storage failed: {exc.cause_response_code or 'unknown'}") from exc
        return "created"

    def replace(self, tenant: str, version: CampaignVersion) -> bool:
        pk, campaign_id = campaigns_pk(tenant), version.campaign.id
        try:
            with TransactWrite(connection=TenantsTable._get_connection().connection) as tx:
                tx.save(
                    CampaignItem(pk, current_sk(campaign_id), **_fields(version)),
                    condition=CampaignItem.version == version.version - 1,
                )
                tx.save(
                    CampaignVersionItem(pk, version_sk(campaign_id, version.version), **_fields(version)),
                    condition=CampaignVersionItem.pk.does_not_exist(),
                )
        except TransactWriteError as exc:
            if any(r and r.code == "ConditionalCheckFailed" for r in exc.cancellation_reasons or []):
                return False
            raise StoreUnavailable(f"storage failed: {exc.cause_response_code or 'unknown'}") from exc
        except PynamoDBException as exc:
            raise StoreUnavailable(f"storage failed: {type(exc).__name__}") from exc
        return True
