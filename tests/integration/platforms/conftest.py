"""Platform webhook tests: the published fixtures byte for byte (tests/fixtures/webhooks, copied from
../shared/fixtures/webhooks with SOURCES.md) and their signature vectors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.container import container
from tests.conftest import TenantCreds, make_tenant

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "webhooks"
VECTORS = json.loads((FIXTURES / "test_vectors.json").read_text())


def fixture(name: str) -> bytes:
    """A fixture file's exact bytes (signatures are over bytes, never over re-encoded JSON)."""
    return (FIXTURES / name).read_bytes()


def vector(scheme: str, file: str) -> dict[str, Any]:
    return next(v for v in VECTORS["derived"] if v["scheme"] == scheme and v.get("file") == file)


def platform_tenant(platform: str, secret: str, tenant_id: str = "shop", **program: Any) -> TenantCreds:
    """A tenant whose secret for ``platform`` is ``secret`` (as pasted from the platform's admin)."""
    creds = make_tenant(tenant_id, **program)
    tenants = container().tenants
    tenant = tenants.get(tenant_id)
    assert tenant is not None
    tenants.set_webhook_secret(tenant, platform, secret)
    return creds


def post(client: Any, tenant_id: str, platform: str, raw: bytes, headers: dict[str, str]) -> Any:
    return client.http.post(f"/v1/tenants/{tenant_id}/webhooks/{platform}", body=raw, headers=headers)
