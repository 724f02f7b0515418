"""Suspending a tenant from the ops command (issue 6 item 4): its webhooks answer 503 ``tenant_suspended`` with
Retry-After and record nothing, so that the platform's retry after the resume is processed as a first delivery."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scripts import ops
from tests.conftest import body, make_tenant, paid_event, post_webhook, signed_headers
from tests.integration.conftest import Clock
from tests.integration.platforms.conftest import fixture, platform_tenant, post
from tests.integration.platforms.test_shopify import SECRET, fixture_headers
from tests.integration.support import assert_error, ledger_items, member


def run_ops(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()  # what the handlers printed before (their EMF metrics)
    code = ops.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def suspended(response: Any) -> None:
    assert_error(response, 503, "tenant_suspended")
    assert response.headers["Retry-After"] == "300"


def test_a_suspended_tenants_webhook_is_refused_unrecorded_and_its_retry_after_resume_earns(
    client: Any, frozen: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    creds = make_tenant("shop-1")
    assert post_webhook(client, creds, paid_event("o0", "c1", 100_000), ts=frozen.ts).status_code == 200
    # Given the tenant suspended by the ops command
    code, out, err = run_ops(capsys, "suspend-tenant", "--id", "shop-1", "--reason", "unpaid invoice")
    assert code == 0, err
    assert json.loads(out) == {
        "tenant_id": "shop-1",
        "status": "suspended",
        "reason": "unpaid invoice",
        "changed_at": json.loads(out)["changed_at"],
    }
    assert creds.api_key not in out + err and creds.secret not in out + err
    before = ledger_items()
    # When the platform delivers a paid order
    event = json.dumps(paid_event("o1", "c1", 200_000)).encode()
    headers = signed_headers(creds.secret, event, "msg_retry_me", frozen.ts)
    url = "/v1/tenants/shop-1/webhooks/standard"
    # Then it answers 503 tenant_suspended with Retry-After, and nothing is written (no entry, no dedup marker)
    suspended(client.http.post(url, body=event, headers=headers))
    assert ledger_items() == before
    # And the merchant API answers the tenant's own key the same way, a wrong key 403 as ever
    suspended(client.http.get("/v1/tenants/shop-1/members/c1", headers=creds.auth))
    wrong = {**creds.auth, "authorization": "Bearer lk_wrong"}
    assert_error(client.http.get("/v1/tenants/shop-1/members/c1", headers=wrong), 403, "forbidden")
    # And a delivery with a bad signature learns nothing of the suspension; an unknown tenant answers as before
    forged = {
        **headers,
        "webhook-signature": signed_headers("whsec_" + "A" * 44, event, "msg_retry_me")["webhook-signature"],
    }
    assert_error(client.http.post(url, body=event, headers=forged), 401, "invalid_signature")
    unknown = client.http.post("/v1/tenants/no-such-shop/webhooks/standard", body=event, headers=headers)
    assert_error(unknown, 401, "invalid_signature")
    assert ledger_items() == before

    # When the tenant is resumed and the platform retries the same delivery
    code, out, err = run_ops(capsys, "resume-tenant", "--id", "shop-1")
    assert code == 0 and json.loads(out)["status"] == "active" and json.loads(out)["reason"] is None, err
    retried = client.http.post(url, body=event, headers=headers)
    # Then it is processed as a first delivery: 200, points earned
    assert retried.status_code == 200, retried.body
    assert (body(retried)["status"], body(retried)["points_earned"]) == ("applied", 100)
    assert member(client, creds)["balance"] == 150
    # And a second retry is a duplicate as usual
    assert body(client.http.post(url, body=event, headers=headers))["status"] == "duplicate"


def test_a_suspended_tenants_shopify_delivery_is_refused_and_its_retry_earns(
    client: Any, aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    creds = platform_tenant("shopify", SECRET, currency="USD", lifetime_days=3650)
    assert run_ops(capsys, "suspend-tenant", "--id", creds.tenant_id)[0] == 0
    raw, headers = fixture("shopify_orders_paid.json"), fixture_headers("shopify_orders_paid.json", "orders/paid")
    before = ledger_items()
    suspended(post(client, creds.tenant_id, "shopify", raw, headers))
    assert ledger_items() == before
    assert run_ops(capsys, "resume-tenant", "--id", creds.tenant_id)[0] == 0
    retried = post(client, creds.tenant_id, "shopify", raw, headers)
    assert retried.status_code == 200, retried.body
    [result] = body(retried)["results"]
    assert (result["status"], result["points_earned"]) == ("applied", 9)


def test_suspending_an_unknown_tenant_is_an_error(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_ops(capsys, "suspend-tenant", "--id", "no-such-shop")
    assert (code, out) == (1, "")
    assert "does not exist" in err
    code, out, err = run_ops(capsys, "resume-tenant", "--id", "no-such-shop")
    assert (code, out) == (1, "") and "does not exist" in err
