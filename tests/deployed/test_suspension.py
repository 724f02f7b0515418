"""A tenant suspended with the ops command is refused through API Gateway: 503 ``tenant_suspended`` with Retry-After,
for its webhooks and its API calls, and nothing is recorded (docs/operations.md "Tenants: the ops command", runbook).

The tenant is suspended before any Lambda has loaded it, so no container serves it from its cache (60 s).
"""

from __future__ import annotations

import json

from scripts.deploy_local import DeployedStack
from tests.conftest import paid_event, signed_headers
from tests.deployed.stack import create_tenant, fetch, ledger_items, run_ops
from tests.e2e.client import Api


def test_a_suspended_tenant_gets_503_for_webhooks_and_api_calls_and_nothing_is_recorded(
    deployed: DeployedStack, api: Api
) -> None:
    # Given a tenant created and then suspended with the ops command
    creds = create_tenant(deployed, "paused", "--currency", "RUB")
    suspended = run_ops(deployed, "suspend-tenant", "--id", "paused", "--reason", "unpaid invoice")
    assert suspended.returncode == 0, suspended.stderr
    assert json.loads(suspended.stdout)["status"] == "suspended"
    assert creds.api_key not in suspended.stdout + suspended.stderr
    paused = Api(deployed.api_url, creds)

    # When its platform delivers a correctly signed paid order
    raw = json.dumps(paid_event("p-1", "pia", 100_000)).encode()
    answer, headers = fetch("POST", paused.url("/webhooks/standard"), raw, signed_headers(creds.secret, raw))
    # Then the webhook answers 503 tenant_suspended and asks to retry in 5 minutes
    assert (answer.status, answer.code, headers.get("Retry-After")) == (503, "tenant_suspended", "300"), answer

    # When the merchant calls the API with its own key
    answer, headers = fetch("GET", paused.url("/members/pia"), headers=creds.auth)
    # Then it answers 503 tenant_suspended too, with Retry-After
    assert (answer.status, answer.code, headers.get("Retry-After")) == (503, "tenant_suspended", "300"), answer
    quote = paused.post("/checkout/quote", {"member_id": "pia", "currency": "RUB", "total_minor": 10_000})
    assert (quote.status, quote.code) == (503, "tenant_suspended")

    # And only the key holder learns of the suspension: a bad signature is 401, another tenant's key 403
    forged = paused.webhook_raw(raw, signed_headers("whsec_" + "A" * 32, raw))
    assert (forged.status, forged.code) == (401, "invalid_signature")
    assert api.get("/members/pia", tenant="paused").status == 403

    # And nothing was recorded for the tenant: no member, no entry, no delivery marker
    assert ledger_items(deployed, "paused") == []
