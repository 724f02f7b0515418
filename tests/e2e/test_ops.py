"""The ops command (issue 2 item 2, issue 6 item 4) against the running emulator: create-tables, create-tenant,
suspend-tenant and resume-tenant."""

from __future__ import annotations

import json

import pytest

from tests.conftest import TenantCreds, paid_event
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


def test_create_tenant_takes_objects_lists_and_choices(stack: Stack) -> None:
    # Given settings of every kind of option: an object, a list, a map, a choice and a number
    transfer = {"enabled": True, "max_points_per_month": 500, "min_lot_age_days": 7}
    birthday = {"points": 200, "lifetime_days": 30}
    tiers = [{"name": "Gold", "min_spend_minor": 100_000, "earn_rate_bp": 700}]
    result = run_ops(
        stack,
        *("create-tenant", "--id", "e2e-kinds", "--currency", "EUR", "--tier-basis", "rolling_12m"),
        *("--transfer", json.dumps(transfer), "--birthday-bonus", json.dumps(birthday), "--tiers", json.dumps(tiers)),
        *("--category-multipliers", json.dumps({"shoes": 300}), "--min-check-minor", "500"),
    )
    # When the tenant is created, then its program holds each as given
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    creds = TenantCreds("e2e-kinds", printed["api_key"], printed["webhook_secrets"]["standard"])
    program = Api(stack.api, creds).get("/program").body
    assert program["transfer"] == transfer and program["tier_basis"] == "rolling_12m"
    assert program["birthday_bonus"]["points"] == 200 and program["tiers"][0]["name"] == "Gold"
    assert (program["category_multipliers"], program["min_check_minor"]) == ({"shoes": 300}, 500)


def test_create_tables_keeps_existing_tables(stack: Stack) -> None:
    result = run_ops(stack, "create-tables")
    assert result.returncode == 0, result.stderr
    assert "exist already" in result.stderr


def test_suspend_and_resume_a_tenant(stack: Stack) -> None:
    # Given a tenant created by the ops command
    created = run_ops(stack, "create-tenant", "--id", "e2e-pause", "--currency", "RUB")
    assert created.returncode == 0, created.stderr
    printed = json.loads(created.stdout)
    api = Api(stack.api, TenantCreds("e2e-pause", printed["api_key"], printed["webhook_secrets"]["standard"]))
    # When it is suspended, its webhook and API answer 503 tenant_suspended and nothing is recorded
    suspend = run_ops(stack, "suspend-tenant", "--id", "e2e-pause", "--reason", "e2e")
    assert suspend.returncode == 0, suspend.stderr
    assert json.loads(suspend.stdout)["status"] == "suspended"
    assert printed["api_key"] not in suspend.stdout + suspend.stderr
    event = paid_event("e2e-o1", "c1", 100_000)
    refused = api.webhook(event, "msg_e2e_pause")
    assert (refused.status, refused.code) == (503, "tenant_suspended")
    assert (api.get("/members/c1").status, api.get("/members/c1").code) == (503, "tenant_suspended")
    # When it is resumed, the platform's retry of the same delivery earns
    resume = run_ops(stack, "resume-tenant", "--id", "e2e-pause")
    assert resume.returncode == 0 and json.loads(resume.stdout)["status"] == "active", resume.stderr
    retried = api.webhook(event, "msg_e2e_pause")
    assert (retried.status, retried.body["status"], retried.body["points_earned"]) == (200, "applied", 50)
    assert api.member("c1")["balance"] == 50
    # And an unknown tenant is an error
    unknown = run_ops(stack, "suspend-tenant", "--id", "e2e-nobody")
    assert (unknown.returncode, unknown.stdout) == (1, "") and "does not exist" in unknown.stderr


def test_rotate_key_and_revoke_keys_over_http(stack: Stack) -> None:
    # Given a tenant created by the ops command, its key working
    created = run_ops(stack, "create-tenant", "--id", "e2e-keys", "--currency", "RUB")
    assert created.returncode == 0, created.stderr
    printed = json.loads(created.stdout)
    secret = printed["webhook_secrets"]["standard"]
    old = Api(stack.api, TenantCreds("e2e-keys", printed["api_key"], secret))
    assert old.get("/program").status == 200
    # When the key is rotated (a leak: no grace), then the old key is refused and the new one, printed once, works
    rotated = run_ops(stack, "rotate-key", "--id", "e2e-keys")
    assert rotated.returncode == 0, rotated.stderr
    new_key = json.loads(rotated.stdout)["api_key"]
    assert new_key not in rotated.stderr and printed["api_key"] not in rotated.stdout
    new = Api(stack.api, TenantCreds("e2e-keys", new_key, secret))
    assert (old.get("/program").status, old.get("/program").code) == (403, "forbidden")
    assert new.get("/program").status == 200
    # When every key is revoked, then the new key is refused too, and the webhooks still earn
    revoked = run_ops(stack, "revoke-keys", "--id", "e2e-keys")
    assert revoked.returncode == 0 and json.loads(revoked.stdout)["revoked"] == 1, revoked.stderr
    assert new.get("/program").status == 403
    assert new.webhook(paid_event("e2e-k1", "c1", 100_000), "msg_e2e_keys").status == 200


def test_a_staff_topic_not_named_for_the_tenant_is_refused(stack: Stack) -> None:
    # Given a tenant, when the operator binds a topic named for another tenant, then the command refuses it
    assert run_ops(stack, "create-tenant", "--id", "e2e-topic", "--currency", "RUB").returncode == 0
    arn = "arn:aws:sns:us-east-1:123456789012:loyalty-staff-demo"
    refused = run_ops(stack, "set-staff-topic", "--id", "e2e-topic", "--topic-arn", arn)
    assert (refused.returncode, refused.stdout) == (1, "") and "loyalty-staff-e2e-topic" in refused.stderr
