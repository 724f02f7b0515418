"""`make run` (scripts/deployed_stack.py, issue 12 item 2): the package deployed by CloudFormation on its own
ministack, the demo tenant, a banner whose commands work (the signed curl, `make schedule` through the deployed
starter and worker) and that names every scheduled job, and Ctrl-C through make stopping everything: the script
exits 0 and make, interrupted too, ends by the same SIGINT (status 130 in a shell), as the README says. And
`make schedule` with no stack running: the script's 1 under make's 2 (issue 14 item 6)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts.localenv import ROOT, free_port
from scripts.scheduler import JOB_FUNCTIONS
from tests.e2e.client import request
from tests.e2e.stack import listening

READY_SECONDS = 180  # the issue asks for 90 s with .venv present; CI's first packaging downloads wheels
BANNER = "Stop with Ctrl-C."
MAKE_VARS = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")  # of a `make test` running this: a terminal's make has none


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
    env = {k: v for k, v in env.items() if k not in MAKE_VARS}
    log = workdir / "make-run.log"
    with log.open("wb") as out:
        # its own process group, as a terminal's foreground job: Ctrl-C goes to the whole group
        proc = subprocess.Popen(
            ["make", "run"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    running = RunningStack(proc, log, env, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + READY_SECONDS
    while BANNER not in running.output():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_group(proc)
            pytest.fail(f"make run did not get ready:\n{running.output()}")
        time.sleep(0.5)
    yield running
    stop_group(proc)


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """make, the script and its emulator, when a test left them running."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)


def run(command: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def test_the_api_is_api_gateway_in_front_of_the_deployed_function(make_run: RunningStack) -> None:
    api = make_run.stack()["api_url"]
    assert api.startswith(f"{make_run.endpoint}/_aws/execute-api/") and api in make_run.output()
    assert request("GET", f"{api}/v1/health").body == {"status": "ok"}
    assert "Created tenant demo" in make_run.output()
    assert "Not created by the emulator (infra/emulator_gaps.json)" in make_run.output()
    # And the banner names every scheduled job `make schedule` takes
    assert f"JOB is any of the 8 scheduled jobs: {', '.join(JOB_FUNCTIONS)}" in make_run.output()
    # And the demo shop's customer cabinet is printed, and its page is served
    page = f"{api}/v1/tenants/demo/cabinet"
    assert page in make_run.output()
    with urllib.request.urlopen(page, timeout=30) as answer:
        assert answer.status == 200 and answer.headers["Content-Type"].startswith("text/html")


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


def test_ctrl_c_stops_the_emulator_the_script_exits_0_and_make_ends_by_the_sigint(make_run: RunningStack) -> None:
    # When Ctrl-C reaches the terminal's foreground group: make and the script
    os.killpg(make_run.proc.pid, signal.SIGINT)
    # Then the script stops the emulator, removes the stack file and exits 0: make reports no failed recipe
    assert make_run.proc.wait(30) == -signal.SIGINT, make_run.output()  # a shell shows 128 + 2 = 130
    assert "SIGINT: stopped." in make_run.output()
    assert "Error" not in make_run.output().split("SIGINT: stopped.")[-1]
    assert not listening(make_run.endpoint)
    assert not Path(make_run.env["LOCAL_STACK_FILE"]).exists()


def test_make_schedule_without_a_running_stack_is_the_scripts_1_under_makes_2(tmp_path: Path) -> None:
    # Given no stack of `make run` (no stack file) and no emulator on the port `make dev` would use
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in MAKE_VARS}
    env.update(LOCAL_STACK_FILE=str(tmp_path / "stack.json"), AWS_PORT=str(free_port()))
    # When the reminder job is asked for through make
    done = run(["make", "schedule", "JOB=remind", "AT=2027-01-01T09:00:00Z"], env)
    # Then the script says to start the stack and exits 1, and make, whose recipe failed, exits 2
    assert "start it with `make run`" in done.stderr, done.stdout + done.stderr
    assert "schedule] Error 1" in done.stderr and done.returncode == 2
