"""The catalog of the scheduled jobs (shared/scheduled_jobs.py) and what is derived from it: the eight schedules as
they were, each job's index on the ACCOUNT item, each job's service buildable by the composition root, the sample
events as generated (docs/architecture.md, "Adding a stored, scheduled member attribute")."""

from __future__ import annotations

import importlib
import inspect
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

import pytest

from functions import schedules
from scripts import sample_events
from scripts.cost_model import fixed_lines
from shared.account import WakeUps
from shared.container import JOB_DEPENDENCIES, Container
from shared.dal.account_codec import account_from, account_item
from shared.dal.due_times import DERIVED_TIMES
from shared.dal.ledger_indexes import DUE_INDEXES
from shared.dal.memory_indexes import DUE_TIMES
from shared.dal.models import AccountItem
from shared.scheduled_jobs import SCHEDULED_JOBS, job_names, runs_per_day
from shared.services.abc import JOB as VIP_JOB
from shared.services.sweep import JOB_INDEX, PROFILE_JOBS
from shared.settings import Settings
from tests.accounts import account

# What the eight schedules were before the catalog (functions/schedules.py): they must not change.
SCHEDULES_BEFORE = (
    ("expire", "expire_points", "cron(5 * * * ? *)", "Expire due lots (hourly at :05)"),
    ("remind", "send_reminders", "cron(10 * * * ? *)", "Expiry reminder ladder (hourly at :10)"),
    ("release-holds", "release_holds", "rate(15 minutes)", "Release holds past their TTL"),
    ("activate-pending", "activate_pending", "cron(15 * * * ? *)", "Announce pending points now available"),
    ("birthday-bonus", "grant_birthdays", "cron(20 * * * ? *)", "Birthday bonus in each tenant's time (hourly)"),
    ("tier-review", "review_tiers", "cron(25 * * * ? *)", "Rolling-basis tier downgrades on the local 1st"),
    ("boost-reminder", "remind_boosts", "cron(30 * * * ? *)", "Remind of a post-purchase boost's end"),
    (VIP_JOB, "classify_vip", "cron(30 2 * * ? *)", "VIP by ABC analysis: set class A on accounts (daily 02:30 UTC)"),
)


def test_the_schedules_and_their_starters_are_the_catalogs() -> None:
    assert schedules.SCHEDULES == SCHEDULES_BEFORE
    for job, function, _expression, _description in SCHEDULES_BEFORE:
        starter = getattr(schedules, function)  # the packaged Handler: functions.schedules.<function>
        assert starter.func.__name__ == function and starter in schedules.STARTERS, job
        assert starter.middleware_handlers, job  # Powertools attached for Lambda's direct import


def test_the_sweeps_read_the_indexes_they_read_before() -> None:
    assert JOB_INDEX == {
        "expire": "expiry",
        "remind": "remind",
        "release-holds": "holds",
        "activate-pending": "pending",
        "birthday-bonus": "birthday",
        "tier-review": "tier_review",
        "boost-reminder": "boost_remind",
    }
    assert {"remind", "birthday-bonus", "tier-review", "boost-reminder"} == PROFILE_JOBS
    assert set(DUE_INDEXES) == set(DUE_TIMES) == set(JOB_INDEX.values()) - {"birthday"}


def test_every_account_index_of_the_catalog_is_a_gsi_ranged_on_its_attribute() -> None:
    for row in SCHEDULED_JOBS:
        if row.attribute is None:
            continue
        index = getattr(AccountItem, str(row.gsi))
        assert index.Meta.index_name == row.gsi
        range_keys = [name for name, attr in index.Meta.attributes.items() if attr.is_range_key]
        assert range_keys == [row.attribute] and index._hash_key_attribute().attr_name == "shard", row.job
        assert row.attribute in DERIVED_TIMES or row.attribute in {f.name for f in fields(WakeUps)}, row.job


def test_every_wake_up_is_the_account_item_attribute_of_its_name_both_ways() -> None:
    # Given an account with every wake-up set
    at = datetime(2027, 1, 15, 9, 5, tzinfo=UTC)
    values: dict[str, Any] = {f.name: at for f in fields(WakeUps)} | {"birthday_year": 2026}
    member = account("m-1", **values)
    # When it is written and read back / Then each wake-up is its attribute, and comes back the same
    item = account_item("t-1", member, at)
    for name, value in values.items():
        assert getattr(item, name) == value, name
    assert account_from(item).wakeups == member.wakeups


def test_every_service_of_the_catalog_is_built_with_what_its_constructor_names() -> None:
    for row in SCHEDULED_JOBS:
        if row.service is None:
            assert row.job == VIP_JOB  # planned per tenant by the AbcService
            continue
        module, _, path = row.service.partition(":")
        class_name, method = path.split(".")
        service_class = getattr(importlib.import_module(module), class_name)
        assert set(inspect.signature(service_class).parameters) <= JOB_DEPENDENCIES, row.job
        assert callable(getattr(service_class, method)), row.job


def test_the_worker_registry_builds_each_jobs_member_step(monkeypatch: pytest.MonkeyPatch) -> None:
    container = Container(Settings())
    monkeypatch.setattr(Container, "store", object(), raising=False)
    monkeypatch.setattr(Container, "notifier", object(), raising=False)
    monkeypatch.setattr(Container, "messenger", object(), raising=False)
    factories = container._job_factories()
    assert set(factories) == set(JOB_INDEX)
    for job, factory in factories.items():
        step = factory()
        assert (
            callable(step) and step.__name__ == next(r for r in SCHEDULED_JOBS if r.job == job).service.split(".")[-1]
        )


def test_runs_per_day_follow_from_the_expressions() -> None:
    assert {row.job: row.runs_per_day for row in SCHEDULED_JOBS} == {
        "expire": 24,
        "remind": 24,
        "release-holds": 96,
        "activate-pending": 24,
        "birthday-bonus": 24,
        "tier-review": 24,
        "boost-reminder": 24,
        "classify-vip": 1,
    }
    assert runs_per_day("rate(1 hour)") == 24 and runs_per_day("cron(0 3,15 * * ? *)") == 2
    with pytest.raises(ValueError):
        runs_per_day("cron(0 12 ? * MON *)")
    assert fixed_lines()[0].quantity == (24 * 6 + 96 + 1) * 365 * 64 * 3


def test_the_sample_events_are_the_catalogs() -> None:
    assert sample_events.main(["--check"]) == 0
    assert job_names().endswith("boost-reminder or classify-vip")
