"""The tenants table's key schema, built here and nowhere else (as shared/keys.py is the ledger table's).

A tenant's partition ``T#<tenant>`` holds its record and its program versions (``PROGRAM#<n>``), read whole on every
tenant load; its campaigns have a partition of their own, ``T#<tenant>#CAMPAIGNS`` (``CAMPAIGN#<id>`` the current
version, ``VERSION#<id>#<n>`` every version, ``SLOT#<k>`` the places that bound their number: decision 89), so that
they never slow a tenant load. ``REGISTRY#vip`` lists the tenants with a VIP rule; ``SENDER#<domain>`` binds one
e-mail domain to one tenant.
"""

from __future__ import annotations

VIP_REGISTRY = "REGISTRY#vip"
SENDER = "SENDER"
CURRENT = "CAMPAIGN#"


def tenant_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}"


def program_sk(version: int) -> str:
    return f"PROGRAM#{version:06d}"


def sender_pk(domain: str) -> str:
    return f"{SENDER}#{domain}"


def campaigns_pk(tenant: str) -> str:
    return f"T#{tenant}#CAMPAIGNS"


def current_sk(campaign_id: str) -> str:
    return f"{CURRENT}{campaign_id}"


def version_sk(campaign_id: str, version: int) -> str:
    return f"VERSION#{campaign_id}#{version:06d}"


def slot_sk(ordinal: int) -> str:
    return f"SLOT#{ordinal:03d}"
