"""What a load run records while it runs: the request budget, every request's outcome, and what the answers
promised each member (the expected balance and open holds the invariant check compares against).

Plain Python, no locust: the locustfile drives it inside one gevent process (cooperative, so no locks).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Outcomes of one HTTP request
OK = "ok"  # the answer the scenario wanted
REFUSED = "refused"  # an expected business refusal (a concurrent hold took the points first): 4xx, not an error
RETRIED = "retried"  # 503 conflict_retry: contention on one member; the scenario sends it again, as a sender would
ERROR = "error"  # anything else: an unexpected status, a 5xx that did not settle, no answer at all


class Budget:
    """A fixed number of requests to hand out. A flow takes all the requests it will make before it starts,
    so the run makes exactly ``total`` planned requests (503 retries come on top and are counted apart)."""

    def __init__(self, total: int) -> None:
        if total < 1:
            raise ValueError("the request budget must be at least 1")
        self.total = total
        self.left = total
        self.done = 0

    def take(self, count: int) -> bool:
        if count > self.left:
            return False
        self.left -= count
        return True

    def finish(self, count: int = 1) -> None:
        self.done += count

    @property
    def exhausted(self) -> bool:
        return self.left == 0

    @property
    def complete(self) -> bool:
        """Every planned request has been sent and answered (or failed)."""
        return self.done >= self.total


@dataclass(frozen=True)
class Sample:
    name: str  # the request type, e.g. "order.paid" or "GET member"
    status: int  # HTTP status, 0 when no answer came
    code: str | None  # the error body's stable code, when there is one
    ms: float  # response time in milliseconds
    outcome: str  # OK, REFUSED, RETRIED or ERROR
    end: float  # time.time() when the answer came


@dataclass
class MemberExpectation:
    """What the API's answers say about one member: the balance their effects add up to, and the holds left open.
    ``certain`` turns False when a write got no answer (it may or may not have landed)."""

    earned: int = 0
    redeemed: int = 0
    open_holds: dict[str, int] = field(default_factory=dict)
    certain: bool = True

    @property
    def balance(self) -> int:
        return self.earned - self.redeemed

    @property
    def held(self) -> int:
        return sum(self.open_holds.values())


@dataclass
class Recorder:
    planned: int
    samples: list[Sample] = field(default_factory=list)
    members: dict[str, MemberExpectation] = field(default_factory=dict)
    started: float | None = None

    def member(self, member_id: str) -> MemberExpectation:
        return self.members.setdefault(member_id, MemberExpectation())

    def add(self, sample: Sample) -> None:
        self.samples.append(sample)

    def to_json(self) -> dict[str, Any]:
        return {
            "planned": self.planned,
            "started": self.started,
            "samples": [asdict(s) for s in self.samples],
            "members": {m: {**asdict(e), "balance": e.balance, "held": e.held} for m, e in self.members.items()},
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json()) + "\n")


def read_samples(data: dict[str, Any]) -> list[Sample]:
    return [Sample(**s) for s in data["samples"]]
