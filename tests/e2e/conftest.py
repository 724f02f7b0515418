"""End-to-end fixtures: the local stack that `make run` starts (moto server + `chalice local`), on free ports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TenantCreds
from tests.e2e.client import Api
from tests.e2e.stack import Stack, run_ops, start_stack


@pytest.fixture(scope="session")
def e2e_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="session")
def stack(e2e_dir: Path) -> Iterator[Stack]:
    """One stack for the whole session, stopped like Ctrl-C would at the end (and it must exit 0)."""
    running = start_stack(e2e_dir, e2e_dir / "tenant.json")
    try:
        yield running
    finally:
        status = running.stop()
    assert status == 0, running.output()


@pytest.fixture(scope="session")
def api(stack: Stack) -> Api:
    return Api(stack.api, stack.tenant)


@pytest.fixture(scope="session")
def other_tenant(stack: Stack) -> TenantCreds:
    """A second tenant, created with the ops command against the stack's emulator."""
    result = run_ops(stack, "create-tenant", "--id", "e2e-other", "--currency", "EUR", "--timezone", "Europe/Berlin")
    assert result.returncode == 0, result.stderr
    saved = json.loads(result.stdout)
    return TenantCreds(saved["tenant_id"], saved["api_key"], saved["webhook_secrets"]["standard"])
