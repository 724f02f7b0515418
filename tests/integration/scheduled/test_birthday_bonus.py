"""The birthday bonus through the scheduled run (issue 5 item 6): tenant-local day, once a year, e-mail, history."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import make_tenant
from tests.integration.scheduled.conftest import Jobs
from tests.integration.scheduled.notify_support import email_data, emails, set_contact
from tests.integration.scheduled.test_expiry_at_scale import dynamodb_calls  # noqa: F401  (a fixture)
from tests.integration.support import history, ledger_items, member

BONUS = {"points": 500, "lifetime_days": 30}
HOUR = timedelta(hours=1)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_two_tenants_in_different_zones_grant_on_their_own_local_birthday_with_an_email_in_the_history(
    client: Any,
    jobs: Jobs,
    dynamodb_calls: Counter[str],  # noqa: F811  (the imported fixture)
) -> None:
    # Given a Vladivostok tenant (UTC+10, Russian) and a New York one (UTC-4 in June), each with a birthday bonus
    vlad = make_tenant("vlad", timezone="Asia/Vladivostok", language="ru", birthday_bonus=BONUS)
    ny = make_tenant("ny", timezone="America/New_York", birthday_bonus=BONUS)
    # And in each a customer born on 15 June
    set_contact(client, vlad, "c1", email="ivan@example.com", name="Иван", birthday="1990-06-15")
    set_contact(client, ny, "c1", email="john@example.com", name="John", birthday="1990-06-15")
    dynamodb_calls.clear()
    # When the job runs at 14:30 UTC on 14 June: 00:30 on the 15th in Vladivostok, 10:30 on the 14th in New York
    first = jobs.run("birthday-bonus", at(2027, 6, 14, 14, 30))
    # Then only the Vladivostok customer gets 500 points and one Russian e-mail
    assert (first.totals["changed"], first.totals["points"], first.totals["messages"]) == (1, 500, 1)
    [mail] = emails()
    assert mail.template == "loyalty-birthday-bonus-ru" and mail.destinations["ToAddresses"] == ["ivan@example.com"]
    assert email_data(mail) == {
        "name": "Иван",
        "merchant": "vlad",
        "points": "500",
        "points_text": "500 баллов",
        "date": "15.07.2027",  # the lot's end, in Vladivostok
    }
    assert member(client, ny)["balance"] == 0
    # And the points are a lot of source "birthday" with the bonus's lifetime
    view = member(client, vlad)
    assert view["balance"] == 500
    assert [(lot["source"], lot["points"], lot["expires_at"]) for lot in view["lots"]] == [
        ("birthday", 500, "2027-07-14T14:30:00Z")
    ]
    # And the history shows the grant and its e-mail
    [mail_entry, grant] = history(client, vlad)
    assert (grant["kind"], grant["reference"], grant["entry"], grant["delta"]) == (
        "grant",
        "birthday",
        "M#c1/BIRTHDAY#2027",
        500,
    )
    assert grant["details"]["rule"] == "birthday"
    assert (mail_entry["reference"], mail_entry["details"]["topic"], mail_entry["details"]["status"]) == (
        "birthday",
        "birthday",
        "sent",
    )
    # When the job runs at 04:30 UTC on the 15th: 00:30 in New York, 14:30 in Vladivostok
    second = jobs.run("birthday-bonus", at(2027, 6, 15, 4, 30))
    # Then the New York customer gets theirs in English, and the Vladivostok one nothing more
    assert (second.totals["changed"], second.totals["points"], second.totals["messages"]) == (1, 500, 1)
    assert [m.template for m in emails()] == ["loyalty-birthday-bonus-ru", "loyalty-birthday-bonus-en"]
    assert (member(client, vlad)["balance"], member(client, ny)["balance"]) == (500, 500)
    # And the members were found through the birthday index, never a Scan
    assert dynamodb_calls["scan"] == 0


def test_reruns_and_overlapping_runs_grant_once_and_mail_once(client: Any, jobs: Jobs) -> None:
    # Given three customers of a UTC tenant born on 1 March
    creds = make_tenant("shop", birthday_bonus=BONUS)
    for n in range(3):
        set_contact(client, creds, f"c{n}", email=f"c{n}@example.com", birthday="1985-03-01")
    # When the same scheduled event runs twice at the same moment, in two threads sharing the sweep queue
    start = threading.Barrier(2)

    def run() -> Any:
        start.wait(timeout=10)
        return jobs.run("birthday-bonus", at(2027, 3, 1, 9, 20))

    with ThreadPoolExecutor(2) as pool:
        summaries = [f.result() for f in [pool.submit(run) for _ in range(2)]]
    # Then between them each customer got 500 points once and one e-mail
    assert sum(s.totals.get("points", 0) for s in summaries) == 1500
    assert sum(s.totals.get("errors", 0) for s in summaries) == 0
    assert sorted(m.destinations["ToAddresses"][0] for m in emails()) == [f"c{n}@example.com" for n in range(3)]
    assert [member(client, creds, f"c{n}")["balance"] for n in range(3)] == [500, 500, 500]
    # When the job runs again every hour of that day and the next
    before = ledger_items()
    for hour in range(1, 40, 7):
        rerun = jobs.run("birthday-bonus", at(2027, 3, 1, 9, 20) + hour * HOUR)
        assert (rerun.totals.get("points", 0), rerun.totals.get("messages", 0)) == (0, 0)
    # Then nothing more is granted, sent or written
    assert len(emails()) == 3
    assert ledger_items() == before
    # And a year later the bonus comes again, once
    assert jobs.run("birthday-bonus", at(2028, 3, 1, 9, 20)).totals["points"] == 1500
    assert [e["entry"] for e in history(client, creds, "c0") if e["kind"] == "grant"] == [
        "M#c0/BIRTHDAY#2028",
        "M#c0/BIRTHDAY#2027",
    ]


def test_nothing_on_other_days_without_a_birthday_or_when_it_was_set_after_the_day(client: Any, jobs: Jobs) -> None:
    # Given a tenant with a birthday bonus, a customer born on 10 May, and one without a birthday
    creds = make_tenant("salon", timezone="Europe/Moscow", birthday_bonus=BONUS)
    set_contact(client, creds, "c1", email="anna@example.com", birthday="1992-05-10")
    set_contact(client, creds, "c2", email="olga@example.com", name="Olga")
    # When the job runs on the day before and the day after (Moscow time)
    for moment in (at(2027, 5, 9, 12), at(2027, 5, 10, 21, 30), at(2027, 5, 11, 12)):
        summary = jobs.run("birthday-bonus", moment)
        # Then nobody gets anything
        assert summary.totals.get("points", 0) == 0
    assert emails() == []
    # And the customer without a birthday is not even looked at on their "day"
    assert jobs.run("birthday-bonus", at(2027, 5, 10, 9)).totals.get("points", 0) == 500  # only c1
    assert member(client, creds, "c2")["balance"] == 0
    # Given a birthday set on 12 May for 11 May, after the day has passed
    set_contact(client, creds, "c2", birthday="1992-05-11")
    # When the job runs on the 12th
    # Then it does not grant for this year's passed birthday
    assert jobs.run("birthday-bonus", at(2027, 5, 12, 9)).totals.get("points", 0) == 0
    assert member(client, creds, "c2")["balance"] == 0


def test_a_29_february_birthday_is_celebrated_on_28_february_in_other_years(client: Any, jobs: Jobs) -> None:
    # Given a customer born on 29 February
    creds = make_tenant("leap", birthday_bonus=BONUS)
    set_contact(client, creds, "c1", email="leap@example.com", birthday="2000-02-29")
    # When the job runs on 28 February and 1 March of 2027 (no 29th)
    # Then the bonus comes on the 28th, and only once
    assert jobs.run("birthday-bonus", at(2027, 2, 28, 9)).totals["points"] == 500
    assert jobs.run("birthday-bonus", at(2027, 3, 1, 9)).totals.get("points", 0) == 0
    # When the job runs on 28 and 29 February of 2028 (a leap year)
    # Then the bonus comes on the 29th
    assert jobs.run("birthday-bonus", at(2028, 2, 28, 9)).totals.get("points", 0) == 0
    assert jobs.run("birthday-bonus", at(2028, 2, 29, 9)).totals["points"] == 500
    grants = [(e["entry"], e["delta"]) for e in history(client, creds) if e["kind"] == "grant"]
    assert grants == [("M#c1/BIRTHDAY#2028", 500), ("M#c1/BIRTHDAY#2027", 500)]
    assert len(emails()) == 2


def test_a_tenant_without_a_birthday_bonus_grants_nothing(client: Any, jobs: Jobs) -> None:
    # Given a tenant without the setting and a customer whose birthday it is
    creds = make_tenant("plain")
    set_contact(client, creds, "c1", email="x@example.com", birthday="1990-01-05")
    # When the job runs on that day
    summary = jobs.run("birthday-bonus", at(2027, 1, 5, 9))
    # Then the customer is looked at, and nothing is granted or sent
    assert (summary.totals["members"], summary.totals.get("points", 0)) == (1, 0)
    assert member(client, creds)["balance"] == 0 and emails() == []
