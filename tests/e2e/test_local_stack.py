"""`make run`'s script (issue 2 item 7): copy-paste commands work, restarts reuse or recreate, signals stop it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.localenv import ROOT
from tests.e2e.client import Api
from tests.e2e.stack import Stack, listening, run_ops, start_stack

pytestmark = pytest.mark.e2e


def banner_curl(stack: Stack) -> str:
    lines = stack.output().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("curl "))
    end = next(i for i in range(start, len(lines)) if lines[i].lstrip().startswith("--data-binary"))
    return "\n".join(lines[start : end + 1])


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30, check=False)


def sh(command: str) -> str:
    return subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=30, check=True).stdout


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_printed_curl_earns_points(stack: Stack) -> None:
    answer = json.loads(sh(banner_curl(stack)))
    assert (answer["status"], answer["points_earned"]) == ("applied", 50)


def test_signed_curl_script(stack: Stack) -> None:
    env = {**os.environ, "PORT": stack.api.rsplit(":", 1)[1], "LOCAL_TENANT_FILE": str(stack.tenant_file)}
    command = [sys.executable, "scripts/signed_curl.py", "order.paid", "--order", "sc-1", "--member", "sc"]
    sent = run([*command, "--total", "4000"], env)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert sent.stdout.startswith("HTTP 200") and '"points_earned": 2' in sent.stdout  # 4000 * 5% / 100
    printed = run([*command, "--total", "4000", "--print-curl"], env)
    assert json.loads(sh(printed.stdout))["status"] == "duplicate"  # the same order, freshly signed


def test_restart_on_the_same_emulator_reuses_tables_and_tenant(stack: Stack, e2e_dir: Path) -> None:
    saved = stack.tenant_file.read_text()
    second = start_stack(e2e_dir, stack.tenant_file, endpoint=stack.endpoint)
    try:
        assert "Reusing the existing tables" in second.output()
        assert "Reusing tenant demo" in second.output()
        assert "program version" not in second.output()  # its notification settings were set already
        assert stack.tenant_file.read_text() == saved
        assert Api(second.api, stack.tenant).get("/program").status == 200
    finally:
        assert second.stop(signal.SIGINT) == 0, second.output()
    assert not listening(second.api)
    assert listening(stack.endpoint) and listening(stack.api)  # an external emulator is left running


def test_restart_with_a_fresh_emulator_recreates_the_tenant(stack: Stack, e2e_dir: Path) -> None:
    stale = e2e_dir / "stale-tenant.json"
    shutil.copy(stack.tenant_file, stale)
    fresh = start_stack(e2e_dir, stale)
    try:
        assert "Created tenant demo" in fresh.output()
        assert json.loads(stale.read_text())["api_key"] != stack.tenant.api_key
        assert Api(fresh.api, fresh.tenant).get("/program").status == 200
        assert oct(stale.stat().st_mode & 0o777) == oct(0o600)
    finally:
        assert fresh.stop(signal.SIGTERM) == 0, fresh.output()
    assert not listening(fresh.api) and not listening(fresh.endpoint)


def test_restart_gives_a_saved_tenant_without_notification_settings_the_demo_ones(stack: Stack, e2e_dir: Path) -> None:
    # Given .local/tenant.json of a tenant made before reminders existed (no notification settings)
    made = run_ops(stack, "create-tenant", "--id", "e2e-legacy", "--currency", "RUB", "--timezone", "Europe/Moscow")
    assert made.returncode == 0, made.stderr
    legacy = e2e_dir / "legacy-tenant.json"
    legacy.write_text(made.stdout)
    # When `make run` starts again on the same emulator
    again = start_stack(e2e_dir, legacy, endpoint=stack.endpoint)
    try:
        # Then the tenant and its credentials are reused, and a new program version has the demo's settings
        assert "Reusing tenant e2e-legacy" in again.output()
        program = Api(again.api, again.tenant).get("/program").body
    finally:
        assert again.stop(signal.SIGTERM) == 0, again.output()
    assert json.loads(legacy.read_text()) == json.loads(made.stdout)
    assert (program["version"], program["language"], program["sms_sender_id"]) == (2, "ru", "Loyalty")
    assert program["email_from"] == "loyalty@example.com"
    assert program["staff_topic_arn"] == "arn:aws:sns:us-east-1:123456789012:loyalty-staff-e2e-legacy"
