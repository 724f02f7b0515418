"""The composition root (shared/container.py) builds each service on first use, once, and a handler's module imports
only the services its function uses (issue 12 item 7, cold start)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from shared.container import Container, Jobs, built
from shared.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
JOB_SERVICES = (
    "shared.services.birthdays",
    "shared.services.boost_reminders",
    "shared.services.tier_reviews",
    "shared.services.messenger",
)
API_SERVICES = ("shared.services.orders", "shared.services.checkout", "shared.services.members")


def test_each_service_is_built_on_first_use_once_and_they_share_the_stores() -> None:
    box = Container(get_settings())
    assert "orders" not in vars(box) and "store" not in vars(box)
    orders = box.orders
    assert box.orders is orders
    assert box.checkout.store is orders.store is box.store
    assert box.grants.tenants is box.tenants


def test_threads_asking_at_once_get_one_instance() -> None:
    made: list[object] = []

    class Slow:
        def __init__(self) -> None:
            self._lock = threading.RLock()

        @built
        def thing(self) -> object:
            time.sleep(0.05)
            made.append(object())
            return made[-1]

    holder = Slow()
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(holder.thing)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1 and all(s is made[0] for s in seen)


def test_the_sweepers_jobs_are_built_one_job_at_a_time() -> None:
    calls: list[str] = []

    def factory(name: str) -> object:
        def make() -> object:
            calls.append(name)
            return lambda *args: name

        return make

    jobs = Jobs({"expire": factory("expire"), "remind": factory("remind")}, threading.RLock())  # type: ignore[dict-item]
    assert sorted(jobs) == ["expire", "remind"] and len(jobs) == 2 and calls == []
    assert jobs["expire"] is jobs["expire"]
    assert calls == ["expire"]


def test_the_containers_sweeper_knows_every_job_without_building_their_services() -> None:
    sweeper = Container(get_settings()).sweeper
    assert set(sweeper.jobs) == {
        "expire",
        "remind",
        "release-holds",
        "activate-pending",
        "birthday-bonus",
        "tier-review",
        "boost-reminder",
    }
    assert callable(sweeper.jobs["birthday-bonus"])


def imported_after(statement: str) -> tuple[set[str], bool, int]:
    """The modules a fresh interpreter holds after ``statement``, whether it collects garbage, how many objects
    it froze."""
    probe = (
        f"import gc, json, sys; {statement}; "
        "print(json.dumps({'modules': sorted(sys.modules), 'gc': gc.isenabled(), 'frozen': gc.get_freeze_count()}))"
    )
    env = {"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "1"}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return set(found["modules"]), bool(found["gc"]), int(found["frozen"])


def test_the_api_handlers_module_loads_no_scheduled_jobs_service_and_resumes_garbage_collection() -> None:
    modules, collecting, frozen = imported_after("import app")
    assert not set(JOB_SERVICES) & modules
    assert set(API_SERVICES) <= modules  # its routes' own services load in the init, not on a first request
    assert collecting and frozen > 0


def test_the_scheduled_functions_module_loads_none_of_the_apis_services() -> None:
    modules, collecting, frozen = imported_after("import functions.schedules")
    assert not (set(JOB_SERVICES) | set(API_SERVICES)) & modules
    assert collecting and frozen > 0
