"""`make load` (issue 6 item 7): a fixed number of requests from locust against the local stack, a report, and
the ledger invariants of docs/spec.md §3 checked for every member the run touched.

  .venv/bin/python scripts/load/run.py                      # 2000 requests, 8 users
  LOAD_REQUESTS=500 LOAD_USERS=4 .venv/bin/python scripts/load/run.py

1. The stack: the running one when its API answers at $API_URL, else at the API of the stack `make run` deployed
   (.local/stack.json), else at `make dev`'s http://127.0.0.1:$PORT (default 8000), and accepts the tenant in
   $LOCAL_TENANT_FILE (default .local/tenant.json); otherwise `make run`'s stack started for the run on a free port
   (scripts/deployed_stack.py, its own emulator) and stopped at the end.
2. locust, headless, runs scripts/load/locustfile.py with LOAD_USERS users (default 8) spawned at LOAD_SPAWN_RATE
   per second (default: all at once) until LOAD_REQUESTS planned requests (default 2000) are answered.
3. The report: requests, req/s, p50/p99 per request type, refusals, 503 retries and errors.
4. Every member the run wrote to is read back (view and full history) and checked (scripts/load/invariants.py).

Files go to LOAD_DIR (default build/load): samples.json, report.json, locust.html, locust.log, and the started
stack's stack.log. Exit status 0 when no request errored and every invariant holds, 1 otherwise, 2 when the run
could not happen (bad settings, stack not usable, locust failed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parents[2]) not in sys.path:  # run as a file
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from scripts.load.invariants import Promised, violations
from scripts.load.record import read_samples
from scripts.load.report import Report, build, render
from scripts.load.stack import StackError, Target, own_stack, running
from scripts.localenv import ROOT, default_api_url

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
SECONDS_PER_REQUEST = 2.0  # locust is stopped after this much time per planned request (plus a minute)


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ
    parser = argparse.ArgumentParser(description="Load test against the local stack (make load).")
    parser.add_argument("--requests", type=positive, default=positive(env.get("LOAD_REQUESTS", "2000")))
    parser.add_argument("--users", type=positive, default=positive(env.get("LOAD_USERS", "8")))
    parser.add_argument("--spawn-rate", type=float, default=float(env.get("LOAD_SPAWN_RATE", "0") or 0))
    parser.add_argument("--members", type=positive, default=positive(env.get("LOAD_MEMBERS", "40")))
    parser.add_argument("--hot", type=positive, default=positive(env.get("LOAD_HOT", "4")))
    parser.add_argument("--url", default=default_api_url(env))
    parser.add_argument(
        "--tenant-file", type=Path, default=Path(env.get("LOCAL_TENANT_FILE") or ROOT / ".local" / "tenant.json")
    )
    parser.add_argument("--dir", type=Path, default=Path(env.get("LOAD_DIR") or ROOT / "build" / "load"))
    return parser.parse_args(argv)


@contextmanager
def target(args: argparse.Namespace) -> Iterator[Target]:
    found = running(args.url.rstrip("/"), args.tenant_file)
    if found is not None:
        print(f"Using the running stack at {found.api} (tenant file {found.tenant_file})", flush=True)
        yield found
        return
    print(f"No stack at {args.url}: starting one for this run (log: {args.dir / 'stack.log'})", flush=True)
    with own_stack(args.dir) as started:
        print(f"Started a local stack at {started.api}", flush=True)
        yield started
    print("Stopped the local stack it started", flush=True)


def run_locust(args: argparse.Namespace, stack: Target, run_id: str) -> dict[str, Any]:
    """locust headless until the budget is spent; what the locustfile recorded."""
    out = args.dir / "samples.json"
    out.unlink(missing_ok=True)
    env = {
        **os.environ,
        "LOAD_REQUESTS": str(args.requests),
        "LOAD_MEMBERS": str(args.members),
        "LOAD_HOT": str(args.hot),
        "LOAD_RUN": run_id,
        "LOAD_OUT": str(out),
        "LOAD_TENANT_FILE": str(stack.tenant_file),
    }
    spawn_rate = args.spawn_rate or args.users
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
        "-u", str(args.users), "-r", str(spawn_rate), "--host", stack.api,
        "--html", str(args.dir / "locust.html"), "--exit-code-on-error", "0",  # errors are judged by the report
    ]  # fmt: skip
    timeout = 60 + SECONDS_PER_REQUEST * args.requests
    print(
        f"locust: {args.requests} requests, {args.users} users spawned at {spawn_rate:g}/s (log: {args.dir / 'locust.log'})",
        flush=True,
    )
    with (args.dir / "locust.log").open("wb") as log:
        try:
            done = subprocess.run(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise StackError(f"locust did not finish within {timeout:.0f} s") from exc
    if done.returncode != 0 or not out.exists():
        raise StackError(f"locust exited with status {done.returncode}: see {args.dir / 'locust.log'}")
    return dict(json.loads(out.read_text()))


def get_json(url: str, auth: dict[str, str]) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers=auth)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), json.loads(error.read() or b"null")


def read_member(
    api: str, tenant_id: str, auth: dict[str, str], member_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The member view and every history entry (newest first); None when the member does not exist."""
    base = f"{api}/v1/tenants/{tenant_id}/members/{member_id}"
    status, view = get_json(base, auth)
    if status == 404:
        return None
    if status != 200:
        raise StackError(f"GET member {member_id} answered {status}: {view}")
    entries: list[dict[str, Any]] = []
    cursor = ""
    while True:
        status, page = get_json(f"{base}/history?limit=100{cursor}", auth)
        if status != 200:
            raise StackError(f"GET history of {member_id} answered {status}: {page}")
        entries += page["entries"]
        if not page["next_cursor"]:
            return dict(view), entries
        cursor = "&cursor=" + urllib.parse.quote(page["next_cursor"], safe="")


def check_members(stack: Target, members: dict[str, Any]) -> list[str]:
    """The invariants of every member the run wrote to; a member whose write got no answer is checked without
    the run's expectations (only the structural invariants)."""
    creds = json.loads(stack.tenant_file.read_text())
    auth = {"authorization": f"Bearer {creds['api_key']}"}
    found: list[str] = []
    for member_id, expected in sorted(members.items()):
        promised = Promised(expected["balance"], expected["held"]) if expected["certain"] else None
        read = read_member(stack.api, creds["tenant_id"], auth, member_id)
        if read is None:
            if promised is not None and (promised.balance or promised.held):
                found.append(f"{member_id}: not found, but the run's answers put {promised} on it")
            continue
        found += violations(member_id, *read, promised)
    return found


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S") + "-" + uuid.uuid4().hex[:4]
    try:
        with target(args) as stack:
            recorded = run_locust(args, stack, run_id)
            report = build(recorded["planned"], recorded["started"], read_samples(recorded))
            print(render(report, args.users), flush=True)
            problems = check_members(stack, recorded["members"])
            print_checks(problems, len(recorded["members"]))
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_report(args, report, recorded["members"], problems)
    if report.failed:
        print(f"error: {report.total.errors} requests failed ({report.server_errors} with a 5xx)", file=sys.stderr)
    return 1 if problems or report.failed else 0


def print_checks(problems: list[str], members: int) -> None:
    if problems:
        print(f"\nLedger invariants BROKEN ({len(problems)}) over {members} members:", file=sys.stderr)
        print("\n".join(f"  {p}" for p in problems), file=sys.stderr, flush=True)
    else:
        print(f"\nLedger invariants hold for all {members} members the run wrote to (docs/spec.md §3)", flush=True)


def write_report(args: argparse.Namespace, report: Report, members: dict[str, Any], problems: list[str]) -> None:
    summary = {
        **asdict(report),
        "users": args.users,
        "rps": report.rps,
        "members_checked": len(members),
        "invariant_violations": problems,
    }
    (args.dir / "report.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
