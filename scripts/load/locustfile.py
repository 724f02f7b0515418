"""The load scenario (`make load`, issue 6 item 7): shoppers of one tenant against a running local stack.

Run by scripts/load/run.py (which finds or starts the stack and checks the ledger afterwards), or by hand:

  LOAD_TENANT_FILE=.local/tenant.json LOAD_REQUESTS=500 .venv/bin/locust -f scripts/load/locustfile.py \\
      --headless -u 4 -r 4 --host http://127.0.0.1:8000 --only-summary

Each user repeats one of these flows, picked by weight, until the fixed request budget (LOAD_REQUESTS) is spent:
  - paid order: a signed Standard Webhooks ``order.paid``;
  - checkout: quote a cart, hold the points it allows, pay the order with the hold (``hold_id`` in order.paid);
  - abandoned cart: quote, hold, release;
  - quote only, member view, history page;
  - replay: an applied order.paid delivered again with its webhook-id (must answer "duplicate").
Members come from a pool (LOAD_MEMBERS, default 40) of which the first LOAD_HOT (default 4) get half the picks,
so the same member sees concurrent writes. A 503 ``conflict_retry`` (contention) is sent again after a short pause,
as a webhook sender or a checkout would, up to LOAD_RETRIES times. At the end the samples and what the answers
promised each member go to LOAD_OUT (JSON) for the report and the invariant check.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gevent  # type: ignore[import-untyped]
from locust import HttpUser, constant, events, task
from locust.exception import StopUser

if str(Path(__file__).resolve().parents[2]) not in sys.path:  # loaded by path by locust
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from scripts.load.record import ERROR, OK, REFUSED, RETRIED, Budget, Recorder, Sample
from scripts.signed_curl import signed_headers

PLANNED = int(os.environ.get("LOAD_REQUESTS", "2000"))
MEMBERS = int(os.environ.get("LOAD_MEMBERS", "40"))
HOT = min(int(os.environ.get("LOAD_HOT", "4")), MEMBERS)
RETRIES = int(os.environ.get("LOAD_RETRIES", "10"))
RUN = os.environ.get("LOAD_RUN") or datetime.now(UTC).strftime("%Y%m%d%H%M%S")
OUT = Path(os.environ.get("LOAD_OUT", "build/load/samples.json"))
CREDS = json.loads(Path(os.environ.get("LOAD_TENANT_FILE", ".local/tenant.json")).read_text())
TENANT = CREDS["tenant_id"]
AUTH = {"authorization": f"Bearer {CREDS['api_key']}", "content-type": "application/json"}
SECRET = CREDS["webhook_secrets"]["standard"]
CURRENCY = os.environ.get("LOAD_CURRENCY", "RUB")

budget = Budget(PLANNED)
recorder = Recorder(PLANNED)
applied: list[tuple[str, bytes]] = []  # (webhook-id, body) of applied order.paid deliveries, for replays


def member_id(index: int) -> str:
    return f"load-{RUN}-{index}"


def pick_member() -> str:
    if random.random() < 0.5:
        return member_id(random.randrange(HOT))
    return member_id(random.randrange(MEMBERS))


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def paid_body(member: str, order_id: str, total: int, hold: dict[str, Any] | None = None) -> bytes:
    data: dict[str, Any] = {
        "order_id": order_id,
        "customer": {"id": member},
        "currency": CURRENCY,
        "total_minor": total,
        "paid_at": now_iso(),
    }
    if hold is not None:
        data.update(hold_id=hold["hold_id"], points_redeemed=hold["points"])
    return json.dumps({"type": "order.paid", "timestamp": now_iso(), "data": data}, separators=(",", ":")).encode()


def is_applied(answer: Any) -> bool:
    return isinstance(answer, dict) and answer.get("status") == "applied"


def is_duplicate(answer: Any) -> bool:
    """A replayed delivery answers with the first result and changes nothing."""
    return isinstance(answer, dict) and answer.get("status") == "duplicate"


def error_code(body: Any) -> str | None:
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("code") if isinstance(error, dict) else None


@events.test_start.add_listener
def started(**_: Any) -> None:
    recorder.started = time.time()


@events.test_stop.add_listener
def stopped(**_: Any) -> None:
    recorder.write(OUT)


class Shopper(HttpUser):
    wait_time = constant(0)  # closed loop: each user sends its next request as soon as the last one answered

    def call(
        self,
        name: str,
        method: str,
        path: str,
        payload: Any = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        expect: int = 200,
        refusals: frozenset[tuple[int, str]] = frozenset(),
        valid: Callable[[Any], bool] | None = None,
    ) -> tuple[int, Any]:
        """One planned request (plus its 503 retries); every attempt is recorded. (status, JSON body).
        An ``expect`` status whose body is not ``valid`` is an error too."""
        data = raw if raw is not None else (None if payload is None else json.dumps(payload).encode())
        url = f"/v1/tenants/{TENANT}{path}"
        try:
            for attempt in range(RETRIES + 1):
                start = time.perf_counter()
                with self.client.request(
                    method, url, data=data, headers=headers or AUTH, name=name, catch_response=True
                ) as response:
                    ms = (time.perf_counter() - start) * 1000
                    status = int(response.status_code or 0)
                    try:
                        body = response.json() if response.content else None
                    except ValueError:
                        body = None
                    code = error_code(body)
                    if status == expect:
                        outcome = OK if valid is None or valid(body) else ERROR
                        code = code if outcome == OK else "unexpected_answer"
                    elif status == 503 and code == "conflict_retry" and attempt < RETRIES:
                        outcome = RETRIED
                    elif (status, code or "") in refusals:
                        outcome = REFUSED
                    else:
                        outcome = ERROR
                    if outcome == ERROR:
                        response.failure(f"{status} {code or ''}".strip())
                    else:
                        response.success()
                recorder.add(Sample(name, status, code, ms, outcome, time.time()))
                if outcome != RETRIED:
                    return status, body
                gevent.sleep(0.02 * (attempt + 1))
            raise AssertionError("unreachable: the last attempt is never RETRIED")
        finally:
            budget.finish()
            if budget.complete:
                gevent.spawn(self.environment.runner.quit)  # type: ignore[union-attr]

    def claim(self, count: int) -> bool:
        """Take ``count`` requests of the budget; when fewer are left, spend one on a member view instead."""
        if budget.take(count):
            return True
        if budget.take(1):
            self.view(pick_member())
            return False
        raise StopUser

    # -- single requests ---------------------------------------------------------------------------------

    def pay(self, member: str, total: int, hold: dict[str, Any] | None = None) -> None:
        order_id = hold["order_id"] if hold else f"o-{uuid.uuid4().hex[:12]}"
        msg_id = f"msg_{uuid.uuid4().hex}"
        body = paid_body(member, order_id, total, hold)
        status, answer = self.call(
            "order.paid" if hold is None else "order.paid with hold",
            "POST",
            "/webhooks/standard",
            raw=body,
            headers=signed_headers(SECRET, body, msg_id),
            valid=is_applied,
        )
        expected = recorder.member(member)
        if status == 200 and answer.get("status") == "applied":
            expected.earned += int(answer["points_earned"])
            expected.redeemed += int(answer.get("points_redeemed", 0))
            if hold is not None:
                expected.open_holds.pop(hold["hold_id"], None)
            applied.append((msg_id, body))
        elif status == 0 or status >= 500 or status == 200:  # no answer, or a 200 that is not "applied"
            expected.certain = False

    def quote(self, member: str, total: int) -> int:
        """The most points this member may use on the cart (0 when the quote failed)."""
        cart = {"member_id": member, "currency": CURRENCY, "total_minor": total}
        status, answer = self.call("quote", "POST", "/checkout/quote", cart)
        return int(answer["max_redeemable_points"]) if status == 200 else 0

    def hold(self, member: str, total: int, points: int) -> dict[str, Any] | None:
        order_id = f"o-{uuid.uuid4().hex[:12]}"
        request = {"member_id": member, "order_id": order_id, "points": points, "total_minor": total}
        status, answer = self.call(
            "hold", "POST", "/holds", request, expect=201, refusals=frozenset({(422, "insufficient_points")})
        )
        if status == 201:
            recorder.member(member).open_holds[answer["hold_id"]] = int(answer["points"])
            return {"hold_id": answer["hold_id"], "points": int(answer["points"]), "order_id": order_id}
        if status == 0 or status >= 500:
            recorder.member(member).certain = False
        return None

    def release(self, member: str, hold: dict[str, Any]) -> None:
        status, _ = self.call("release", "POST", f"/holds/{hold['hold_id']}/release")
        if status == 200:
            recorder.member(member).open_holds.pop(hold["hold_id"], None)
        elif status == 0 or status >= 500:
            recorder.member(member).certain = False

    def view(self, member: str) -> None:
        # a member no order reached yet is a 404, which is what the API must say
        self.call("GET member", "GET", f"/members/{member}", refusals=frozenset({(404, "member_not_found")}))

    # -- flows, by weight ------------------------------------------------------------------------------

    @task(4)
    def paid_order(self) -> None:
        if self.claim(1):
            self.pay(pick_member(), cart_total())

    def quote_and_hold(self, member: str, total: int) -> tuple[int, dict[str, Any] | None]:
        """A checkout's first two steps: the points the member may use, and a hold of some of them (None when
        there were none, or when another request took them first)."""
        points = self.quote(member, total)
        return points, self.hold(member, total, random.randint(1, points)) if points else None

    @task(2)
    def checkout_with_hold(self) -> None:
        if not self.claim(3):
            return
        member, total = pick_member(), cart_total()
        points, hold = self.quote_and_hold(member, total)
        if points and hold is None:  # refused: another request took the points; the customer pays in cash
            self.pay(member, total)
        elif hold is None:  # nothing to redeem yet: pay in cash, then look at the balance
            self.pay(member, total)
            self.view(member)
        else:
            self.pay(member, total, hold)

    @task(1)
    def abandoned_cart(self) -> None:
        if not self.claim(3):
            return
        member, total = pick_member(), cart_total()
        points, hold = self.quote_and_hold(member, total)
        if hold is not None:
            self.release(member, hold)
        else:
            self.view(member)
            if not points:
                self.history(member)

    @task(2)
    def quote_only(self) -> None:
        if self.claim(1):
            self.quote(pick_member(), cart_total())

    @task(3)
    def member_view(self) -> None:
        if self.claim(1):
            self.view(pick_member())

    @task(1)
    def history_page(self) -> None:
        if self.claim(1):
            self.history(pick_member())

    def history(self, member: str) -> None:
        self.call("GET history", "GET", f"/members/{member}/history?limit=25")

    @task(1)
    def replay(self) -> None:
        if not self.claim(1):
            return
        if not applied:
            self.pay(pick_member(), cart_total())
            return
        msg_id, body = random.choice(applied)
        self.call(
            "order.paid replay",
            "POST",
            "/webhooks/standard",
            raw=body,
            headers=signed_headers(SECRET, body, msg_id),
            valid=is_duplicate,
        )


def cart_total() -> int:
    """A cart of 100.00 to 5000.00 (minor units): every paid order earns points under the default 5 %."""
    return random.randrange(10_000, 500_001, 100)
