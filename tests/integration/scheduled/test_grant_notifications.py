"""A bulk grant's messages (issue 5 item 7): once per member and channel, with consent and SMS hours, in history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.conftest import make_tenant, paid_event
from tests.integration.conftest import Clock
from tests.integration.scheduled.conftest import Jobs
from tests.integration.scheduled.grant_support import (
    counters,
    create_grant,
    grant_body,
    progress,
    put_messages,
    take_messages,
)
from tests.integration.scheduled.notify_support import email_data, emails, set_contact, sms
from tests.integration.support import history
from tests.integration.test_order_flow import send

NOON = datetime(2026, 12, 24, 12, 0, tzinfo=UTC)


def _shop(client: Any) -> Any:
    shop = make_tenant("shop")
    set_contact(client, shop, "c1", email="anna@example.com", phone="+14155550123", name="Anna")
    set_contact(client, shop, "c2", email="bo@example.com", consent={"email": False})
    for n in (1, 2):
        send(client, shop, paid_event(f"o{n}", f"c{n}", 100_000))
    return shop


def test_a_grant_mails_and_texts_each_member_once_with_consent_and_shows_it_in_history(
    client: Any, jobs: Jobs, frozen: Clock
) -> None:
    # Given a member with e-mail and phone and one who refused e-mail, at noon tenant time
    frozen.now = NOON
    shop = _shop(client)
    # When a grant with e-mail and SMS runs, and its tasks are delivered twice
    create_grant(client, shop, grant_body("g1", notify=["email", "sms"], expires_at="2027-01-10T12:00:00Z",
                                          lifetime_days=None))  # fmt: skip
    tasks = take_messages(jobs.queue_url)
    put_messages(jobs.queue_url, tasks + tasks)
    jobs.drain()
    # Then the first member got one e-mail of the grant template and one SMS; the other got nothing
    assert counters(progress(client, shop)) == ("done", 2, 2, 0, 0, 1)
    [mail] = emails()
    assert mail.template == "loyalty-grant-en" and mail.destinations["ToAddresses"] == ["anna@example.com"]
    assert email_data(mail) == {
        "name": "Anna",
        "points": "50",
        "points_text": "50 points",
        "reason": "Happy holidays",
        "date": "2027-01-10",
        "merchant": "shop",
    }
    [(phone, text)] = sms()
    assert phone == "+14155550123" and "50" in text and "2027-01-10" in text
    # And both messages are in the member's history next to the grant entry
    entries = history(client, shop, "c1")
    sent = {(e["details"]["channel"], e["details"]["status"]) for e in entries if e["kind"] == "notification"}
    assert sent == {("email", "sent"), ("sms", "sent")}
    assert {e["reference"] for e in entries if e["kind"] == "notification"} == {"grant:g1"}
    assert [e["kind"] for e in history(client, shop, "c2")] == ["grant", "earn"]


def test_no_sms_at_night_the_email_still_goes(client: Any, jobs: Jobs, frozen: Clock) -> None:
    # Given a grant that runs at 23:00 tenant time
    frozen.now = NOON.replace(hour=23)
    shop = _shop(client)
    create_grant(client, shop, grant_body("late", notify=["email", "sms"]))
    jobs.drain()
    # Then the e-mail is sent, the SMS is not (recorded as skipped, never sent later)
    assert len(emails()) == 1 and sms() == []
    found = {e["details"]["channel"]: e["details"] for e in history(client, shop, "c1") if e["kind"] == "notification"}
    assert (found["email"]["status"], found["sms"]["status"]) == ("sent", "skipped")
    assert "SMS window" in found["sms"]["error"]
