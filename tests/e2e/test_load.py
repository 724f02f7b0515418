"""`make load` (scripts/load/run.py) over real HTTP, kept small: against the running e2e stack, then with a stack
it starts and stops itself. The full-size run is `make load` (2000 requests, docs/performance.md "Load test")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.localenv import ROOT, free_port
from tests.e2e.stack import Stack, listening

pytestmark = pytest.mark.e2e


def run_load(workdir: Path, api: str, tenant_file: Path, requests: int, users: int) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LOAD_") and k != "AWS_ENDPOINT_URL"},
        "API_URL": api,
        "LOCAL_TENANT_FILE": str(tenant_file),
        "LOAD_DIR": str(workdir),
        "LOAD_REQUESTS": str(requests),
        "LOAD_USERS": str(users),
        "LOAD_MEMBERS": "6",
        "LOAD_HOT": "2",
    }
    command = [sys.executable, "scripts/load/run.py"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_a_small_load_run_reports_and_finds_the_ledger_consistent(stack: Stack, tmp_path: Path) -> None:
    # Given the running stack, when 100 requests from 2 users run, then the report and the invariant check pass
    done = run_load(tmp_path, stack.api, stack.tenant_file, requests=100, users=2)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Using the running stack at {stack.api}" in done.stdout
    assert "100 planned requests" in done.stdout and "0 errors (0 of them 5xx)" in done.stdout
    assert "Ledger invariants hold for all" in done.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    total = report["rows"][-1]
    assert total["name"] == "all" and report["planned"] == 100
    assert total["requests"] == 100 + total["retried"]  # exactly the budget, plus the 503s sent again
    assert total["ok"] + total["refused"] + total["retried"] == total["requests"] and total["errors"] == 0
    assert 0 < total["p50_ms"] <= total["p99_ms"] <= total["max_ms"] and report["rps"] > 0
    names = {row["name"] for row in report["rows"]}
    assert {"order.paid", "GET member", "quote"} <= names, names
    assert report["members_checked"] >= 1 and report["invariant_violations"] == []
    samples = json.loads((tmp_path / "samples.json").read_text())
    written = [m for m in samples["members"].values() if m["earned"]]
    assert written and all(m["certain"] for m in written)  # every write got its answer, so balances were compared


def test_without_a_running_stack_it_starts_one_and_stops_it(tmp_path: Path) -> None:
    # Given nothing listening on the API port, when a load run starts, then it brings its own stack and stops it
    api = f"http://127.0.0.1:{free_port()}"
    done = run_load(tmp_path, api, tmp_path / "absent.json", requests=30, users=2)
    assert done.returncode == 0, done.stdout + done.stderr + (tmp_path / "stack.log").read_text(errors="replace")
    assert f"No stack at {api}: starting one" in done.stdout
    assert "30 planned requests" in done.stdout and "Stopped the local stack it started" in done.stdout
    started = next(line for line in done.stdout.splitlines() if line.startswith("Started a local stack at "))
    assert not listening(started.removeprefix("Started a local stack at "))
    assert "SIGTERM: stopped." in (tmp_path / "stack.log").read_text()
