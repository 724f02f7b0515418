"""The expiry reminder ladder through the scheduled run (issue 3 item 3): stages, channels, history, once only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import make_tenant, paid_event
from tests.integration.conftest import Clock
from tests.integration.scheduled.conftest import Jobs
from tests.integration.scheduled.notify_support import (
    email_data,
    emails,
    notifications,
    set_contact,
    sms,
    sms_calls,
    staff_tasks,
    staff_topic,
)
from tests.integration.support import history, ledger_items
from tests.integration.test_order_flow import send

# Points earned 2026-03-01 10:00 Moscow expire 2027-03-01 10:00 Moscow (365 days).
EARNED = datetime(2026, 3, 1, 7, 0, tzinfo=UTC)
STAGE_60 = datetime(2026, 12, 30, 21, 0, tzinfo=UTC)  # 2026-12-31 00:00 Moscow
STAGE_45 = datetime(2027, 1, 14, 21, 0, tzinfo=UTC)  # 2027-01-15 00:00 Moscow
HOUR = timedelta(hours=1)


def test_default_ladder_mails_and_texts_at_60_days_then_asks_staff_to_call_about_what_is_left(
    client: Any, jobs: Jobs, frozen: Clock
) -> None:
    # Given a Moscow tenant with the default ladder, its managers' topic and SMS sender id
    topic, inbox = staff_topic("loyalty-staff-salon")
    creds = make_tenant("salon", timezone="Europe/Moscow", staff_topic_arn=topic, sms_sender_id="Salon")
    # And a customer with e-mail and phone who earned 100 points on 2026-03-01
    frozen.now = EARNED
    set_contact(client, creds, "c1", email="anna@example.com", phone="+79991234567", name="Anna")
    send(client, creds, paid_event("o1", "c1", 200_000))
    # When the reminder job runs an hour before the 60-day stage, nothing is sent
    assert jobs.run("remind", STAGE_60 - HOUR).totals.get("messages", 0) == 0
    # When it runs at 10:00 Moscow on the stage's day
    with sms_calls() as texts:
        summary = jobs.run("remind", STAGE_60 + 10 * HOUR)
    # Then one e-mail (English template by default) and one SMS from the tenant's sender id name the points and date
    assert (summary.totals["members"], summary.totals["messages"]) == (1, 2)
    [mail] = emails()
    assert mail.template == "loyalty-expiry-reminder-en" and mail.destinations["ToAddresses"] == ["anna@example.com"]
    assert email_data(mail) | {"name": "Anna"} == {
        "name": "Anna",
        "points": "100",
        "points_text": "100 points",
        "date": "2027-03-01",
        "merchant": "salon",
    }
    [(phone, text)] = sms()
    assert phone == "+79991234567" and "100" in text and "2027-03-01" in text
    assert texts[0]["MessageAttributes"]["AWS.SNS.SMS.SenderID"]["StringValue"] == "Salon"
    assert staff_tasks(inbox) == []
    # Given the customer spends 30 of those points before the 45-day stage
    frozen.now = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
    send(client, creds, paid_event("o2", "c1", 100_000, points_redeemed=30))
    # When the job runs on the 45-day stage's day
    summary = jobs.run("remind", STAGE_45 + 10 * HOUR)
    # Then the managers get one call task about the 70 points still unspent, with name and phone
    assert summary.totals["messages"] == 1
    [task] = staff_tasks(inbox)
    assert task == {
        "task": "call_customer",
        "tenant_id": "salon",
        "member_id": "c1",
        "name": "Anna",
        "phone": "+79991234567",
        "points": 70,
        "expiry_date": "2027-03-01",
    }
    # And the history shows each message as a notification entry
    assert notifications(history(client, creds)) == [
        (60, "email", "sent"),
        (60, "sms", "sent"),
        (45, "staff_call", "sent"),
    ]
    # And rerunning both stages sends nothing and writes nothing
    before = ledger_items()
    jobs.run("remind", STAGE_60 + 10 * HOUR)
    jobs.run("remind", STAGE_45 + 10 * HOUR)
    assert (len(emails()), len(sms()), staff_tasks(inbox)) == (1, 1, [])
    assert ledger_items() == before
