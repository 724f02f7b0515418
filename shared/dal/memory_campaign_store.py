"""The campaign store in memory: the same port and the same semantics as ``DynamoCampaignStore``, no emulator.

Items live under the table's keys (``shared.dal.campaign_store``: the current version, every version, the places),
a save checks all its conditions under one lock before it writes any, and times are kept at second precision, as the
table keeps them. Tests and local tools only: one process.
"""

from __future__ import annotations

import threading
from typing import Literal

from shared.campaigns import CampaignVersion
from shared.dal.memory_writes import stored
from shared.dal.tenants_keys import CURRENT, campaigns_pk, current_sk, slot_sk, version_sk


def _kept(version: CampaignVersion) -> CampaignVersion:
    return version.model_copy(
        update={"effective_at": stored(version.effective_at), "activated_at": stored(version.activated_at)}
    )


class MemoryCampaignStore:
    """``CampaignStore`` over a dict ``{(pk, sk): CampaignVersion | campaign id}``, thread-safe."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], CampaignVersion | str] = {}
        self._lock = threading.RLock()

    def current(self, tenant: str, campaign_id: str) -> CampaignVersion | None:
        return self._version((campaigns_pk(tenant), current_sk(campaign_id)))

    def version(self, tenant: str, campaign_id: str, version: int) -> CampaignVersion | None:
        return self._version((campaigns_pk(tenant), version_sk(campaign_id, version)))

    def listed(self, tenant: str) -> list[CampaignVersion]:
        pk = campaigns_pk(tenant)
        with self._lock:
            keys = sorted(sk for p, sk in self.items if p == pk and sk.startswith(CURRENT))
            return [v for v in (self._version((pk, sk)) for sk in keys) if v is not None]

    def create(self, tenant: str, version: CampaignVersion, ordinal: int) -> Literal["created", "exists", "taken"]:
        pk, campaign_id = campaigns_pk(tenant), version.campaign.id
        current, first, slot = (pk, current_sk(campaign_id)), (pk, version_sk(campaign_id, 1)), (pk, slot_sk(ordinal))
        with self._lock:
            if current in self.items or first in self.items:
                return "exists"
            if slot in self.items:
                return "taken"
            self.items[current] = self.items[first] = _kept(version)
            self.items[slot] = campaign_id
        return "created"

    def replace(self, tenant: str, version: CampaignVersion) -> bool:
        pk, campaign_id = campaigns_pk(tenant), version.campaign.id
        current, new = (pk, current_sk(campaign_id)), (pk, version_sk(campaign_id, version.version))
        with self._lock:
            there = self.items.get(current)
            if not isinstance(there, CampaignVersion) or there.version != version.version - 1 or new in self.items:
                return False
            self.items[current] = self.items[new] = _kept(version)
        return True

    def _version(self, key: tuple[str, str]) -> CampaignVersion | None:
        with self._lock:
            found = self.items.get(key)
        return found if isinstance(found, CampaignVersion) else None
