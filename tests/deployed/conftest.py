"""The deployed tier (issue 12 item 4): one stack for the session, deployed from the packaged template on ministack.

Packaging takes a few seconds with chalice's cached build (a minute or two on a fresh machine), the deployment about
two; each function's first call pays its cold start (a few seconds) in the emulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts import ministack
from scripts.deploy_local import DeployedStack, deploy
from scripts.package import package
from tests.conftest import TenantCreds
from tests.deployed.stack import create_tenant
from tests.e2e.client import Api


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/deployed/" in str(item.fspath):
            item.add_marker(pytest.mark.deployed)


@pytest.fixture(scope="session")
def deployed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("deployed")


@pytest.fixture(scope="session")
def artifact(deployed_dir: Path) -> Path:
    """`make package` (stage dev) into the session's folder: sam.json + deployment.zip."""
    return package("dev", deployed_dir / "package", quiet=True)


@pytest.fixture(scope="session")
def deployed(deployed_dir: Path, artifact: Path) -> Iterator[DeployedStack]:
    """ministack on a free port with the packaged stack created by CloudFormation; stopped at the end."""
    emulator = ministack.start(deployed_dir / "ministack.log", enforce_iam=True)  # each Lambda as its own role
    try:
        yield deploy(emulator.url, artifact)
    finally:
        emulator.stop()


@pytest.fixture(scope="session")
def tenant(deployed: DeployedStack) -> TenantCreds:
    return create_tenant(deployed, "shop", "--currency", "RUB", "--timezone", "Europe/Moscow")


@pytest.fixture(scope="session")
def api(deployed: DeployedStack, tenant: TenantCreds) -> Api:
    """The merchant API and webhook of ``tenant`` through API Gateway -> Lambda on the emulator."""
    return Api(deployed.api_url, tenant)
