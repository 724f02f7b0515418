"""Powertools on every kind of handler (issue 6 item 3): the Tracer and the correlation id of a route, a schedule
and the SQS worker, invoked through the handlers Lambda calls (app.handler_map) and the test gateway."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from unittest.mock import MagicMock

import pytest

from shared.observability import tracer
from tests.conftest import make_tenant, paid_event, post_webhook
from tests.integration.conftest import Clock
from tests.integration.scheduled.conftest import Jobs
from tests.logs import captured_logs


@pytest.fixture
def subsegments(monkeypatch: pytest.MonkeyPatch) -> list[MagicMock]:
    """Each X-Ray subsegment the Tracer opens (tracing is disabled in tests, so none reaches a daemon)."""
    opened: list[MagicMock] = []

    @contextmanager
    def in_subsegment(name: str, **_: Any) -> Iterator[MagicMock]:
        segment = MagicMock(name=name)
        segment.name = name
        opened.append(segment)
        yield segment

    monkeypatch.setattr(tracer.provider, "in_subsegment", in_subsegment)
    return opened


def test_routes_schedules_and_the_worker_are_traced_and_correlated(
    client: Any, jobs: Jobs, frozen: Clock, subsegments: list[MagicMock]
) -> None:
    creds = make_tenant(lifetime_days=30)
    with captured_logs() as logs:
        # When a webhook arrives (a route)
        response = post_webhook(client, creds, paid_event("o-17", "c1", 100_000), msg_id="msg_trace1", ts=frozen.ts)
        assert response.status_code == 200, response.body
        routes = len(subsegments)
        # And the expiry runs 31 days later (the scheduled function, then the worker on each of its tasks)
        summary = jobs.run("expire", frozen.advance(timedelta(days=31)))
    assert summary.totals["points"] == 50 and summary.invocations >= 1
    # Then each invocation was one subsegment, none with the response as metadata
    assert routes == 1
    assert len(subsegments) == 1 + 1 + summary.invocations
    assert {s.name for s in subsegments} == {"## traced"}
    for segment in subsegments:
        assert {c.kwargs["key"] for c in segment.put_annotation.call_args_list} == {"ColdStart", "Service"}
        assert not any(c.kwargs.get("key", "").endswith("response") for c in segment.put_metadata.call_args_list)
    # And the webhook's lines carry its webhook id, tenant and order; the run's lines its run id
    [order] = logs.with_message("order event")
    assert (order["correlation_id"], order["tenant_id"], order["order_id"]) == ("msg_trace1", creds.tenant_id, "o-17")
    [started] = logs.with_message("run started")
    swept = logs.with_message("shard swept")
    assert started["correlation_id"] == started["run_id"] and "order_id" not in started
    assert swept and {r["correlation_id"] for r in swept} == {started["run_id"]}
    assert all("tenant_id" not in r for r in [started, *swept])  # the webhook's keys did not stay behind
