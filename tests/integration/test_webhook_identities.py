"""One e-mail is one contact however it is written (issue 13 item 16): the standard webhook stores an order's e-mail
in its one form (NFKC + casefold), so the members API finds the member by any Unicode form, width or case of it."""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import TenantCreds, body, paid_event, post_webhook

JOSE = "josé.garcía@example.com"


@pytest.mark.parametrize(
    "searched",
    [unicodedata.normalize("NFC", JOSE), "ＪＯＳÉ.ＧＡＲＣÍＡ＠ＥＸＡＭＰＬＥ．ＣＯＭ", "JOSÉ.GARCÍA@Example.com"],
    ids=["nfc", "fullwidth", "capitals"],
)
def test_a_member_is_found_by_any_form_of_the_email_an_order_carried(
    client: Any, tenant: TenantCreds, searched: str
) -> None:
    # Given an order whose customer e-mail was written decomposed (NFD, as macOS keyboards send it)
    customer = {"id": "c1", "email": unicodedata.normalize("NFD", JOSE)}
    assert post_webhook(client, tenant, paid_event("o1", customer=customer)).status_code == 200
    # When the merchant looks the member up by another form of the same address
    response = client.http.get(f"/v1/tenants/{tenant.tenant_id}/members?email={quote(searched)}", headers=tenant.auth)
    # Then the member is found, and its e-mail is stored in the one form
    assert response.status_code == 200, response.body
    assert body(response)["members"] == [{"member_id": "c1"}]
    view = client.http.get(f"/v1/tenants/{tenant.tenant_id}/members/c1", headers=tenant.auth)
    assert body(view)["email"] == unicodedata.normalize("NFC", JOSE)
