"""Replays over real HTTP (docs/spec.md §3, §5): a delivery sent 3 times, or one order under two webhook ids, applies once."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.conftest import cancel_event, paid_event, refund_event, signed_headers
from tests.e2e.client import Answer, Api
from tests.e2e.parallel import all_at_once, until_settled

pytestmark = pytest.mark.e2e


def deliver_three_times(api: Api, event: dict[str, Any]) -> list[str]:
    """Two copies at once and a third re-signed later, all with one webhook-id; the statuses in the answers."""
    raw, msg_id = json.dumps(event).encode(), f"msg_{uuid.uuid4().hex}"

    def send() -> Answer:
        return until_settled(lambda: api.webhook_raw(raw, signed_headers(api.creds.secret, raw, msg_id)))

    answers = [*all_at_once([send, send]), send()]
    assert [a.status for a in answers] == [200, 200, 200], answers
    return sorted(a.body["status"] for a in answers)


def test_every_delivery_sent_three_times_applies_once(api: Api) -> None:
    member = "replay-3x"
    events = [
        paid_event("rp-1", member, total=200_000),  # +100
        refund_event("rp-1", "rp-1-r1", 50_000),  # a quarter: -25
        paid_event("rp-2", member, total=40_000),  # +20
        cancel_event("rp-2"),  # -20
    ]
    for event in events:
        assert deliver_three_times(api, event) == ["applied", "duplicate", "duplicate"], event["type"]
    view = api.member(member)
    assert view["balance"] == view["available"] == 75
    (entries,) = api.history(member)
    assert [e["kind"] for e in entries] == ["reverse", "earn", "reverse", "earn"]
    assert [e["delta"] for e in entries] == [-20, 20, -25, 100]


def test_one_order_under_two_webhook_ids_earns_once(api: Api) -> None:
    member = "replay-2ids"
    event = paid_event("rp-3", member, total=300_000)  # +150
    first, second = all_at_once([lambda: api.webhook(event, "msg_a_" + uuid.uuid4().hex)] * 2)
    assert (first.status, second.status) == (200, 200)
    assert sorted([first.body["status"], second.body["status"]]) == ["applied", "duplicate"]
    assert first.body["points_earned"] == second.body["points_earned"] == 150
    later = api.webhook(event, "msg_b_" + uuid.uuid4().hex)
    assert (later.status, later.body["status"], later.body["points_earned"]) == (200, "duplicate", 150)
    assert api.member(member)["balance"] == 150
    (entries,) = api.history(member)
    assert [e["kind"] for e in entries] == ["earn"]
