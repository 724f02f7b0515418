"""The reminder ladder's cost per member (issue 6's cost model, part of `make bench`).

A tenant with the default ladder (60 days: e-mail + SMS; 45 days: staff call) and ``MEMBERS`` members, each with one
lot and an e-mail address, a phone and consent, runs the ``remind`` job on both stage days through the scheduled
function and the SQS worker, against ministack's DynamoDB, SQS, SES and SNS. Every DynamoDB request of the two runs
is counted with its capacity, so ``scripts/cost_model.py`` can price a reminder from measured figures, not guesses.
Seeding is not counted.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from scripts.bench_expiry import READS, WRITES

MEMBERS = 500
TENANT = "remind-bench"
EARNED = datetime(2026, 3, 1, 7, 0, tzinfo=UTC)  # lots expire 365 days later, 2027-03-01 (UTC tenant)
# 10:00 UTC on each stage's day: inside the SMS window, so every message of the stage goes out in one run
STAGES = {60: datetime(2026, 12, 31, 10, 0, tzinfo=UTC), 45: datetime(2027, 1, 15, 10, 0, tzinfo=UTC)}


@dataclass
class StageRun:
    days_before: int
    members: int
    messages: int
    seconds: float
    requests: dict[str, int]
    table_wcu: float
    index_wcu: float
    rcu: float

    def per_member(self) -> dict[str, float]:
        writes = sum(n for api, n in self.requests.items() if api in WRITES)
        reads = sum(n for api, n in self.requests.items() if api in READS)
        return {
            "write_requests": round(writes / self.members, 3),
            "read_requests": round(reads / self.members, 3),
            "write_units": round((self.table_wcu + self.index_wcu) / self.members, 3),
            "read_units": round(self.rcu / self.members, 3),
            "messages": round(self.messages / self.members, 3),
        }


def seed(staff_topic_arn: str) -> None:
    """The tenant and its members with contact data, written as the order path writes them (not measured)."""
    from shared.account import Account
    from shared.container import container
    from shared.dal.ledger_store import DynamoLedgerStore
    from shared.ledger import Credit, credit
    from shared.program import ProgramSettings
    from shared.records import Commit, Profile
    from shared.services.store import bumped

    program = ProgramSettings(
        currency="USD", timezone="UTC", lifetime_days=365, staff_topic_arn=staff_topic_arn, sms_sender_id="Bench"
    )
    container().tenants.create(TENANT, program, EARNED - timedelta(days=1))
    store = DynamoLedgerStore()
    expires = EARNED + timedelta(days=365)

    def member(n: int) -> None:
        ledger, _ = credit(Account.new(f"m{n}").ledger, "earn", [Credit(100, "order", EARNED, expires)], EARNED)
        account = Account(ledger=ledger)
        profile = Profile(member_id=f"m{n}", email=f"m{n}@example.com", phone=f"+1202555{n:04d}", name=f"Member {n}")
        store.commit(
            TENANT,
            Commit(
                member_id=account.member_id,
                account=bumped(account, program, EARNED),
                expected_version=0,
                entries=(),
                profile=profile,
            ),
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(member, range(MEMBERS)))


def run_stage(days: int, recorder: Any, sqs: Any, queue_url: str) -> StageRun:
    from app import app
    from scripts.scheduler import FixedBudget, run_job

    context: Callable[[], Any] = lambda: FixedBudget(900, time.monotonic)  # noqa: E731
    with recorder.recording() as calls:
        started = time.perf_counter()
        summary = run_job("remind", STAGES[days], app.handler_map, sqs, queue_url, context)
        seconds = time.perf_counter() - started
    totals = summary.totals
    expected = 2 if days == 60 else 1
    # members of the bench's other tenants may be due too (the index is shared): count what was swept
    if totals.get("messages") != MEMBERS * expected or totals.get("errors", 0) or totals["members"] < MEMBERS:
        raise RuntimeError(f"the {days}-day reminders did not all go out: {summary.lines()}")
    return StageRun(
        days,
        totals["members"],
        totals["messages"],
        round(seconds, 2),
        dict(Counter(c.api for c in calls)),
        sum(c.table_units for c in calls if c.api in WRITES),
        sum(c.index_units for c in calls if c.api in WRITES),
        sum(c.read_units for c in calls if c.api in READS),
    )


def run_reminder_bench(recorder: Any, sqs: Any, queue_url: str, sns: Any) -> list[StageRun]:
    from shared.settings import get_settings

    # the tenant's own topic: <stack>-staff-<tenant id>, the only name the operator may bind to it
    staff_topic = sns.create_topic(Name=f"{get_settings().staff_topic_prefix}{TENANT}")["TopicArn"]
    seed(staff_topic)
    return [run_stage(days, recorder, sqs, queue_url) for days in sorted(STAGES, reverse=True)]


def report(runs: list[StageRun]) -> dict[str, Any]:
    print(f"\nReminder ladder (default 60/45 days, {MEMBERS} members with e-mail, phone and consent; ministack):")
    print(
        f"  {'stage':>5} {'messages':>8} {'seconds':>7} {'writes/member':>13} {'reads/member':>12} {'WCU/member':>10}"
    )
    for r in runs:
        p = r.per_member()
        print(
            f"  {r.days_before:>5} {r.messages:>8} {r.seconds:>7.2f} {p['write_requests']:>13g} "
            f"{p['read_requests']:>12g} {p['write_units']:>10g}   requests: {dict(sorted(r.requests.items()))}"
        )
    return {"members": MEMBERS, "stages": [{**asdict(r), "per_member": r.per_member()} for r in runs]}
