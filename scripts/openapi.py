"""Writes docs/openapi.json from the request models; tests check it against the app's routes.

Run ``python scripts/openapi.py`` after changing a route or a request model.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.api_models import (
    CaptureIn,
    Envelope,
    GrantIn,
    HoldIn,
    MemberUpdateIn,
    OrderCancelledData,
    OrderPaidData,
    OrderRefundedData,
    QuoteIn,
    TransferBody,
)
from shared.program import ProgramSettings

OUT = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"
T = "/v1/tenants/{tenant_id}"
ERRORS = {"400", "401", "403", "404", "409", "413", "422", "503"}

PLATFORM_ERRORS = {"400", "401", "413", "422", "503"}
PLATFORM_RESULT = (
    "`{topic, results: [{status: applied|duplicate|ignored|rejected, order_id, member_id, points_earned, "
    "points_redeemed, points_reversed, points_restored, balance, reason}]}`; unknown topics are ignored"
)
PLATFORMS = [
    ("shopify", "Shopify webhook (orders/paid, refunds/create, orders/cancelled)", "signed X-Shopify-Hmac-Sha256"),
    ("stripe", "Stripe webhook (checkout.session.completed, charge.refunded)", "signed Stripe-Signature"),
    (
        "woocommerce",
        "WooCommerce webhook (order.created, order.updated; refunds inside order.updated)",
        "signed X-WC-Webhook-Signature; the unsigned creation ping gets 200",
    ),
]

# (path, method): (summary, request model, success status, response description, error statuses)
ROUTES: dict[tuple[str, str], tuple[str, type[BaseModel] | None, str, str, set[str]]] = {
    ("/v1/health", "get"): ("Liveness", None, "200", "`{status: ok}`", set()),
    (T + "/webhooks/standard", "post"): (
        "Order event signed with Standard Webhooks (order.paid, order.refunded, order.cancelled)",
        Envelope,
        "200",
        "`{status: applied|duplicate|ignored, order_id, member_id, points_earned, points_redeemed, "
        "points_reversed, points_restored, balance, reason}`",
        {"400", "401", "404", "409", "413", "422", "503"},
    ),
    **{
        (T + f"/webhooks/{platform}", "post"): (f"{title}; {what}", None, "200", PLATFORM_RESULT, PLATFORM_ERRORS)
        for platform, title, what in PLATFORMS
    },
    (T + "/checkout/quote", "post"): (
        "What a cart can redeem and earn",
        QuoteIn,
        "200",
        "`{available, max_redeemable_points, max_discount_minor, points_to_earn, points_to_earn_at_max_redeem}`",
        {"400", "403", "422", "503"},
    ),
    (T + "/holds", "post"): (
        "Reserve points for an order",
        HoldIn,
        "201",
        "`{hold_id, code, order_id, member_id, points, discount_minor, expires_at, status}`; `code` is the "
        "one-time checkout code a platform order's discount code may carry",
        {"400", "403", "409", "422", "503"},
    ),
    (T + "/holds/{hold_id}/capture", "post"): (
        "Spend held points (fewer than held releases the rest)",
        CaptureIn,
        "200",
        "the hold with `status: captured`",
        {"400", "403", "404", "409", "422", "503"},
    ),
    (T + "/holds/{hold_id}/release", "post"): (
        "Release a hold",
        None,
        "200",
        "the hold with `status: released`",
        {"403", "404", "409", "503"},
    ),
    (T + "/members", "get"): (
        "Find members by `?email=` or `?phone=` (E.164)",
        None,
        "200",
        "`{members: [{member_id}]}`",
        {"403", "422"},
    ),
    (T + "/members/{member_id}", "get"): (
        "Balances and every open lot, soonest-expiring first",
        None,
        "200",
        "`{member_id, balance, available, pending, held, debt, tier, lifetime_spend_minor, referral_code, lots: "
        "[{lot_id, points, remaining, source, earned_at, available_at, expires_at}], email, phone, name, birthday, "
        "consent}`",
        {"403", "404", "422"},
    ),
    (T + "/members/{member_id}", "put"): (
        "Contact data and per-channel consent (fields given replace stored ones)",
        MemberUpdateIn,
        "200",
        "the stored contact data",
        {"400", "403", "422"},
    ),
    (T + "/members/{member_id}/history", "get"): (
        "Ledger entries, newest first; `?limit=1..100&cursor=`",
        None,
        "200",
        "`{entries: [{seq, kind, delta, balance_after, debt_change, reference, entry, created_at, lots, details}], "
        "next_cursor}`",
        {"400", "403", "422"},
    ),
    (T + "/reports/abc", "get"): (
        "VIP by ABC analysis of a period: `?metric=revenue|orders&period_days=1..3650&member_id=&limit=1..1000&cursor=` "
        "(metric and period default to the `vip` settings, else revenue over 365 days)",
        None,
        "200",
        "`{metric, period_days, from, to, currency, total, members, classes: {A|B|C: {members, value, share_bp}}, "
        "class_a: [{member_id, value, rank, share_bp, cumulative_share_bp}], next_cursor, member?: {member_id, class, "
        "value, rank}}`",
        {"403", "422", "503"},
    ),
    (T + "/program", "get"): ("Current program settings", None, "200", "the settings with `version`", {"403"}),
    (T + "/program", "put"): (
        "Change program settings (validated; a new version applies to orders paid from now on)",
        ProgramSettings,
        "200",
        "the new version",
        {"400", "403", "409", "422"},
    ),
    (T + "/grants", "post"): (
        "Holiday / bulk grant to a segment (all members, a tier, or up to 10,000 member ids); runs asynchronously, "
        "exactly once per member; `grant_id` is the idempotency key (the same id and body return the same grant)",
        GrantIn,
        "202",
        "the grant as on GET",
        {"400", "403", "409", "413", "422", "503"},
    ),
    (T + "/grants/{grant_id}", "get"): (
        "A bulk grant and its progress",
        None,
        "200",
        "`{grant_id, status: queued|running|done, segment, points, expires_at, reason, notify, targeted, granted, "
        "skipped, failed, notified, tasks: {chains, chains_done, parts_done}, created_at, started_at, finished_at}`",
        {"403", "404", "422"},
    ),
    (T + "/transfers", "post"): (
        "Move points to another member (program setting `transfer`); `transfer_id` is the idempotency key",
        TransferBody,
        "201",
        "`{status: applied, transfer_id, from_member_id, to_member_id, points, lots: [{points, expires_at}], "
        "from_balance, to_balance, month}`; a retry with the same `transfer_id` answers 200 with `status: duplicate`",
        {"400", "403", "404", "409", "422", "503"},
    ),
}


def _parameters(path: str) -> list[dict[str, Any]]:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    return [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in names]


def _operation(path: str, spec: tuple[str, type[BaseModel] | None, str, str, set[str]]) -> dict[str, Any]:
    summary, model, ok, description, errors = spec
    op: dict[str, Any] = {"summary": summary, "parameters": _parameters(path)}
    if model is not None:
        ref = {"$ref": f"#/components/schemas/{model.__name__}"}
        op["requestBody"] = {"required": model is not CaptureIn, "content": {"application/json": {"schema": ref}}}
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    op["responses"] = {ok: {"description": description}} | {
        status: {"description": "error", **error} for status in sorted(errors)
    }
    if path.startswith(T) and "/webhooks/" not in path:
        op["security"] = [{"bearer": []}]
    return op


def build() -> dict[str, Any]:
    used = {spec[1] for spec in ROUTES.values() if spec[1] is not None}
    event_data = {OrderPaidData, OrderRefundedData, OrderCancelledData}  # the `data` of each webhook type
    models = sorted(used | event_data, key=lambda m: m.__name__)
    _, schemas = models_json_schema([(m, "validation") for m in models], ref_template="#/components/schemas/{model}")
    components = dict(schemas.get("$defs", {}))
    components["Error"] = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
            }
        },
    }
    paths: dict[str, dict[str, Any]] = {}
    for (path, method), spec in sorted(ROUTES.items()):
        paths.setdefault(path, {})[method] = _operation(path, spec)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Loyalty platform API", "version": "1.0.0"},
        "components": {"schemas": components, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    }


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    OUT.write_text(render())
    print(f"wrote {OUT}")
