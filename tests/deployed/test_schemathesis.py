"""schemathesis against the deployed stack (issue 14 item 2): every operation of docs/openapi.json, every check.

Generated requests go through API Gateway to the packaged Lambdas on ministack. The Bearer key and the webhook
signatures are set by an auth provider (a schemathesis hook run on every generated case, after its body and headers
are drawn), so that webhooks are tested past the signature: a body that breaks the document is signed too and must
be refused for what it is (400/422), not for its signature. A case whose headers are generated invalid is left
unsigned (401). The auth checks' own probes (no or a wrong credential) bypass the provider and must get 401/403.

Expected statuses beyond schemathesis' defaults, each a documented answer the document's schemas cannot rule out:
positive data may get 422 (business rules: too few points, a currency other than the tenant's, a payment time out
of the window, a cart whose parts exceed its total) and, on the platform webhooks whose payloads are the platforms'
own opaque objects, 400 ``malformed_payload``. Each example is cheap (a request or two); the bounds below keep the
file within a few minutes on two cores.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.core.parameters import ParameterLocation

from scripts.deploy_local import DeployedStack
from shared.webhooks import standard, stripe
from tests.conftest import TenantCreds, paid_event
from tests.deployed.stack import run_ops
from tests.e2e.client import Api

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
TENANT = "fuzz"
MEMBER = "fuzz-member"
MAX_EXAMPLES = 8
ACCEPTED_IF_VALID = ["2xx", "401", "403", "404", "409", "422", "429"]  # 422: rules the schema cannot express
PLATFORM_ACCEPTED_IF_VALID = [*ACCEPTED_IF_VALID, "400"]  # opaque third-party payloads: a field may be missing
CURSOR_ACCEPTED_IF_VALID = [*ACCEPTED_IF_VALID, "400"]  # a cursor is opaque: only one issued here is valid


def _config(base_url: str) -> schemathesis.Config:
    platforms = "^/v1/tenants/\\{tenant_id\\}/webhooks/(shopify|stripe|woocommerce)$"
    return schemathesis.Config.from_dict(
        {
            "base-url": base_url,
            # the fuzz tenant, its currency and its funded member, so that valid requests can also succeed
            "parameters": {
                "path.tenant_id": TENANT,
                "body.currency": "RUB",
                "body.data.currency": "RUB",
                "body.member_id": MEMBER,
                "body.from_member_id": MEMBER,
            },
            "generation": {"max-examples": MAX_EXAMPLES, "mode": "all", "deterministic": True},
            "checks": {
                "enabled": True,
                # API Gateway answers a method no route declares itself (403 MissingAuthenticationToken on AWS and
                # ministack) before the Lambda: 405 needs the template's ANY methods or gateway responses (infra/).
                "unsupported_method": {"enabled": False},
                "positive_data_acceptance": {"expected-statuses": ACCEPTED_IF_VALID},
            },
            "operations": [
                {
                    "include-path-regex": platforms,
                    "checks": {"positive_data_acceptance": {"expected-statuses": PLATFORM_ACCEPTED_IF_VALID}},
                },
                {
                    "include-path-regex": "/(history|feedback)$",
                    "checks": {"positive_data_acceptance": {"expected-statuses": CURSOR_ACCEPTED_IF_VALID}},
                },
            ],
            "request-timeout": 60,
        }
    )


def _wire(body: Any) -> bytes:
    """The bytes schemathesis sends for a JSON body: raw bytes as they are, None as ``null``, else what `requests`
    makes of ``json=`` (json.dumps with its defaults); no body at all is empty."""
    if isinstance(body, bytes):
        return body
    if body is None:
        return b"null"
    return b"" if type(body).__name__ == "NotSet" else json.dumps(body, allow_nan=False).encode()


def _b64_hmac(secret: str, raw: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def _signature(platform: str, secret: str, case: Case, raw: bytes) -> dict[str, str]:
    """The headers the platform would sign this body with (the generated ids and topics are kept)."""
    now = int(time.time())
    if platform == "standard":
        msg_id = str(case.headers.get("webhook-id") or f"msg_{now}")
        return {"webhook-id": msg_id, "webhook-timestamp": str(now), **_standard(secret, msg_id, now, raw)}
    if platform == "stripe":
        return {"Stripe-Signature": stripe.sign(secret, now, raw)}
    name = "X-Shopify-Hmac-Sha256" if platform == "shopify" else "X-WC-Webhook-Signature"
    return {name: _b64_hmac(secret, raw)}


def _standard(secret: str, msg_id: str, now: int, raw: bytes) -> dict[str, str]:
    return {"webhook-signature": standard.sign(secret, msg_id, now, raw)}


class Credentials:
    """The schemathesis auth provider: a Bearer key on API routes, the platform's signature on webhooks."""

    def __init__(self, creds: dict[str, Any]) -> None:
        self.creds = creds

    def get(self, case: Case, ctx: schemathesis.AuthContext) -> dict[str, Any]:
        return self.creds

    def set(self, case: Case, data: dict[str, Any], ctx: schemathesis.AuthContext) -> None:
        platform = case.path.rsplit("/", 1)[1] if "/webhooks/" in case.path else None
        if platform is None:
            case.headers["Authorization"] = f"Bearer {data['api_key']}"
            return
        if case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER):
            return  # invalid headers are sent unsigned: 401
        case.headers.update(_signature(platform, data["webhook_secrets"][platform], case, _wire(case.body)))


@pytest.fixture(scope="module")
def fuzz_creds(deployed: DeployedStack) -> dict[str, Any]:
    """A tenant of its own (the fuzzer rewrites its program), with transfers on and a member holding points."""
    done = run_ops(deployed, "create-tenant", "--id", TENANT, "--currency", "RUB", "--timezone", "Europe/Moscow")
    assert done.returncode == 0, done.stderr
    creds = dict(json.loads(done.stdout))
    api = Api(deployed.api_url, TenantCreds(TENANT, creds["api_key"], creds["webhook_secrets"]["standard"]))
    program = api.post("/program", {"transfer": {"enabled": True, "min_lot_age_days": 0}}, method="PUT")
    assert program.status == 200, program
    paid = api.webhook(paid_event("fuzz-order", MEMBER, total=100_000_000))
    assert paid.status == 200 and paid.body["points_earned"] > 0, paid
    return creds


@pytest.fixture(scope="module")
def api_schema(deployed: DeployedStack, fuzz_creds: dict[str, Any]) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_path(DOC, config=_config(deployed.api_url))

    class Provider(Credentials):
        def __init__(self) -> None:
            super().__init__(fuzz_creds)

    schema.auth(refresh_interval=None)(Provider)
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=MAX_EXAMPLES)
def test_every_operation_answers_as_documented(case: Case) -> None:
    # Given a request generated from the document (valid or deliberately invalid), signed or keyed as a client would
    # When it is sent to the deployed stack
    # Then every check holds: no 5xx, a documented status, a body matching its schema, auth enforced, ...
    case.call_and_validate()
