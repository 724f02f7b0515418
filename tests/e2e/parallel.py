"""Run requests together (threads released by a barrier) and retry 503s like a webhook sender."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from tests.e2e.client import Answer

T = TypeVar("T")


def all_at_once(jobs: list[Callable[[], T]]) -> list[T]:
    """Run every job on its own thread, all released at the same moment; results in job order."""
    barrier = threading.Barrier(len(jobs))

    def run(job: Callable[[], T]) -> T:
        barrier.wait()
        return job()

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(run, jobs))


def until_settled(send: Callable[[], Answer], attempts: int = 20) -> Answer:
    """What a sender does: retry a 503 ``conflict_retry`` after a growing pause until it lands; bounded."""
    answer = send()
    for attempt in range(attempts):
        if answer.status != 503:
            return answer
        assert answer.code == "conflict_retry", answer
        time.sleep(0.05 * (attempt + 1))
        answer = send()
    return answer
