"""`make schedule` (issue 3 item 5): a scheduled job run against the local stack, its summary, and the mail and SMS
read back from the emulator.

The jobs run a year ahead and sweep every member of the emulator, so they get a stack of their own: on the
session's stack they would expire the other tests' points.
"""

from __future__ import annotations

import base64
import json
import signal
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scripts.localenv import free_port
from tests.conftest import paid_event
from tests.e2e.client import Api
from tests.e2e.stack import Stack, run_schedule, start_stack

pytestmark = pytest.mark.e2e

MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.fixture(scope="module")
def jobs_stack(e2e_dir: Path) -> Iterator[Stack]:
    """A local stack of this module's own, recording its requests on demand (moto's recorder)."""
    workdir = e2e_dir / "schedule"
    workdir.mkdir()
    recording = {"MOTO_RECORDER_FILEPATH": str(workdir / "moto-recording.jsonl")}
    running = start_stack(workdir, workdir / "tenant.json", extra_env=recording)
    try:
        yield running
    finally:
        assert running.stop(signal.SIGTERM) == 0, running.output()


def emulator(stack: Stack, path: str, method: str = "GET") -> bytes:
    with urllib.request.urlopen(urllib.request.Request(f"{stack.endpoint}{path}", method=method), timeout=30) as r:
        return bytes(r.read())


def sent(stack: Stack) -> dict[str, Any]:
    """What the emulator keeps of the mail and SMS sent (GET /moto-api/data.json, as the README shows)."""
    data = json.loads(emulator(stack, "/moto-api/data.json"))
    return {"email": data["ses"]["TemplateMessage"], "sms": data["sns"]["SMS"]}


def sms_sender_ids(stack: Stack) -> list[str]:
    """The SenderID attribute of every recorded SNS Publish to a phone (data.json does not keep it)."""
    found = []
    for line in emulator(stack, "/moto-api/recorder/download-recording").decode().splitlines():
        entry = json.loads(line)
        body = base64.b64decode(entry["body"]).decode() if entry["body_encoded"] else entry["body"] or ""
        params = dict(urllib.parse.parse_qsl(body))
        if params.get("Action") != "Publish" or "PhoneNumber" not in params:
            continue
        names = {k.rsplit(".", 1)[0]: v for k, v in params.items() if k.startswith("MessageAttributes.entry.")}
        for prefix, name in names.items():
            if name == "AWS.SNS.SMS.SenderID":
                found.append(params[f"{prefix}.Value.StringValue"])
    return found


def summary_totals(stdout: str) -> dict[str, Any]:
    """The JSON line that ends the printed summary."""
    return dict(json.loads(stdout.strip().splitlines()[-1]))


def test_reminder_then_expiry_through_make_schedule(jobs_stack: Stack) -> None:
    # Given the demo tenant of `make run`: reminders in Russian, from the verified sender, SMS from "Loyalty"
    api = Api(jobs_stack.api, jobs_stack.tenant)
    program = api.get("/program").body
    assert (program["language"], program["sms_sender_id"]) == ("ru", "Loyalty")
    assert program["staff_topic_arn"].endswith(":loyalty-staff-demo")
    assert "make schedule JOB=remind AT=" in jobs_stack.output()
    # And a customer with an e-mail and a phone who earns 50 points now through the signed webhook
    paid_at = datetime.now(UTC).replace(microsecond=0)
    customer = {"id": "olga", "email": "Olga@Example.com", "phone": "+79991234567", "name": "Ольга"}
    answer = api.webhook(paid_event("sch-1", "olga", 100_000, paid_at, customer=customer))
    assert (answer.status, answer.body["points_earned"]) == (200, 50), answer
    # (the points expire 365 days later; the 60-day stage fires at Moscow midnight 60 days before that date)
    expiry_day = (paid_at + timedelta(days=365)).astimezone(MOSCOW).date()
    remind_at = datetime.combine(expiry_day - timedelta(days=60), time(12, 0), MOSCOW)  # inside 09:00-21:00

    # When the reminder job runs at noon Moscow on the stage's day, its requests recorded
    emulator(jobs_stack, "/moto-api/recorder/start-recording", "POST")
    run = run_schedule(jobs_stack.endpoint, "remind", remind_at.isoformat())
    emulator(jobs_stack, "/moto-api/recorder/stop-recording", "POST")

    # Then the summary says one member got two messages
    assert run.returncode == 0, run.stdout + run.stderr
    assert "messages sent 2, failed 0" in run.stdout
    assert (summary_totals(run.stdout)["members"], summary_totals(run.stdout)["messages"]) == (1, 2)
    # And the emulator holds the Russian e-mail, from the verified sender, and the SMS in Russian
    [mail], [sms] = sent(jobs_stack).values()
    assert (mail["template"], mail["source"]) == ("loyalty-expiry-reminder-ru", "loyalty@example.com")
    assert mail["destinations"]["ToAddresses"] == ["olga@example.com"]
    data = json.loads(mail["template_data"])
    assert (data["name"], data["points_text"], data["date"]) == ("Ольга", "50 баллов", expiry_day.strftime("%d.%m.%Y"))
    assert sms["phone_number"] == "+79991234567" and "50 баллов" in sms["message"]
    # And the SMS went out with the tenant's sender id
    assert sms_sender_ids(jobs_stack) == ["Loyalty"]

    # When the expiry job runs the day after the points expire
    expire_at = datetime.combine(expiry_day + timedelta(days=1), time(0, 5), MOSCOW)
    run = run_schedule(jobs_stack.endpoint, "expire", expire_at.isoformat())

    # Then the summary shows the lot expired, and the member has nothing left
    assert run.returncode == 0, run.stdout + run.stderr
    assert "lots 1, points 50" in run.stdout
    member = api.member("olga")
    assert (member["balance"], member["available"], member["lots"]) == (0, 0, [])


def test_make_schedule_refuses_a_time_without_offset_and_a_stack_that_is_not_running() -> None:
    # Given no emulator listens at the endpoint
    nowhere = f"http://127.0.0.1:{free_port()}"
    # When a job is given a time without a UTC offset
    naive = run_schedule(nowhere, "expire", "2027-01-01T09:00:00")
    # Then nothing runs: a usage error that says what is missing
    assert (naive.returncode, naive.stdout) == (2, "")
    assert "no UTC offset" in naive.stderr
    # When a job is given a valid time
    refused = run_schedule(nowhere, "remind", "2027-01-01T09:00:00Z")
    # Then it fails clearly, asking for the local stack
    assert (refused.returncode, refused.stdout) == (1, "")
    assert "start it with `make run`" in refused.stderr
