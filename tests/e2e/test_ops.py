"""The ops command (issue 2 item 2) against the running emulator: create-tables, create-tenant."""

from __future__ import annotations

import json

import pytest

from tests.conftest import TenantCreds
from tests.e2e.client import Api
from tests.e2e.stack import Stack, run_ops

pytestmark = pytest.mark.e2e


def test_create_tenant_prints_working_credentials_once(stack: Stack) -> None:
    result = run_ops(stack, "create-tenant", "--id", "e2e-shop", "--currency", "USD", "--earn-rate-bp", "700")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert set(printed) == {"tenant_id", "api_key", "webhook_secrets"}
    assert printed["api_key"].startswith("lk_") and printed["webhook_secrets"]["standard"].startswith("whsec_")
    assert printed["api_key"] not in result.stderr and printed["webhook_secrets"]["standard"] not in result.stderr
    creds = TenantCreds("e2e-shop", printed["api_key"], printed["webhook_secrets"]["standard"])
    program = Api(stack.api, creds).get("/program")
    assert program.status == 200, program
    assert (program.body["currency"], program.body["timezone"], program.body["earn_rate_bp"]) == ("USD", "UTC", 700)
    assert program.body["lifetime_days"] == 365  # the defaults for what was not given

    again = run_ops(stack, "create-tenant", "--id", "e2e-shop", "--currency", "USD")
    assert (again.returncode, again.stdout) == (1, "")
    assert "exists" in again.stderr
    tolerated = run_ops(stack, "create-tenant", "--id", "e2e-shop", "--currency", "USD", "--if-missing")
    assert (tolerated.returncode, tolerated.stdout) == (0, "")


def test_create_tenant_rejects_invalid_settings(stack: Stack) -> None:
    result = run_ops(stack, "create-tenant", "--id", "e2e-bad", "--currency", "XYZ", "--earn-rate-bp", "20000")
    assert (result.returncode, result.stdout) == (1, "")
    assert "--currency" in result.stderr and "--earn-rate-bp" in result.stderr


def test_create_tables_keeps_existing_tables(stack: Stack) -> None:
    result = run_ops(stack, "create-tables")
    assert result.returncode == 0, result.stderr
    assert "exist already" in result.stderr
