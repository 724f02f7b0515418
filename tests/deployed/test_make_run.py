"""`make run` (scripts/deployed_stack.py, issue 12 item 2): the package deployed by CloudFormation on its own
ministack, the demo tenant, a banner whose commands work (the signed curl, `make schedule` through the deployed
starter and worker), and Ctrl-C stopping everything with status 0."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts.localenv import ROOT, free_port
from tests.e2e.client import request
from tests.e2e.stack import listening

READY_SECONDS = 180  # the issue asks for 90 s with .venv present; CI's first packaging downloads wheels
BANNER = "Stop with Ctrl-C."


@dataclass
class RunningStack:
    proc: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str]
    endpoint: str

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stack(self) -> dict[str, str]:
        return dict(json.loads(Path(self.env["LOCAL_STACK_FILE"]).read_text()))


@pytest.fixture(scope="module")
def make_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    workdir = tmp_path_factory.mktemp("make-run")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL", "API_URL")}
    env.update(
        AWS_PORT=str(port),
        LOCAL_TENANT_FILE=str(workdir / "tenant.json"),
        LOCAL_STACK_FILE=str(workdir / "stack.json"),
        PYTHONUNBUFFERED="1",
    )
    log = workdir / "make-run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "scripts/deployed_stack.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    running = RunningStack(proc, log, env, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + READY_SECONDS
    while BANNER not in running.output():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"make run did not get ready:\n{running.output()}")
        time.sleep(0.5)
    yield running
    if proc.poll() is None:
        proc.kill()


def run(command: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def test_the_api_is_api_gateway_in_front_of_the_deployed_function(make_run: RunningStack) -> None:
    api = make_run.stack()["api_url"]
    assert api.startswith(f"{make_run.endpoint}/_aws/execute-api/") and api in make_run.output()
    assert request("GET", f"{api}/v1/health").body == {"status": "ok"}
    assert "Created tenant demo" in make_run.output()
    assert "Not created by the emulator (infra/emulator_gaps.json)" in make_run.output()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_printed_curl_earns_points(make_run: RunningStack) -> None:
    lines = make_run.output().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("curl "))
    end = next(i for i in range(start, len(lines)) if lines[i].lstrip().startswith("--data-binary"))
    done = subprocess.run(["sh", "-c", "\n".join(lines[start : end + 1])], capture_output=True, text=True, timeout=60)
    answer = json.loads(done.stdout)
    assert (answer["status"], answer["points_earned"]) == ("applied", 50)


def test_make_schedule_runs_the_deployed_starter_and_worker(make_run: RunningStack) -> None:
    # Given points earned now (the signed script finds the API in the stack file), when the expiry runs two years on
    earned = run(
        [sys.executable, "scripts/signed_curl.py", "order.paid", "--member", "sched", "--total", "2000"], make_run.env
    )
    assert earned.returncode == 0, earned.stdout + earned.stderr
    done = run([sys.executable, "scripts/schedule.py", "expire", "2029-01-01T00:00:00Z"], make_run.env, timeout=300)
    # Then the deployed expire_points planned the shards and the deployed worker expired the lots
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Invoking the deployed expire_points" in done.stderr
    assert "job expire at 2029-01-01T00:00:00Z: 64 shard tasks" in done.stdout
    totals = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("{")))
    assert totals["lots"] >= 1 and totals["points"] >= 1 and totals["tasks"] == 64
    assert "0 dead letters" in done.stdout


def test_ctrl_c_stops_the_emulator_and_exits_0(make_run: RunningStack) -> None:
    make_run.proc.send_signal(signal.SIGINT)
    assert make_run.proc.wait(30) == 0, make_run.output()
    assert "SIGINT: stopped." in make_run.output()
    assert not listening(make_run.endpoint)
    assert not Path(make_run.env["LOCAL_STACK_FILE"]).exists()
