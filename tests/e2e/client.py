"""A tiny HTTP client over urllib for the e2e tests: JSON in, (status, JSON) out."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from tests.conftest import TenantCreds, signed_headers


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any

    @property
    def code(self) -> str | None:
        return self.body.get("error", {}).get("code") if isinstance(self.body, dict) else None


def request(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Answer:
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            status, raw = int(response.status), response.read()
    except urllib.error.HTTPError as error:
        status, raw = int(error.code), error.read()
    try:
        return Answer(status, json.loads(raw) if raw else None)
    except ValueError:
        return Answer(status, raw.decode(errors="replace"))


class Api:
    """The merchant API and the webhook of one tenant, over real HTTP."""

    def __init__(self, base: str, creds: TenantCreds) -> None:
        self.base = base
        self.creds = creds

    def url(self, path: str, tenant: str | None = None) -> str:
        return f"{self.base}/v1/tenants/{tenant or self.creds.tenant_id}{path}"

    def get(self, path: str, tenant: str | None = None) -> Answer:
        return request("GET", self.url(path, tenant), headers=self.creds.auth)

    def post(self, path: str, payload: Any = None, tenant: str | None = None, method: str = "POST") -> Answer:
        body = None if payload is None else json.dumps(payload).encode()
        return request(method, self.url(path, tenant), body, self.creds.auth)

    def member(self, member_id: str) -> dict[str, Any]:
        answer = self.get(f"/members/{member_id}")
        assert answer.status == 200, answer
        return dict(answer.body)

    def webhook_raw(self, raw: bytes, headers: dict[str, str], tenant: str | None = None) -> Answer:
        return request("POST", self.url("/webhooks/standard", tenant), raw, headers)

    def webhook(self, event: Any, msg_id: str | None = None) -> Answer:
        raw = json.dumps(event).encode()
        return self.webhook_raw(raw, signed_headers(self.creds.secret, raw, msg_id))

    def history(self, member_id: str, limit: int = 100) -> list[list[dict[str, Any]]]:
        """Every page of the member's history, following the cursor."""
        pages: list[list[dict[str, Any]]] = []
        cursor = ""
        while True:
            answer = self.get(f"/members/{member_id}/history?limit={limit}{cursor}")
            assert answer.status == 200, answer
            pages.append(answer.body["entries"])
            if not answer.body["next_cursor"]:
                return pages
            cursor = "&cursor=" + urllib.parse.quote(answer.body["next_cursor"], safe="")
