"""A tenant's campaigns (issue 17 item 1): create, list, read (any version) and change them, each change a new
version in force from now. The rules are ``shared.campaigns``'; the store's conditional writes make a create and a
save safe against concurrent ones (a lost race is a 409, never a silent overwrite)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from shared.campaigns import MAX_CAMPAIGNS, CampaignVersion, check_id, merged, next_version, parse
from shared.errors import Conflict, NotFound, Unprocessable
from shared.ports import CampaignStore

CREATE_ATTEMPTS = 3  # a place taken by a concurrent creation: count again


class CampaignService:
    def __init__(self, store: CampaignStore) -> None:
        self._store = store

    def listed(self, tenant: str) -> list[CampaignVersion]:
        return sorted(self._store.listed(tenant), key=lambda v: v.campaign.id)

    def get(self, tenant: str, campaign_id: str, version: int | None = None) -> CampaignVersion:
        """The current version, or the one asked for: 422 for an id that cannot be a campaign's, else 404."""
        check_id(campaign_id)
        found = (
            self._store.current(tenant, campaign_id)
            if version is None
            else self._store.version(tenant, campaign_id, version)
        )
        if found is None:
            what = "campaign" if version is None else f"version {version} of campaign"
            code = "campaign_not_found" if version is None else "campaign_version_not_found"
            raise NotFound(f"no {what} {campaign_id}", code=code)
        return found

    def create(self, tenant: str, body: dict[str, Any], at: datetime) -> CampaignVersion:
        """Version 1 of a new campaign: 409 ``campaign_exists`` for a taken id, 422 ``too_many_campaigns`` past the
        limit."""
        version = next_version(None, parse(json.dumps(body)), at)
        for _ in range(CREATE_ATTEMPTS):
            ids = {v.campaign.id for v in self._store.listed(tenant)}  # one Query: how many, and whether it exists
            if version.campaign.id in ids:
                raise _exists(version.campaign.id)
            ordinal = len(ids)
            if ordinal >= MAX_CAMPAIGNS:
                raise Unprocessable(
                    f"a tenant has at most {MAX_CAMPAIGNS} campaigns; end one and change it into the new one",
                    code="too_many_campaigns",
                )
            outcome = self._store.create(tenant, version, ordinal)
            if outcome == "created":
                return version
            if outcome == "exists":
                raise _exists(version.campaign.id)
        raise Conflict("campaigns are being created concurrently; try again", code="campaign_conflict")

    def update(self, tenant: str, campaign_id: str, patch: dict[str, Any], at: datetime) -> CampaignVersion:
        """The next version: the fields given over the current ones, validated whole and checked against the
        campaign's history (``shared.campaigns.check_change``)."""
        current = self.get(tenant, campaign_id)
        version = next_version(current, merged(current.campaign, patch), at)
        if not self._store.replace(tenant, version):
            raise Conflict("the campaign changed meanwhile; read it again", code="campaign_conflict")
        return version


def _exists(campaign_id: str) -> Conflict:
    return Conflict(f"campaign {campaign_id} exists; change it with PUT", code="campaign_exists")
