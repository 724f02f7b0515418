"""Latency per request type through API Gateway -> Lambda on the emulator, beside `chalice local` (issue 12 item 7).

Part of `make bench`; alone: ``python scripts/bench_latency.py [REQUESTS]`` (packages first).

The package of `make package` is deployed by CloudFormation on ministack (scripts/deploy_local.py), a tenant created
with the ops command, and `chalice local` started on the same emulator's tables and queue, so both targets run the
same code against the same DynamoDB: what differs is the path, API Gateway and a Lambda worker running the zip versus
one in-process dev server. Every path is warmed up first (each Lambda's cold start is paid before measuring), then
``REQUESTS`` rounds of the load test's request types (scripts/load/locustfile.py) are sent one at a time, the two
targets taking turns round by round so that the machine's noise falls on both alike:

  order.paid (signed), quote, hold, release, order.paid with hold, member view, history page, replay.

p50 and p99 of each type per target (p99 of a few dozen samples is close to the slowest one). Local figures: an
emulator on a shared machine, not AWS.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parent.parent) not in sys.path:  # run as a file
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = int(os.environ.get("BENCH_LATENCY_REQUESTS", "30"))  # rounds: samples per request type and target
WARM_ROUNDS = 2
MEMBERS = 5  # per target: the rounds spread over them, so a member has a few lots and a history page to read
TOTAL = 100_000  # 1000.00 RUB: 50 points at the default 5 %
HOLD_POINTS = 10
TENANT = "bench-latency"
TYPES = (
    "order.paid",
    "quote",
    "hold",
    "release",
    "order.paid with hold",
    "member view",
    "history page",
    "replay",
)
DEPLOYED, LOCAL = "API Gateway -> Lambda", "chalice local"
TIMEOUT_SECONDS = 30
# Why the read routes, hold and release add about 50 ms on the emulator and the webhooks much less: after each
# invocation ministack waits up to 50 ms for the worker's first log line (ministack/core/lambda_runtime.py,
# _drain_stderr_bounded, first_line_wait) unless a line came; the webhook routes log, the others write none.
EMULATOR_NOTE = (
    "ministack waits up to 50 ms after an invocation for a log line; routes that log none (quote, hold, release, "
    "member view, history) pay it, the webhook routes log and do not. AWS has no such wait."
)


# --- figures (pure) ----------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation between the closest ranks (numpy's default)."""
    if not values:
        raise ValueError("no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} outside 0-100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(samples: Mapping[str, Mapping[str, Sequence[float]]]) -> dict[str, dict[str, dict[str, float]]]:
    """target -> request type -> {n, p50, p99, max} in ms, rounded to 0.1."""
    return {
        target: {
            kind: {
                "n": len(values),
                "p50": round(percentile(values, 50), 1),
                "p99": round(percentile(values, 99), 1),
                "max": round(max(values), 1),
            }
            for kind, values in by_type.items()
            if values
        }
        for target, by_type in samples.items()
    }


def table_lines(summary: Mapping[str, Mapping[str, Mapping[str, float]]], deployed: str, local: str) -> list[str]:
    """The side-by-side table: p50/p99 through API Gateway -> Lambda and through `chalice local`, and the p50 added."""
    head = f"  {'request':<22} {'p50 ms':>8} {'p99 ms':>8}   {'p50 ms':>8} {'p99 ms':>8}   {'p50 added':>9}"
    lines = [
        f"  {'':<22} {deployed:^17}   {local:^17}",
        head,
        "  " + "-" * (len(head) - 2),
    ]
    kinds = [k for k in TYPES if k in summary.get(deployed, {}) or k in summary.get(local, {})]
    kinds += sorted(k for k in {*summary.get(deployed, {}), *summary.get(local, {})} if k not in kinds)
    for kind in kinds:
        a, b = summary.get(deployed, {}).get(kind), summary.get(local, {}).get(kind)
        left = f"{a['p50']:>8.1f} {a['p99']:>8.1f}" if a else f"{'-':>8} {'-':>8}"
        right = f"{b['p50']:>8.1f} {b['p99']:>8.1f}" if b else f"{'-':>8} {'-':>8}"
        added = f"{a['p50'] - b['p50']:>+9.1f}" if a and b else f"{'-':>9}"
        lines.append(f"  {kind:<22} {left}   {right}   {added}")
    return lines


# --- the requests ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    ms: float


def send(method: str, url: str, body: bytes | None, headers: Mapping[str, str]) -> Answer:
    request = urllib.request.Request(url, data=body, headers=dict(headers), method=method)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    ms = (time.perf_counter() - started) * 1000
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return Answer(int(status), parsed, ms)


@dataclass
class Target:
    """One way into the API (its base URL) and the samples taken through it."""

    name: str
    api: str
    creds: Mapping[str, Any]
    samples: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in TYPES})

    @property
    def prefix(self) -> str:
        return f"{self.api}/v1/tenants/{self.creds['tenant_id']}"

    def call(
        self, kind: str | None, method: str, path: str, payload: Any = None, expect: int = 200, **extra: str
    ) -> Any:
        """One request; its time joins ``kind``'s samples (None: not measured). A wrong status stops the bench."""
        headers = {"authorization": f"Bearer {self.creds['api_key']}", "content-type": "application/json", **extra}
        body = None if payload is None else json.dumps(payload).encode()
        answer = send(method, self.prefix + path, body, headers)
        return self._keep(kind, f"{method} {path}", answer, expect)

    def webhook(self, kind: str | None, raw: bytes, msg_id: str) -> Any:
        from scripts.signed_curl import signed_headers

        headers = signed_headers(self.creds["webhook_secrets"]["standard"], raw, msg_id)
        answer = send("POST", self.prefix + "/webhooks/standard", raw, headers)
        return self._keep(kind, "POST /webhooks/standard", answer, 200)

    def _keep(self, kind: str | None, what: str, answer: Answer, expect: int) -> Any:
        if answer.status != expect:
            raise RuntimeError(f"{self.name}: {what} answered {answer.status} (expected {expect}): {answer.body!r}")
        if kind is not None:
            self.samples[kind].append(answer.ms)
        return answer.body


def paid_body(member: str, order_id: str, hold: Mapping[str, Any] | None = None) -> bytes:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    data: dict[str, Any] = {
        "order_id": order_id,
        "customer": {"id": member},
        "currency": "RUB",
        "total_minor": TOTAL,
        "paid_at": now,
    }
    if hold is not None:
        data.update(hold_id=hold["hold_id"], points_redeemed=hold["points"])
    return json.dumps({"type": "order.paid", "timestamp": now, "data": data}, separators=(",", ":")).encode()


def expect_status(kind: str, body: Any, status: str) -> None:
    if not isinstance(body, dict) or body.get("status") != status:
        raise RuntimeError(f"{kind}: expected status {status!r}, got {body!r}")


def one_round(target: Target, n: int, measured: bool = True) -> None:
    """Each request type once, on member ``n % MEMBERS`` of this target."""

    def kind(name: str) -> str | None:
        return name if measured else None

    member = f"lat-{'gw' if target.name == DEPLOYED else 'local'}-{n % MEMBERS}"
    run = uuid.uuid4().hex[:10]
    msg_id, raw = f"msg_{run}", paid_body(member, f"o-{run}")
    expect_status("order.paid", target.webhook(kind("order.paid"), raw, msg_id), "applied")
    cart = {"member_id": member, "currency": "RUB", "total_minor": TOTAL}
    target.call(kind("quote"), "POST", "/checkout/quote", cart)
    hold = {"member_id": member, "order_id": f"o-{run}-r", "points": HOLD_POINTS, "total_minor": TOTAL}
    released = target.call(kind("hold"), "POST", "/holds", hold, expect=201)
    target.call(kind("release"), "POST", f"/holds/{released['hold_id']}/release")
    held = target.call(None, "POST", "/holds", {**hold, "order_id": f"o-{run}-h"}, expect=201)
    with_hold = paid_body(member, f"o-{run}-h", {"hold_id": held["hold_id"], "points": held["points"]})
    answer = target.webhook(kind("order.paid with hold"), with_hold, f"msg_{run}_h")
    expect_status("order.paid with hold", answer, "applied")
    target.call(kind("member view"), "GET", f"/members/{member}")
    target.call(kind("history page"), "GET", f"/members/{member}/history?limit=25")
    expect_status("replay", target.webhook(kind("replay"), raw, msg_id), "duplicate")


def measure(targets: Sequence[Target], rounds: int, progress: Callable[[str], None] = lambda _: None) -> None:
    """Warm every path of every target, then ``rounds`` measured rounds, the targets taking turns."""
    for target in targets:
        for n in range(WARM_ROUNDS):
            one_round(target, n, measured=False)
        progress(f"{target.name} warmed up")
    for n in range(rounds):
        for target in targets:
            one_round(target, n)


# --- the stack ---------------------------------------------------------------------------------------------------


def create_tenant(environment: Mapping[str, str]) -> dict[str, Any]:
    """A tenant made with the ops command, as an operator makes one: its API key and webhook secrets."""
    command = [sys.executable, "scripts/ops.py", "create-tenant", "--id", TENANT, "--currency", "RUB"]
    command += ["--timezone", "Europe/Moscow"]
    done = subprocess.run(
        command, cwd=ROOT, env={**os.environ, **environment}, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"ops create-tenant failed: {done.stderr.strip()[-1000:]}")
    return dict(json.loads(done.stdout))


def chalice_environment(stack_env: Mapping[str, str]) -> dict[str, str]:
    """`chalice local`'s environment: this process's, without the in-process bench's settings, pointed at the
    deployed stack's tables and queue (the same ones the Lambdas use)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("POWERTOOLS_", "AWS_", "SWEEP_", "TENANT", "LEDGER", "MESSAGING", "EMAIL", "GRANT"))
    }
    env.update(stack_env)
    env.update(POWERTOOLS_TRACE_DISABLED="1", POWERTOOLS_LOG_LEVEL="WARNING", LOG_LEVEL="WARNING")
    return env


def run(package_dir: Path, log_dir: Path, rounds: int = REQUESTS) -> dict[str, Any]:
    """Deploy ``package_dir`` on a fresh ministack, start `chalice local` beside it, measure both; the figures."""
    from scripts import ministack
    from scripts.deploy_local import deploy
    from scripts.localenv import chalice_command, free_port, stop_process, wait_until_ok

    started = time.perf_counter()
    emulator = ministack.start(log_dir / "ministack-latency.log")
    try:
        stack = deploy(emulator.url, package_dir)
        deployed_at = time.perf_counter()
        creds = create_tenant(stack.environment())
        port = free_port()
        with (log_dir / "chalice-local-latency.log").open("wb") as log:  # its request lines go there
            env = chalice_environment(stack.environment())
            server = subprocess.Popen(chalice_command(port), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            local_api = f"http://127.0.0.1:{port}"
            wait_until_ok(f"{local_api}/v1/health", server, 60)
            targets = [Target(DEPLOYED, stack.api_url, creds), Target(LOCAL, local_api, creds)]
            first = send("GET", f"{stack.api_url}/v1/health", None, {})
            measure(targets, rounds)
        finally:
            stop_process(server)
    finally:
        emulator.stop()
    summary = summarize({t.name: t.samples for t in targets})
    return {
        "rounds": rounds,
        "targets": {DEPLOYED: "ministack: API Gateway -> Lambda worker running deployment.zip", LOCAL: "chalice local"},
        "summary": summary,
        "first_call_ms": round(first.ms, 1),  # GET /v1/health: the worker spawned, the zip unpacked, init
        "note": EMULATOR_NOTE,
        "deploy_seconds": round(deployed_at - started, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }


def print_latency(result: Mapping[str, Any]) -> None:
    print(
        f"\nLatency per request type ({result['rounds']} of each, one at a time; same code and tables; "
        f"deployed in {result['deploy_seconds']:g} s, measured in {result['seconds']:g} s in all; the deployed "
        f"API's first call, a cold start in the emulator, took {result['first_call_ms']:.0f} ms):"
    )
    for line in table_lines(result["summary"], DEPLOYED, LOCAL):
        print(line)
    print(f"  Note: {result['note']}")


def main(argv: list[str] | None = None) -> int:
    from scripts.package import package

    args = argv if argv is not None else sys.argv[1:]
    rounds = int(args[0]) if args else REQUESTS
    out = ROOT / "build" / "bench"
    package_dir = package("dev", out / "package", quiet=True)
    result = run(package_dir, out, rounds)
    print_latency(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
