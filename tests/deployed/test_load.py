"""`make load` against the deployed stack (issue 12 item 7): locust through API Gateway -> Lambda on the emulator,
then the ledger invariants of every member it touched. Kept small; the full run is `make load` beside `make run`."""

from __future__ import annotations

import json
from pathlib import Path

from scripts.deploy_local import DeployedStack
from tests.deployed.stack import create_tenant
from tests.e2e.test_load import run_load


def test_a_small_load_run_through_api_gateway_keeps_the_ledger_consistent(
    deployed: DeployedStack, tmp_path: Path
) -> None:
    # Given a tenant of the deployed stack, saved as `make run` saves the demo tenant
    creds = create_tenant(deployed, "load", "--currency", "RUB", "--timezone", "Europe/Moscow")
    tenant_file = tmp_path / "tenant.json"
    tenant_file.write_text(
        json.dumps(
            {"tenant_id": creds.tenant_id, "api_key": creds.api_key, "webhook_secrets": {"standard": creds.secret}}
        )
    )
    # When 60 requests from 2 users run against its API
    done = run_load(tmp_path, deployed.api_url, tenant_file, requests=60, users=2)
    # Then no request errored and the invariants hold for every member written to
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Using the running stack at {deployed.api_url}" in done.stdout
    assert "0 errors (0 of them 5xx)" in done.stdout and "Ledger invariants hold for all" in done.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["members_checked"] >= 1 and report["invariant_violations"] == []
