"""The post-purchase boost's end reminder through the scheduled run (issue 5 item 5): e-mail and SMS, once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import make_tenant, paid_event
from tests.integration.conftest import Clock
from tests.integration.scheduled.conftest import Jobs
from tests.integration.scheduled.notify_support import email_data, emails, set_contact, sms
from tests.integration.scheduled.test_expiry_at_scale import dynamodb_calls  # noqa: F401  (a fixture)
from tests.integration.support import history, member
from tests.integration.test_order_flow import send

BOOST = {"days": 30, "multiplier_bp": 20_000, "discount_bp": 500, "reminder_days_before_end": 10}
PAID = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)  # 10:00 in Moscow: the boost ends 2027-03-31 10:00 Moscow
REMIND = datetime(2027, 3, 21, 7, 0, tzinfo=UTC)  # 10 days before its end
HALF_HOUR = timedelta(minutes=30)


def boosted(client: Any, frozen: Clock, paid_at: datetime, **contact: Any) -> Any:
    creds = make_tenant("salon", timezone="Europe/Moscow", post_purchase_boost=BOOST)
    set_contact(client, creds, "c1", name="Anna", **contact)
    frozen.now = paid_at
    send(client, creds, paid_event("o1", "c1", 100_000))
    return creds


def test_the_boost_end_is_reminded_by_email_and_sms_once_on_the_right_day(
    client: Any,
    jobs: Jobs,
    frozen: Clock,
    dynamodb_calls: Counter[str],  # noqa: F811  (the imported fixture)
) -> None:
    # Given a customer with e-mail and phone whose order started a 30-day boost with a reminder 10 days before its end
    creds = boosted(client, frozen, PAID, email="anna@example.com", phone="+79991234567")
    assert member(client, creds)["boost_until"] == "2027-03-31T07:00:00Z"
    dynamodb_calls.clear()
    # When the job runs the day before and half an hour before the reminder's time
    for moment in (REMIND - timedelta(days=1), REMIND - HALF_HOUR):
        # Then nobody is due
        assert jobs.run("boost-reminder", moment).totals.get("members", 0) == 0
    # When it runs half an hour after it
    summary = jobs.run("boost-reminder", REMIND + HALF_HOUR)
    # Then one e-mail and one SMS name the boost's end date
    assert (summary.totals["members"], summary.totals["messages"]) == (1, 2)
    [mail] = emails()
    assert mail.template == "loyalty-boost-ending-en" and mail.destinations["ToAddresses"] == ["anna@example.com"]
    assert email_data(mail) == {"name": "Anna", "merchant": "salon", "date": "2027-03-31"}
    [(phone, text)] = sms()
    assert phone == "+79991234567" and "2027-03-31" in text
    # And both messages are in the history
    notices = [e["details"] for e in history(client, creds) if e["kind"] == "notification"]
    assert sorted((n["topic"], n["channel"], n["status"], n["days_before"]) for n in notices) == [
        ("boost_ending", "email", "sent", 10),
        ("boost_ending", "sms", "sent", 10),
    ]
    # And reruns, later runs and the day the boost ends send nothing more
    for moment in (REMIND + HALF_HOUR, REMIND + timedelta(days=2), REMIND + timedelta(days=10, hours=1)):
        assert jobs.run("boost-reminder", moment).totals.get("messages", 0) == 0
    assert (len(emails()), len(sms())) == (1, 1)
    # And the member was found through the reminder index, never a Scan
    assert dynamodb_calls["scan"] == 0


def test_the_sms_waits_for_the_morning_and_the_email_goes_at_once(client: Any, jobs: Jobs, frozen: Clock) -> None:
    # Given a boost started at 23:00 Moscow, so its reminder falls at 23:00 Moscow too
    paid = datetime(2027, 3, 1, 20, 0, tzinfo=UTC)
    boosted(client, frozen, paid, email="anna@example.com", phone="+79991234567")
    remind = paid + timedelta(days=20)
    # When the job runs at 23:30 Moscow on the reminder's day
    night = jobs.run("boost-reminder", remind + HALF_HOUR)
    # Then the e-mail is sent and the SMS waits (quiet hours)
    assert (night.totals["messages"], len(emails()), len(sms())) == (1, 1, 0)
    assert jobs.run("boost-reminder", remind + 3 * HALF_HOUR).totals.get("messages", 0) == 0
    # When it runs at 09:30 Moscow the next morning
    morning = jobs.run("boost-reminder", datetime(2027, 3, 22, 6, 30, tzinfo=UTC))
    # Then the SMS goes, and the e-mail is not repeated
    assert (morning.totals["messages"], len(emails()), len(sms())) == (1, 1, 1)
    assert jobs.run("boost-reminder", datetime(2027, 3, 22, 7, 30, tzinfo=UTC)).totals.get("members", 0) == 0


def test_a_customer_without_consent_gets_no_message_and_is_not_due_again(
    client: Any, jobs: Jobs, frozen: Clock
) -> None:
    # Given a customer who refused e-mails and SMS
    boosted(
        client, frozen, PAID, email="anna@example.com", phone="+79991234567", consent={"email": False, "sms": False}
    )
    # When the reminder is due
    summary = jobs.run("boost-reminder", REMIND + HALF_HOUR)
    # Then nothing is sent, and the member is not due again
    assert (summary.totals["members"], summary.totals.get("messages", 0), summary.totals["skipped"]) == (1, 0, 2)
    assert (emails(), sms()) == ([], [])
    assert jobs.run("boost-reminder", REMIND + 3 * HALF_HOUR).totals.get("members", 0) == 0
