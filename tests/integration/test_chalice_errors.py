"""Errors Chalice answers before a view runs come in the project's shape (issue 14 item 5): a JSON route called
with another Content-Type is 415 ``unsupported_media_type``, a method a path does not have is 405
``method_not_allowed``, each ``{"error": {"code", "message"}}`` and nothing written."""

from __future__ import annotations

from typing import Any

from tests.conftest import TenantCreds
from tests.integration.support import assert_error, ledger_items


def test_a_json_route_with_another_content_type_is_415_in_the_project_shape(client: Any, tenant: TenantCreds) -> None:
    before = ledger_items()
    headers = {**tenant.auth, "Content-Type": "text/plain"}
    for path in ("/holds", "/checkout/quote", "/webhooks/standard"):
        response = client.http.post(f"/v1/tenants/{tenant.tenant_id}{path}", body=b"{}", headers=headers)
        error = assert_error(response, 415, "unsupported_media_type")
        assert "text/plain" in error["message"], path
    assert ledger_items() == before


def test_a_method_the_path_does_not_have_is_405_in_the_project_shape(client: Any, tenant: TenantCreds) -> None:
    response = client.http.request("DELETE", f"/v1/tenants/{tenant.tenant_id}/program", headers=tenant.auth)
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers.get("Allow", "")
