"""Reminder rules (issue 3 items 3-4): quiet hours per time zone, consent, language, failures, crashes, overlap."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from scripts.emulator_atomicity import serialize_dynamodb_writes
from shared.container import container
from shared.dal.ledger_store import DynamoLedgerStore
from shared.observability import logger
from shared.records import Profile
from tests.conftest import TenantCreds, make_tenant, paid_event
from tests.integration.conftest import Clock
from tests.integration.scheduled.conftest import SENDER, Jobs
from tests.integration.scheduled.notify_support import email_data, emails, notifications, set_contact, sms
from tests.integration.support import history
from tests.integration.test_order_flow import send

DAY, HOUR = timedelta(days=1), timedelta(hours=1)
EARNED = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)  # lots expire 365 days later: 2027-06-01 03:00 UTC


def customer(client: Any, creds: TenantCreds, member_id: str = "c1", **contact: Any) -> None:
    """A member with e-mail and phone (or what ``contact`` says) and 100 points earned at EARNED."""
    fields = {"email": f"{member_id}@example.com", "phone": "+79991234567", **contact}
    set_contact(client, creds, member_id, **fields)
    send(client, creds, paid_event(f"o-{member_id}", member_id, 200_000))


def test_sms_waits_for_09_to_21_in_each_tenants_zone_while_email_goes_at_once(
    client: Any, jobs: Jobs, frozen: Clock
) -> None:
    # Given a tenant in Vladivostok (UTC+10) and one in New York (UTC-4 in April), each with a member whose
    # points expire on 2027-06-01 local date, so the 60-day stage is due from early April
    frozen.now = EARNED
    vlad = make_tenant("vlad", timezone="Asia/Vladivostok")
    ny = make_tenant("ny", timezone="America/New_York")
    customer(client, vlad, "v1")
    customer(client, ny, "n1")
    # When one run happens at 02:00 UTC: 12:00 in Vladivostok, 22:00 (the day before) in New York
    run_at = datetime(2027, 4, 3, 2, 0, tzinfo=UTC)
    summary = jobs.run("remind", run_at)
    # Then both get their e-mail, but only the Vladivostok member gets the SMS now
    assert sorted(m.destinations["ToAddresses"][0] for m in emails()) == ["n1@example.com", "v1@example.com"]
    assert len(sms()) == 1 and summary.totals["messages"] == 3
    assert notifications(history(client, ny, "n1")) == [(60, "email", "sent")]
    # When the next runs happen before 09:00 New York time, still no SMS for New York
    jobs.run("remind", datetime(2027, 4, 3, 12, 0, tzinfo=UTC))  # 08:00 New York
    assert len(sms()) == 1
    # When the run at 13:00 UTC (09:00 New York, 23:00 Vladivostok) comes
    jobs.run("remind", datetime(2027, 4, 3, 13, 0, tzinfo=UTC))
    # Then New York's SMS goes out, and nothing is sent twice
    assert len(sms()) == 2 and len(emails()) == 2
    assert notifications(history(client, ny, "n1")) == [(60, "email", "sent"), (60, "sms", "sent")]


def test_a_channel_without_consent_is_not_used(client: Any, jobs: Jobs, frozen: Clock) -> None:
    # Given a member who withdrew SMS consent
    frozen.now = EARNED
    creds = make_tenant("shop", timezone="UTC")
    customer(client, creds, consent={"sms": False})
    # When the 60-day stage runs inside the SMS window
    summary = jobs.run("remind", datetime(2027, 4, 2, 10, 0, tzinfo=UTC))
    # Then only the e-mail is sent, and the SMS is counted as skipped, with no record to retry
    assert (len(emails()), len(sms())) == (1, 0)
    assert summary.totals["skipped"] >= 1
    assert notifications(history(client, creds)) == [(60, "email", "sent")]


def test_russian_tenants_get_the_russian_template(client: Any, jobs: Jobs, frozen: Clock) -> None:
    # Given a tenant whose language is Russian
    frozen.now = EARNED
    creds = make_tenant("salon", timezone="Europe/Moscow", language="ru")
    customer(client, creds, name="Анна")
    # When its 60-day stage runs
    jobs.run("remind", datetime(2027, 4, 2, 10, 0, tzinfo=UTC))
    # Then the Russian template gets the points in Russian and the date in Russian order
    [mail] = emails()
    assert mail.template == "loyalty-expiry-reminder-ru"
    assert email_data(mail)["points_text"] == "100 баллов" and email_data(mail)["date"] == "01.06.2027"
    [(_, text)] = sms()
    assert "100 баллов" in text and "01.06.2027" in text


def test_an_ses_failure_is_retried_on_the_next_run_until_it_succeeds(client: Any, jobs: Jobs, frozen: Clock) -> None:
    # Given SES refuses to send (the sender identity lost its verification)
    frozen.now = EARNED
    creds = make_tenant("shop", timezone="UTC")
    customer(client, creds)
    ses = boto3.client("ses", region_name="us-east-1")
    ses.delete_identity(Identity=SENDER)
    # When the stage runs: the e-mail fails, the SMS still goes (one failure does not stop the run)
    first = jobs.run("remind", datetime(2027, 4, 2, 10, 0, tzinfo=UTC))
    assert (first.totals["failed"], first.totals["messages"], len(emails()), len(sms())) == (1, 1, 0, 1)
    assert notifications(history(client, creds))[0] == (60, "email", "failed")
    # When SES works again and the next hourly run comes
    ses.verify_email_identity(EmailAddress=SENDER)
    second = jobs.run("remind", datetime(2027, 4, 2, 11, 0, tzinfo=UTC))
    # Then the e-mail is sent on its second attempt, and the SMS is not sent again
    assert (second.totals["messages"], len(emails()), len(sms())) == (1, 1, 1)
    [mail_entry] = [
        e for e in history(client, creds) if e["kind"] == "notification" and e["details"]["channel"] == "email"
    ]
    assert (mail_entry["details"]["status"], mail_entry["details"]["attempts"]) == ("sent", 2)
    # And a third run sends nothing
    assert jobs.run("remind", datetime(2027, 4, 2, 12, 0, tzinfo=UTC)).totals.get("messages", 0) == 0


def test_an_invalid_address_is_recorded_and_never_retried(client: Any, jobs: Jobs, frozen: Clock) -> None:
    # Given a member whose stored e-mail SES rejects as invalid (data from before validation existed)
    frozen.now = EARNED
    creds = make_tenant("shop", timezone="UTC")
    customer(client, creds)
    DynamoLedgerStore().save_profile(
        creds.tenant_id,
        Profile(member_id="c1", email="not-an-address", phone="+79991234567", name=None, birthday=None, consent={}),
    )
    # When the stage runs twice
    jobs.run("remind", datetime(2027, 4, 2, 10, 0, tzinfo=UTC))
    again = jobs.run("remind", datetime(2027, 4, 2, 11, 0, tzinfo=UTC))
    # Then the e-mail is recorded as invalid once and not tried again; the SMS went out
    [mail_entry] = [
        e for e in history(client, creds) if e["kind"] == "notification" and e["details"]["channel"] == "email"
    ]
    assert (mail_entry["details"]["status"], mail_entry["details"]["attempts"]) == ("invalid", 1)
    assert "InvalidParameterValue" in mail_entry["details"]["error"]
    assert again.totals.get("messages", 0) == 0 and len(sms()) == 1


class Crash(Exception):
    """The process dies between sending and recording the outcome."""


def test_a_crash_between_send_and_record_never_sends_twice(
    client: Any, jobs: Jobs, frozen: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a run that sends the e-mail and then dies before writing the outcome
    frozen.now = EARNED
    creds = make_tenant("shop", timezone="UTC")
    customer(client, creds, consent={"sms": False})
    notifier = container().sweeper.jobs["remind"].__self__.notifier  # type: ignore[attr-defined]
    send_email = notifier.email

    def send_then_die(*args: Any, **kwargs: Any) -> Any:
        send_email(*args, **kwargs)
        raise Crash()

    monkeypatch.setattr(notifier, "email", send_then_die)
    crashed = jobs.run("remind", datetime(2027, 4, 2, 10, 0, tzinfo=UTC))
    assert crashed.totals["errors"] == 1 and len(emails()) == 1
    monkeypatch.setattr(notifier, "email", send_email)
    # When the next runs come, within the claim's lease and after it
    jobs.run("remind", datetime(2027, 4, 2, 10, 5, tzinfo=UTC))
    jobs.run("remind", datetime(2027, 4, 2, 11, 0, tzinfo=UTC))
    jobs.run("remind", datetime(2027, 4, 2, 12, 0, tzinfo=UTC))
    # Then the e-mail is never sent again: its record says the outcome is unknown
    assert len(emails()) == 1
    assert notifications(history(client, creds)) == [(60, "email", "unknown")]


def test_two_overlapping_runs_send_each_message_once(client: Any, jobs: Jobs, frozen: Clock) -> None:
    # Given 20 members due for the 60-day stage, and DynamoDB requests applied atomically as on AWS
    serialize_dynamodb_writes()
    frozen.now = EARNED
    creds = make_tenant("shop", timezone="UTC")
    for n in range(20):
        customer(client, creds, f"m{n}")
    # When two runs of the same stage overlap in two threads
    at = datetime(2027, 4, 2, 10, 0, tzinfo=UTC)
    runs = [threading.Thread(target=jobs.run, args=("remind", at)) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    # Then every member got exactly one e-mail and one SMS
    assert sorted(m.destinations["ToAddresses"][0] for m in emails()) == sorted(f"m{n}@example.com" for n in range(20))
    assert len(sms()) == 20


def test_each_message_is_logged_without_the_address(
    client: Any, jobs: Jobs, frozen: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a member with e-mail and phone, and one whose stored phone SNS rejects
    frozen.now = EARNED
    creds = make_tenant("shop", timezone="UTC")
    customer(client, creds, "c1")
    customer(client, creds, "c2", phone="+15550100")
    DynamoLedgerStore().save_profile(
        creds.tenant_id,
        Profile(member_id="c2", email="c2@example.com", phone="12ab", name=None, birthday=None, consent={}),
    )
    caplog.clear()
    # When the stage runs
    jobs.run("remind", datetime(2027, 4, 2, 10, 0, tzinfo=UTC))
    # Then each message has a JSON log line (as Powertools writes it) with member, stage, channel, outcome and cost
    lines = [json.loads(logger.registered_formatter.format(record)) for record in caplog.records]
    logged = sorted((r["member_id"], r["channel"], r["outcome"]) for r in lines if r.get("message") == "reminder")
    assert logged == [("c1", "email", "sent"), ("c1", "sms", "sent"), ("c2", "email", "sent"), ("c2", "sms", "invalid")]
    for r in (r for r in lines if r.get("message") == "reminder"):
        assert r["stage_days"] == 60 and "cost_usd_micros" in r
        assert r["message_id"] if r["outcome"] == "sent" else r["error"].startswith("InvalidParameter")
    # And no line carries an address or a phone number
    text = json.dumps(lines)
    assert "@example.com" not in text and "79991234567" not in text and "12ab" not in text
