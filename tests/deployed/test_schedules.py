"""The scheduled jobs as AWS runs them (issue 12): the deployed starter invoked with its EventBridge event, its 64
shard tasks carried by SQS to the deployed worker through the event source mapping, the effects read back through
API Gateway, the emulator's SES and SNS, and the tenant's staff topic. One schedule, release-holds, also fires by
itself from its EventBridge rule, switched to every minute for the test.

The jobs run at instants up to a year ahead and sweep every member of the stack (the expiry run takes the other
tests' points too); each test has members of its own tenant, made fresh so that no Lambda has cached it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scripts.deploy_local import DeployedStack, client
from shared.clock import iso
from tests.conftest import paid_event
from tests.deployed.stack import (
    SWEEP_TASKS,
    account_item,
    create_tenant,
    emails_to,
    eventually,
    log_records,
    put,
    run_job,
    sms_to,
    staff_inbox,
    take_messages,
    templates_of,
)
from tests.e2e.client import Api

MOSCOW = ZoneInfo("Europe/Moscow")
SENDER = "loyalty@example.com"  # deploy() verifies it; the platform's sender when a tenant has none
FAST_RATE = "rate(1 minute)"


def at_moscow(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, clock_time(hour, minute), MOSCOW).astimezone(UTC)


def earn_now(api: Api, order_id: str, member_id: str, **customer: str) -> date:
    """50 points paid now (contact data in the webhook's customer); the Moscow date the points expire on."""
    paid_at = datetime.now(UTC).replace(microsecond=0)
    answer = api.webhook(paid_event(order_id, member_id, 100_000, paid_at, customer={"id": member_id, **customer}))
    assert (answer.status, answer.body["points_earned"]) == (200, 50), answer
    return (paid_at + timedelta(days=365)).astimezone(MOSCOW).date()


def notifications(api: Api, member_id: str) -> list[tuple[int, str, str]]:
    """(days_before, channel, status) of the member's notification entries, oldest first."""
    entries = [e for page in api.history(member_id) for e in page if e["kind"] == "notification"]
    return sorted((e["details"]["days_before"], e["details"]["channel"], e["details"]["status"]) for e in entries)[::-1]


def started(answer: dict[str, Any], job: str, at: datetime) -> None:
    assert answer == {"job": job, "now": iso(at), "tasks": SWEEP_TASKS}


# -- the hold that lapses while the module runs ---------------------------------------------------------------------


@dataclass(frozen=True)
class LapsingHold:
    api: Api
    member_id: str


@pytest.fixture(scope="module", autouse=True)
def lapsing_hold(deployed: DeployedStack) -> LapsingHold:
    """A hold with the shortest TTL (1 minute), placed when the module starts: it lapses while the other jobs run."""
    creds = create_tenant(deployed, "sched-holds", "--currency", "RUB", "--hold-ttl-minutes", "1")
    api = Api(deployed.api_url, creds)
    assert api.webhook(paid_event("sh-1", "hana", 100_000)).status == 200
    hold = api.post("/holds", {"member_id": "hana", "order_id": "sh-2", "points": 20})
    assert hold.status == 201, hold
    return LapsingHold(api, "hana")


def release_holds_rule(stack: DeployedStack) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The one EventBridge rule whose target is the ReleaseHolds function, and its targets."""
    events = client("events", stack.endpoint)
    function = stack.functions["ReleaseHolds"]
    found = []
    for rule in events.list_rules()["Rules"]:
        targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        if any(t["Arn"].endswith(f":function:{function}") for t in targets):
            found.append((rule, targets))
    assert len(found) == 1, found
    return found[0]


@contextmanager
def schedule_changed(stack: DeployedStack, rule: dict[str, Any], expression: str) -> Iterator[None]:
    """Only the rule's ScheduleExpression changed (PutRule keeps its targets and the function's permission), and set
    back to the template's at the end."""
    events = client("events", stack.endpoint)
    events.put_rule(Name=rule["Name"], ScheduleExpression=expression, State=rule["State"])
    try:
        yield
    finally:
        events.put_rule(Name=rule["Name"], ScheduleExpression=rule["ScheduleExpression"], State=rule["State"])


# -- the tests -------------------------------------------------------------------------------------------------------


def test_expiry_reminders_mail_and_text_at_60_days_then_ask_the_staff_to_call_at_45(deployed: DeployedStack) -> None:
    # Given a Moscow tenant writing in Russian, with an SMS sender id and its managers' topic
    topic, inbox = staff_inbox(deployed, "sched-ru")
    options = ["--language", "ru", "--sms-sender-id", "Loyalty", "--staff-topic-arn", topic]
    creds = create_tenant(deployed, "sched-ru", "--currency", "RUB", "--timezone", "Europe/Moscow", *options)
    api = Api(deployed.api_url, creds)
    # And a customer whose contact data came with her paid order: 50 points
    contact = {"email": "Olga@Example.com", "phone": "+79990000601", "name": "Ольга"}
    expiry_day = earn_now(api, "sr-1", "olga", **contact)
    shown_date = expiry_day.strftime("%d.%m.%Y")

    # When the reminder job runs at noon Moscow on the 60-day stage's day (inside the SMS hours)
    at = at_moscow(expiry_day - timedelta(days=60), 12)
    started(run_job(deployed, "remind", at), "remind", at)

    # Then SES sent her one e-mail with the Russian expiry template, from the platform's sender
    [mail] = emails_to(deployed, "olga@example.com")
    assert templates_of(deployed, mail) == ["loyalty-dev-expiry-reminder-ru"]
    assert (mail["Source"], mail["To"]) == (SENDER, ["olga@example.com"])
    assert "50 баллов" in mail["Subject"] and shown_date in mail["Subject"]
    # And SNS one SMS in Russian from the tenant's sender id
    [sms] = sms_to(deployed, "+79990000601")
    assert "50 баллов" in sms["Message"] and shown_date in sms["Message"]
    assert sms["MessageAttributes"]["AWS.SNS.SMS.SenderID"]["StringValue"] == "Loyalty"
    # And no call task yet
    assert take_messages(deployed, inbox) == []

    # When the job runs on the 45-day stage's day
    at = at_moscow(expiry_day - timedelta(days=45), 12)
    started(run_job(deployed, "remind", at), "remind", at)

    # Then the managers' topic got one call task about her 50 points, with her name and phone
    [task] = [json.loads(m["Body"]) for m in take_messages(deployed, inbox)]
    assert task == {
        "task": "call_customer",
        "tenant_id": "sched-ru",
        "member_id": "olga",
        "name": "Ольга",
        "phone": "+79990000601",
        "points": 50,
        "expiry_date": expiry_day.isoformat(),
    }
    # And nothing else was sent to her, and her history shows each message sent
    assert (len(emails_to(deployed, "olga@example.com")), len(sms_to(deployed, "+79990000601"))) == (1, 1)
    assert notifications(api, "olga") == [(60, "sms", "sent"), (60, "email", "sent"), (45, "staff_call", "sent")]


def test_expiry_writes_an_expire_entry_once_the_points_are_due(deployed: DeployedStack) -> None:
    # Given a customer with 50 points earned now
    creds = create_tenant(deployed, "sched-exp", "--currency", "RUB", "--timezone", "Europe/Moscow")
    api = Api(deployed.api_url, creds)
    expiry_day = earn_now(api, "se-1", "ivan")
    [lot] = api.member("ivan")["lots"]

    # When the expiry job runs the day before they expire, nothing happens to them
    at = at_moscow(expiry_day - timedelta(days=1), 0, 5)
    started(run_job(deployed, "expire", at), "expire", at)
    assert api.member("ivan")["balance"] == 50

    # When it runs at 00:05 Moscow the day after they expire
    at = at_moscow(expiry_day + timedelta(days=1), 0, 5)
    started(run_job(deployed, "expire", at), "expire", at)

    # Then the member has nothing left, and the newest history entry expired the lot at the run's time
    view = api.member("ivan")
    assert (view["balance"], view["available"], view["lots"]) == (0, 0, [])
    [newest, earned] = api.history("ivan")[0]
    assert (newest["kind"], newest["delta"], newest["balance_after"], newest["reference"]) == (
        "expire",
        -50,
        0,
        "expiry",
    )
    assert newest["created_at"] == iso(at)
    assert newest["lots"] == [{"lot_id": lot["lot_id"], "change": -50, "expires_at": lot["expires_at"]}]
    assert earned["kind"] == "earn"


def next_birthday() -> date:
    """A month-day about a hundred days from now (never 29 February), in the year it next comes."""
    day = datetime.now(UTC).date() + timedelta(days=100)
    return day + timedelta(days=1) if (day.month, day.day) == (2, 29) else day


def test_birthday_bonus_is_granted_on_the_local_birthday_with_an_email(deployed: DeployedStack) -> None:
    # Given a Moscow tenant with a birthday bonus of 500 points for 30 days, set through the API (`ops.py
    # create-tenant --birthday-bonus '{"points": 500, ...}'` rejects the JSON object: its options parse lists only)
    creds = create_tenant(deployed, "sched-bday", "--currency", "RUB", "--timezone", "Europe/Moscow")
    api = Api(deployed.api_url, creds)
    bonus = {"points": 500, "lifetime_days": 30}
    program = put(api, "/program", {"birthday_bonus": bonus})
    assert (program.status, program.body["birthday_bonus"]) == (200, bonus), program
    # And a member born on a day about a hundred days from now, with an e-mail address
    birthday = next_birthday()
    contact = {"email": "boris@example.com", "name": "Boris", "birthday": f"1990-{birthday:%m-%d}"}
    assert put(api, "/members/boris", contact).status == 200

    # When the job runs at 00:30 Moscow on that day
    at = at_moscow(birthday, 0, 30)
    started(run_job(deployed, "birthday-bonus", at), "birthday-bonus", at)

    # Then the member has 500 points in a lot of source "birthday" that lasts 30 days
    view = api.member("boris")
    assert view["balance"] == 500
    assert [(lot["source"], lot["points"], lot["expires_at"]) for lot in view["lots"]] == [
        ("birthday", 500, iso(at + timedelta(days=30)))
    ]
    # And the history shows the grant and its e-mail
    [mail_entry, grant] = api.history("boris")[0]
    assert (grant["kind"], grant["delta"], grant["reference"]) == ("grant", 500, "birthday")
    assert (mail_entry["kind"], mail_entry["details"]["topic"], mail_entry["details"]["status"]) == (
        "notification",
        "birthday",
        "sent",
    )
    # And SES sent the English birthday e-mail
    [mail] = emails_to(deployed, "boris@example.com")
    assert templates_of(deployed, mail) == ["loyalty-dev-birthday-bonus-en"]
    assert "500" in mail["Subject"] + mail["BodyText"]


def test_release_holds_fires_by_itself_from_its_eventbridge_rule(
    deployed: DeployedStack, lapsing_hold: LapsingHold
) -> None:
    api, member_id = lapsing_hold.api, lapsing_hold.member_id
    # Given the template's release-holds rule (every 15 minutes) and the function's permission for it
    rule, targets = release_holds_rule(deployed)
    assert rule["ScheduleExpression"] == "rate(15 minutes)"
    policy = client("lambda", deployed.endpoint).get_policy(FunctionName=deployed.functions["ReleaseHolds"])
    statements = json.loads(policy["Policy"])["Statement"]
    invokers = [s.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn") for s in statements]
    assert rule["Arn"] in invokers, policy
    # And the module's hold past its TTL (the view stops counting it at once), still on the account: no run since
    eventually(lambda: api.member(member_id)["held"] == 0, timeout=90, every=1, what="the hold's TTL")
    assert account_item(deployed, api.creds.tenant_id, member_id)["holds"]["L"]

    # When the rule is set to fire every minute
    since_ms = int(time.time() * 1000)
    with schedule_changed(deployed, rule, FAST_RATE):
        changed, still = release_holds_rule(deployed)
        assert (changed["Arn"], changed["State"], changed["ScheduleExpression"], still) == (
            rule["Arn"],
            "ENABLED",
            FAST_RATE,
            targets,
        )

        # Then EventBridge invokes the ReleaseHolds function on the wall clock: a run of its own, 64 tasks
        def fired() -> list[dict[str, Any]]:
            found = log_records(deployed, "ReleaseHolds", since_ms)
            return [r for r in found if r.get("message") == "run started" and r.get("job") == "release-holds"]

        [first, *_] = eventually(fired, timeout=100, every=1, what="a release-holds run fired by EventBridge")
        assert first["tasks"] == SWEEP_TASKS
        assert abs(datetime.fromisoformat(first["now"]) - datetime.now(UTC)) < timedelta(minutes=2)

        # And the worker drops the lapsed hold from the account
        def released() -> bool:
            item = account_item(deployed, api.creds.tenant_id, member_id)
            return not item["holds"]["L"] and "hold_expiry" not in item

        eventually(released, timeout=60, every=1, what="the lapsed hold's release")
    view = api.member(member_id)
    assert view["held"] == 0 and view["available"] == view["balance"]
