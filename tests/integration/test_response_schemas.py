"""Real answers of every route match docs/openapi.json (issue 14 item 2): the presenters build plain dicts, so this
test is what keeps them and the response models (shared/api_responses.py) from drifting apart."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from shared.container import container
from tests.conftest import TenantCreds, paid_event, post_webhook

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
T = "/v1/tenants/{tenant_id}"


@cache
def _document() -> dict[str, Any]:
    return dict(json.loads(DOC.read_text()))


def documented(response: Any, template: str, method: str) -> Any:
    """The body, after checking that its status is documented for the operation and the body matches its schema."""
    operation = _document()["paths"][template][method]
    status = str(response.status_code)
    assert status in operation["responses"], (method, template, status, response.body)
    schema = operation["responses"][status]["content"]["application/json"]["schema"]
    registry = Registry().with_resource("urn:doc", Resource.from_contents(_document(), DRAFT202012))
    pointer = {"$ref": "urn:doc" + schema["$ref"]}
    answer = json.loads(response.body)
    errors = sorted(Draft202012Validator(pointer, registry=registry).iter_errors(answer), key=str)
    assert not errors, (method, template, status, [e.message for e in errors], answer)
    return answer


def _call(client: Any, creds: TenantCreds, method: str, template: str, payload: Any = None, **path: str) -> Any:
    url = template.format(tenant_id=creds.tenant_id, **path)
    body = None if payload is None else json.dumps(payload)
    response = getattr(client.http, method)(url, headers=creds.auth, **({"body": body} if body else {}))
    return documented(response, template.split("?")[0], method)


def test_every_route_answers_what_the_document_says(client: Any, tenant: TenantCreds) -> None:
    # Given a member who earned on a paid order, with contact data, and transfers switched on
    documented(client.http.get("/v1/health"), "/v1/health", "get")
    paid = post_webhook(client, tenant, paid_event("o-1", "c1", total=200_000))
    documented(paid, T + "/webhooks/standard", "post")
    _call(client, tenant, "put", T + "/members/{member_id}", {"email": "c1@example.com"}, member_id="c1")
    _call(client, tenant, "put", T + "/program", {"transfer": {"enabled": True, "min_lot_age_days": 0}})
    # When every route is called with a valid request, then every answer matches its documented schema
    cart = {"currency": "RUB", "total_minor": 10_000, "items": [{"sku": "a", "quantity": 1, "amount_minor": 10_000}]}
    _call(client, tenant, "post", T + "/checkout/quote", {"member_id": "c1", **cart})
    hold = _call(client, tenant, "post", T + "/holds", {"member_id": "c1", "order_id": "o-2", "points": 10})
    _call(client, tenant, "post", T + "/holds/{hold_id}/capture", {"points": 10}, hold_id=hold["hold_id"])
    other = _call(client, tenant, "post", T + "/holds", {"member_id": "c1", "order_id": "o-3", "points": 5})
    _call(client, tenant, "post", T + "/holds/{hold_id}/release", hold_id=other["hold_id"])
    _call(client, tenant, "get", T + "/members?email=c1@example.com")
    _call(client, tenant, "get", T + "/members/{member_id}", member_id="c1")
    _call(client, tenant, "get", T + "/members/{member_id}/history?limit=2", member_id="c1")
    _call(client, tenant, "get", T + "/reports/abc?member_id=c1", member_id="c1")
    _call(client, tenant, "get", T + "/program")
    grant = {"grant_id": "g-1", "segment": {"member_ids": ["c1"]}, "points": 5, "reason": "holiday"}
    _call(client, tenant, "post", T + "/grants", grant)
    _call(client, tenant, "get", T + "/grants/{grant_id}", grant_id="g-1")
    move = {"transfer_id": "t-1", "from_member_id": "c1", "to_member_id": "c2", "points": 1}
    _call(client, tenant, "post", T + "/transfers", move)


def test_errors_and_platform_answers_match_the_document(client: Any, tenant: TenantCreds) -> None:
    # Given a tenant, its Shopify secret, and requests each route must refuse
    secret = container().tenants.get(tenant.tenant_id).webhook_secrets["shopify"][0]  # type: ignore[union-attr]
    raw = b"{}"
    digest = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
    shopify = {"X-Shopify-Hmac-Sha256": digest, "X-Shopify-Topic": "shop/update", "content-type": "application/json"}
    base = f"/v1/tenants/{tenant.tenant_id}"
    # When they are sent, then each answer (success or error) matches the document's schema for its status
    documented(client.http.post(base + "/webhooks/shopify", body=raw, headers=shopify), T + "/webhooks/shopify", "post")
    documented(client.http.get(base + "/program"), T + "/program", "get")  # 401: no key
    text = {**tenant.auth, "content-type": "text/plain"}
    documented(client.http.post(base + "/holds", body="x", headers=text), T + "/holds", "post")  # 415
    documented(client.http.post(base + "/holds", body="{", headers=tenant.auth), T + "/holds", "post")  # 400
    documented(client.http.post(base + "/holds", body="{}", headers=tenant.auth), T + "/holds", "post")  # 422
    documented(client.http.get(base + "/grants/nope", headers=tenant.auth), T + "/grants/{grant_id}", "get")  # 404
