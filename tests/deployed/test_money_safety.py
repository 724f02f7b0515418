"""Issue 13 through API Gateway -> Lambda on the emulator: nothing tells a stranger which tenants exist, a
cancellation before payment gives captured points back, and a merchant cannot speak as the operator."""

from __future__ import annotations

import json

from shared.tenants import new_webhook_secret
from tests.conftest import cancel_event, paid_event, signed_headers
from tests.e2e.client import Api


def test_every_signature_failure_answers_the_same_whatever_the_tenant(api: Api) -> None:
    raw = json.dumps(paid_event("ms-sig", "c1", 100_000)).encode()
    unsigned = {"content-type": "application/json"}
    wrong = signed_headers(new_webhook_secret(), raw)
    answers = [
        api.webhook_raw(raw, unsigned),
        api.webhook_raw(raw, wrong),
        api.webhook_raw(raw, unsigned, tenant="no-such-tenant"),
        api.webhook_raw(raw, wrong, tenant="no-such-tenant"),
    ]
    assert {(a.status, json.dumps(a.body, sort_keys=True)) for a in answers} == {
        (401, json.dumps({"error": {"code": "invalid_signature", "message": "signature does not match"}}))
    }


def test_points_captured_for_an_order_cancelled_before_payment_come_back(api: Api) -> None:
    assert api.webhook(paid_event("ms-o0", "ms-ann", 200_000)).status == 200
    hold = api.post("/holds", {"member_id": "ms-ann", "order_id": "ms-o1", "points": 100})
    assert hold.status == 201, hold.body
    assert api.post(f"/holds/{hold.body['hold_id']}/capture", {"points": 60}).status == 200
    cancelled = api.webhook(cancel_event("ms-o1"))
    assert (cancelled.status, cancelled.body["reason"], cancelled.body["points_restored"]) == (
        200,
        "cancelled_before_payment",
        60,
    )
    assert api.member("ms-ann")["available"] == 100


def test_a_merchant_cannot_set_the_sender_or_the_staff_topic(api: Api) -> None:
    for field, value in (("email_from", "ceo@victim.example"), ("staff_topic_arn", "arn:aws:sns:us-east-1:1:x")):
        answer = api.post("/program", {field: value}, method="PUT")
        assert (answer.status, answer.code) == (403, "operator_setting"), (field, answer.body)
