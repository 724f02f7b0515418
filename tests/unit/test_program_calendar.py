"""The program jobs' calendars as pure functions: birthday days (zones, 29 February) and tier review times."""

from __future__ import annotations

from datetime import UTC, date, datetime

from functions.schedules import SCHEDULES
from scripts.scheduler import JOB_FUNCTIONS
from shared.birthday import birthday_days, celebrated_on, is_birthday
from shared.program import ProgramSettings, Tier
from shared.services.abc import JOB as VIP_JOB
from shared.services.sweep import JOB_INDEX
from shared.tier_review import first_of_next_month, next_review, review
from tests.accounts import account

TIERS = [
    Tier(name="Silver", min_spend_minor=100, earn_rate_bp=500, discount_bp=0),
    Tier(name="Gold", min_spend_minor=500, earn_rate_bp=1000, discount_bp=0),
]
ROLLING = ProgramSettings(currency="RUB", timezone="Europe/Moscow", tiers=TIERS, tier_basis="rolling_12m")


def at(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def test_every_scheduled_job_can_be_run_by_make_schedule_and_has_an_index() -> None:
    assert {job: name for job, name, _, _ in SCHEDULES} == JOB_FUNCTIONS
    # every job but the VIP classification (one task per tenant, no due index) sweeps a due index
    assert set(JOB_FUNCTIONS) == {*JOB_INDEX, VIP_JOB}


def test_29_february_is_celebrated_on_28_february_in_other_years() -> None:
    assert celebrated_on("2000-02-29", 2027) == date(2027, 2, 28)
    assert celebrated_on("2000-02-29", 2028) == date(2028, 2, 29)
    assert is_birthday("1990-06-15", date(2027, 6, 15)) and not is_birthday("1990-06-15", date(2027, 6, 14))


def test_a_run_looks_at_every_day_that_is_today_somewhere_on_earth() -> None:
    # 00:30 UTC: from 12:30 the day before (UTC-12) to 14:30 (UTC+14)
    assert birthday_days(datetime(2027, 6, 15, 0, 30, tzinfo=UTC)) == ["06-14", "06-15"]
    # 11:00 UTC: 23:00 the day before in UTC-12, 01:00 the day after in UTC+14
    assert birthday_days(at(2027, 6, 15, 11)) == ["06-14", "06-15", "06-16"]
    # 28 February of a year without a 29th brings the 29th's birthdays along
    assert birthday_days(at(2027, 2, 28, 20)) == ["02-28", "02-29", "03-01"]
    assert birthday_days(at(2028, 2, 28, 20)) == ["02-28", "02-29"]


def test_a_review_is_due_on_the_local_first_of_the_next_month_while_a_tier_is_held() -> None:
    assert first_of_next_month(at(2027, 12, 15), "Europe/Moscow") == at(2027, 12, 31, 21)
    held = account("c1", tier="Gold")
    assert next_review(held, ROLLING, at(2027, 3, 10)) == at(2027, 3, 31, 21)
    # A pending review that a late run has not done yet is kept
    late = account("c1", tier="Gold", tier_review_at=at(2027, 2, 28, 21))
    assert next_review(late, ROLLING, at(2027, 3, 10)) == at(2027, 2, 28, 21)
    # No tier, or the lifetime basis: no review
    assert next_review(account("c1"), ROLLING, at(2027, 3, 10)) is None
    lifetime = ROLLING.model_copy(update={"tier_basis": "lifetime"})
    assert next_review(held, lifetime, at(2027, 3, 10)) is None


def test_a_review_only_lowers_the_tier() -> None:
    spend = (("2026-03", 600), ("2026-12", 200))
    gold = account("c1", tier="Gold", spend_months=spend)
    assert review(gold.standing, ROLLING, at(2027, 2, 1)).downgraded is False
    after = review(gold.standing, ROLLING, at(2027, 3, 1))
    assert (after.held, after.tier, after.spend_minor, after.downgraded) == ("Gold", "Silver", 200, True)
    # A member whose spend reaches higher than the held tier is not upgraded here (orders do that)
    silver = account("c1", tier="Silver", spend_months=(("2027-02", 900),))
    assert review(silver.standing, ROLLING, at(2027, 3, 1)).downgraded is False
