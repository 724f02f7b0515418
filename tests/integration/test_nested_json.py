"""A deeply nested body (issue 14 item 1) is a 400 with a stable code on every JSON route and webhook, never a 500
that a platform would retry for days; and nothing is written."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import TenantCreds, signed_headers
from tests.integration.platforms.conftest import platform_tenant, post
from tests.integration.platforms.test_shopify import SECRET as SHOPIFY_SECRET
from tests.integration.platforms.test_shopify import signed as shopify_signed
from tests.integration.support import assert_error, ledger_items

DEEP = b"[" * 1_000 + b"]" * 1_000  # 2 KB: past the parser's recursion without a bound
NESTED_70 = json.dumps({"type": "order.paid", "data": {"x": json.loads("[" * 70 + "]" * 70)}}).encode()

ROUTES = [
    ("POST", "/checkout/quote"),
    ("POST", "/holds"),
    ("POST", "/holds/h_x/capture"),
    ("POST", "/transfers"),
    ("POST", "/grants"),
    ("PUT", "/program"),
    ("PUT", "/members/c1"),
]


@pytest.mark.parametrize("raw", [DEEP, NESTED_70], ids=["1000-deep", "70-deep"])
@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[p for _, p in ROUTES])
def test_a_deeply_nested_body_is_400_on_every_json_route(
    client: Any, tenant: TenantCreds, method: str, path: str, raw: bytes
) -> None:
    before = ledger_items()
    response = client.http.request(method, f"/v1/tenants/{tenant.tenant_id}{path}", body=raw, headers=tenant.auth)
    assert_error(response, 400, "too_deeply_nested")
    assert ledger_items() == before


@pytest.mark.parametrize("raw", [DEEP, NESTED_70], ids=["1000-deep", "70-deep"])
def test_a_deeply_nested_signed_webhook_is_400(client: Any, tenant: TenantCreds, raw: bytes) -> None:
    before = ledger_items()
    url = f"/v1/tenants/{tenant.tenant_id}/webhooks/standard"
    response = client.http.post(url, body=raw, headers=signed_headers(tenant.secret, raw))
    assert_error(response, 400, "too_deeply_nested")
    assert ledger_items() == before


@pytest.mark.parametrize("platform", ["shopify", "stripe", "woocommerce"])
def test_a_deeply_nested_platform_delivery_is_400(client: Any, aws: None, platform: str) -> None:
    secret, headers = _signed(platform, DEEP)
    platform_tenant(platform, secret, currency="USD")
    before = ledger_items()
    assert_error(post(client, "shop", platform, DEEP, headers), 400, "malformed_payload")
    assert ledger_items() == before


def _signed(platform: str, raw: bytes) -> tuple[str, dict[str, str]]:
    """The platform's test secret and its signature over ``raw`` (each platform's own scheme)."""
    from shared import clock
    from tests.integration.platforms import test_stripe, test_woocommerce

    if platform == "shopify":
        return SHOPIFY_SECRET, shopify_signed(raw, "orders/paid")
    if platform == "stripe":
        return test_stripe.SECRET, test_stripe.signed(raw, int(clock.now().timestamp()))
    return test_woocommerce.SECRET, test_woocommerce.signed(raw, "order.updated")
