"""Writes docs/openapi.json (OpenAPI 3.1) from the request models the handlers validate with (shared/api_models.py,
shared/program.py) and the response models (shared/api_responses.py); tests check it against the app's routes, with
openapi-spec-validator, against real answers (tests/integration/test_response_schemas.py) and with schemathesis
against the deployed stack (tests/deployed/test_schemathesis.py).

Run ``python scripts/openapi.py`` after changing a route, a request or a response model.
"""

from __future__ import annotations

import copy
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared import api_responses as out
from shared.api_models import (
    AbcQuery,
    CabinetLoginIn,
    CabinetProfileIn,
    CabinetTransferIn,
    CabinetVerifyIn,
    CancelledEvent,
    CaptureIn,
    FeedbackIn,
    FeedbackQuery,
    GrantId,
    GrantIn,
    HistoryQuery,
    HoldIn,
    MemberId,
    MemberUpdateIn,
    PaidEvent,
    QuoteIn,
    RefundedEvent,
    TransferBody,
)
from shared.campaigns import ID_PATTERN, CampaignPatch
from shared.card import TOKEN_PATTERN
from shared.program import ProgramSettings
from shared.tenants import TENANT_ID

OUT = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"
T = "/v1/tenants/{tenant_id}"
DIALECT = "https://spec.openapis.org/oas/3.1/dialect/base"
REF = "#/components/schemas/{model}"

ERROR_TEXT = {
    "400": "the body is not JSON (`malformed_json`), nests too deeply (`too_deeply_nested`), a platform payload "
    "lacks a field its topic needs (`malformed_payload`), or a cursor was not issued here (`invalid_cursor`)",
    "401": "a webhook's signature, its timestamp or its tenant does not match (`invalid_signature`, one answer for "
    "all), a merchant route was called without a Bearer key (`missing_api_key`, with `WWW-Authenticate`), or the "
    "cabinet's code is wrong or spent (`invalid_code`, `code_expired`) or its session is missing (`not_logged_in`)",
    "403": "the key has no access to this tenant (`forbidden`), the setting is the operator's (`operator_setting`), "
    "or the shop's cabinet is closed (`cabinet_closed`: the tenant is suspended)",
    "404": "no such resource (`hold_not_found`, `grant_not_found`, `member_not_found`, `order_not_found`, "
    "`tenant_not_found` of a cabinet, ...)",
    "409": "the request conflicts with an earlier one (idempotency key reused with another body, hold not active, "
    "the order has another open hold `hold_exists` or its points were captured `order_already_redeemed`, ...)",
    "413": "the body is over the route's limit (`payload_too_large`)",
    "415": "`Content-Type` is not one the route accepts (`unsupported_media_type`)",
    "422": "a field is invalid (`validation_error`, `details` lists them) or a business rule refuses the request "
    "(`insufficient_points`, `currency_mismatch`, `unknown_event_type`, `transfers_disabled`, ...)",
    "429": "API Gateway's throttling (`rate_limited`, with `Retry-After`; no Lambda ran), or a cabinet login limit "
    "(`resend_too_soon`, `too_many_codes`, `too_many_attempts`, `rate_limited`, with `Retry-After`) or transfer tries "
    "(`too_many_transfers`)",
    "504": "API Gateway's timeout (`gateway_timeout`): the request may or may not have taken effect; retry it with "
    "the same idempotency key",
    "503": "the tenant is suspended (`tenant_suspended`, with `Retry-After`) or a transient fault "
    "(`temporarily_unavailable`): retry later",
}
API = frozenset({"401", "403", "415", "503"})  # every Bearer route: no key, wrong key, Content-Type, suspended
JSON_BODY = API | {"400", "413", "422"}  # and every route that reads a JSON body
WEBHOOK = frozenset({"400", "401", "413", "415", "422", "503"})
CABINET = frozenset({"400", "403", "404", "413", "415", "422", "503"})  # a customer's cabinet route: no API key
GATEWAY = frozenset({"429", "504"})  # API Gateway's own answers on any route (infra/resources.json gateway responses)


@dataclass(frozen=True)
class Route:
    summary: str
    ok: dict[str, type[BaseModel]]  # success status -> response model
    errors: frozenset[str]
    body: str | None = None  # a component name
    body_required: bool = True
    query: type[BaseModel] | None = None
    headers: tuple[tuple[str, str], ...] = ()  # (header, description)
    headers_required: bool = True
    security: str = "bearer"
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # query parameters written out (no model)
    media: str = ""  # the cabinet's page and its assets: their 200 is this media type, not a JSON model


PLATFORMS = {
    "shopify": Route(
        "Shopify webhook (orders/paid, refunds/create, orders/cancelled)",
        {"200": out.PlatformResultOut},
        WEBHOOK,
        body="ShopifyPayload",
        body_required=False,
        headers=(
            ("X-Shopify-Topic", "orders/paid, refunds/create or orders/cancelled; any other topic is ignored (200)"),
            ("X-Shopify-Webhook-Id", "the delivery's id (with X-Shopify-Event-Id, the deduplication key)"),
        ),
        headers_required=False,
        security="shopifyHmac",
    ),
    "stripe": Route(
        "Stripe webhook (checkout.session.completed, checkout.session.async_payment_succeeded, charge.refunded)",
        {"200": out.PlatformResultOut},
        WEBHOOK,
        body="StripeEvent",
        body_required=False,
        security="stripeSignature",
    ),
    "woocommerce": Route(
        "WooCommerce webhook (order.created, order.updated, order.deleted; refunds inside order.updated); the "
        "unsigned creation ping (form body `webhook_id=<id>`, no topic) gets 200",
        {"200": out.PlatformResultOut},
        WEBHOOK,
        body="WooCommerceOrder",
        body_required=False,
        headers=(("X-WC-Webhook-Topic", "order.created, order.updated or order.deleted; others are ignored (200)"),),
        headers_required=False,
        security="wooSignature",
    ),
}

ROUTES: dict[tuple[str, str], Route] = {
    ("/v1/health", "get"): Route("Liveness", {"200": out.HealthOut}, frozenset({"415"}), security=""),
    (T + "/webhooks/standard", "post"): Route(
        "Order event signed with Standard Webhooks (order.paid, order.refunded, order.cancelled)",
        {"200": out.OrderResultOut},
        WEBHOOK | {"404", "409"},
        body="OrderEvent",
        headers=(
            ("webhook-id", "the delivery's id: the deduplication key"),
            ("webhook-timestamp", "Unix seconds, within 5 minutes of the server's clock"),
        ),
        security="standardWebhook",
    ),
    **{(T + f"/webhooks/{platform}", "post"): route for platform, route in PLATFORMS.items()},
    (T + "/checkout/quote", "post"): Route(
        "What a cart can redeem and earn", {"200": out.QuoteOut}, JSON_BODY, body="QuoteIn"
    ),
    (T + "/holds", "post"): Route(
        "Reserve points for an order", {"201": out.HoldOut}, JSON_BODY | {"404", "409"}, body="HoldIn"
    ),
    (T + "/holds/{hold_id}/capture", "post"): Route(
        "Spend held points (fewer than held releases the rest); a repeat with the same points answers the first "
        "result, with other points 409 `capture_differs`",
        {"200": out.HoldOut},
        JSON_BODY | {"404", "409"},
        body="CaptureIn",
        body_required=False,
    ),
    (T + "/holds/{hold_id}/release", "post"): Route(
        "Release a hold (any body is ignored)", {"200": out.HoldOut}, API | {"404", "409"}
    ),
    (T + "/members", "get"): Route(
        "Find members by `?email=` or `?phone=` (E.164): exactly one of them",
        {"200": out.MembersOut},
        API | {"422"},
        extra={"email": {"type": "string"}, "phone": {"type": "string"}},
    ),
    (T + "/members/{member_id}", "get"): Route(
        "Balances and every open lot, soonest-expiring first", {"200": out.MemberOut}, API | {"404", "422"}
    ),
    (T + "/members/{member_id}", "put"): Route(
        "Contact data and per-channel consent (fields given replace stored ones)",
        {"200": out.ContactOut},
        JSON_BODY,
        body="MemberUpdateIn",
    ),
    (T + "/members/{member_id}/history", "get"): Route(
        "Ledger entries and messages, newest first", {"200": out.HistoryOut}, API | {"400", "422"}, query=HistoryQuery
    ),
    (T + "/reports/abc", "get"): Route(
        "VIP by ABC analysis of a period (metric and period default to the `vip` settings, else revenue over 365 days)",
        {"200": out.AbcReportOut},
        API | {"422"},
        query=AbcQuery,
    ),
    (T + "/program", "get"): Route("Current program settings", {"200": out.ProgramOut}, API),
    (T + "/program", "put"): Route(
        "Change program settings: the fields given replace the current ones (a subset keeps the rest); the result "
        "is validated as a whole and applies as a new version to orders paid from now on",
        {"200": out.ProgramOut},
        JSON_BODY | {"409"},
        body="ProgramSettingsPatch",
    ),
    (T + "/campaigns", "post"): Route(
        "Create a campaign (version 1, in force from now; `draft` unless `status` says otherwise): `kind` picks the "
        "shape of `audience`; the variants' `weight_bp` add up to 10,000; 409 `campaign_exists` for a taken id, 422 "
        "`too_many_campaigns` past 100 a tenant",
        {"201": out.CampaignOut},
        JSON_BODY | {"409"},
        body="CampaignIn",
    ),
    (T + "/campaigns", "get"): Route(
        "The tenant's campaigns, each at its current version", {"200": out.CampaignsOut}, API
    ),
    (T + "/campaigns/{campaign_id}", "get"): Route(
        "A campaign at its current version, or at `?version=` (404 `campaign_not_found`, `campaign_version_not_found`)",
        {"200": out.CampaignOut},
        API | {"404", "422"},
        extra={"version": {"type": "integer", "minimum": 1, "maximum": 999_999}},
    ),
    (T + "/campaigns/{campaign_id}", "put"): Route(
        "Change a campaign: the fields given replace the current ones (a subset keeps the rest, `null` removes an "
        "optional one); the result is validated as a whole and saved as the next version, in force from now. Once "
        "the campaign has been active its `holdout_bp` and its variants' ids and weights are frozen (409 "
        "`assignment_frozen`); an ended campaign changes no more (409 `campaign_ended`); 404 `campaign_not_found`",
        {"200": out.CampaignOut},
        JSON_BODY | {"404", "409"},
        body="CampaignPatch",
    ),
    (T + "/grants", "post"): Route(
        "Holiday / bulk grant to a segment (all members, a tier, or up to 10,000 member ids); runs asynchronously, "
        "exactly once per member; `grant_id` is the idempotency key (the same id and body return the same grant)",
        {"202": out.GrantOut},
        JSON_BODY | {"409"},
        body="GrantIn",
    ),
    (T + "/grants/{grant_id}", "get"): Route(
        "A bulk grant and its progress", {"200": out.GrantOut}, API | {"404", "422"}
    ),
    (T + "/cabinet/login", "post"): Route(
        "Customer cabinet: ask for a login code by e-mail or SMS; the same answer whether or not the contact is a "
        "member's (a code is sent only if it is, or if the shop lets customers join: `cabinet.self_enrolment`); a "
        "code lives 10 minutes, a new one after 60 s, 5 an hour",
        {"202": out.CabinetCodeOut},
        CABINET,
        body="CabinetLoginIn",
        security="",
    ),
    (T + "/cabinet/verify", "post"): Route(
        "Customer cabinet: give the code back (5 tries); opens a 24-hour session in the `cabinet_session` cookie. "
        "A code of a contact that is no member's, in a shop that lets customers join, makes a new member (`cab-…`) "
        "with the contact and the program's `cabinet.welcome_bonus_points` in a lot of their own, once",
        {"200": out.CabinetSessionOut},
        CABINET | {"401"},
        body="CabinetVerifyIn",
        security="",
    ),
    (T + "/cabinet/shop", "get"): Route(
        "Customer cabinet: the shop's name, colour and language, and how one may log in (no session; no member data)",
        {"200": out.CabinetShopOut},
        frozenset({"403", "404", "415", "503"}),
        security="",
    ),
    (T + "/cabinet", "get"): Route(
        "Customer cabinet: the web page (HTML; no session needed, it asks `shop` and `me`); a strict "
        "Content-Security-Policy, never framed",
        {},
        frozenset({"415"}),
        security="",
        media="text/html",
    ),
    (T + "/cabinet/app.js", "get"): Route(
        "Customer cabinet: the page's script (cached for a year: the page links it by a hash of its content)",
        {},
        frozenset({"415"}),
        security="",
        media="text/javascript",
    ),
    (T + "/cabinet/app.css", "get"): Route(
        "Customer cabinet: the page's style sheet (cached for a year: the page links it by a hash of its content)",
        {},
        frozenset({"415"}),
        security="",
        media="text/css",
    ),
    (T + "/cabinet/me", "get"): Route(
        "Customer cabinet: the customer's own balances and every open lot with its expiry (the merchant's member "
        "view), the spend still needed for the next tier, and the referral code in a link to share",
        {"200": out.CabinetMeOut},
        frozenset({"401", "403", "404", "415", "503"}),
        security="cabinetSession",
    ),
    (T + "/cabinet/me/history", "get"): Route(
        "Customer cabinet: the customer's entries and the messages sent to them, newest first (the merchant's "
        "member history); `next_cursor` opens the next page, of this member only",
        {"200": out.HistoryOut},
        frozenset({"400", "401", "403", "404", "415", "422", "503"}),
        security="cabinetSession",
        query=HistoryQuery,
    ),
    (T + "/cabinet/logout", "post"): Route(
        "Customer cabinet: end the session of the `cabinet_session` cookie, if any (any body is ignored; without a "
        "session it answers the same)",
        {"200": out.CabinetLogoutOut},
        frozenset({"404", "415", "503"}),
        security="",
    ),
    (T + "/cabinet/me/profile", "put"): Route(
        "Customer cabinet: the questionnaire, name, birthday and consent per channel (fields given replace stored "
        "ones, as the merchant's `PUT members/{member_id}`; e-mail and phone are 422 here: `me/contact`). A birthday "
        "is the customer's to set once (409 `birthday_locked` to move it: the merchant corrects it); one in the "
        "future or before 1900 is 422",
        {"200": out.ContactOut},
        CABINET | {"401", "409"},
        body="CabinetProfileIn",
        security="cabinetSession",
    ),
    (T + "/cabinet/me/contact", "post"): Route(
        "Customer cabinet: a new e-mail or phone; a 6-digit code goes to it (the login's limits and SMS countries), "
        "the same answer whoever's it is. The contact is stored only by `me/contact/verify`",
        {"202": out.CabinetCodeOut},
        CABINET | {"401", "429"},
        body="CabinetLoginIn",
        security="cabinetSession",
    ),
    (T + "/cabinet/me/contact/verify", "post"): Route(
        "Customer cabinet: the new contact's code back (5 tries, 10 minutes; a login code does not do): the contact "
        "is stored on the profile, unless it is another member's of the shop (409 `contact_taken`)",
        {"200": out.ContactOut},
        CABINET | {"401", "409", "429"},
        body="CabinetVerifyIn",
        security="cabinetSession",
    ),
    (T + "/cabinet/me/transfers", "post"): Route(
        "Customer cabinet: send points to a friend, by the friend's phone (international form), e-mail or referral "
        "code, under the program's `transfer` rules; `transfer_id` (the page's, 8-64 of A-Z a-z 0-9 _ -) is the "
        "idempotency key: a retry answers the first transfer, 200 `duplicate`. No such friend, or several, is 404 "
        "`recipient_not_found`; oneself 422 `self_transfer`; at most 20 tries an hour (429 `too_many_transfers`)",
        {"201": out.CabinetTransferOut, "200": out.CabinetTransferOut},
        CABINET | {"401", "409", "429"},
        body="CabinetTransferIn",
        security="cabinetSession",
    ),
    (T + "/cabinet/me/feedback", "post"): Route(
        "Customer cabinet: rate one of the customer's paid orders (score 1-5, a comment); once per order (409 "
        "`feedback_exists`); another's order or an unpaid one is 404 `order_not_found`. The shop's reward, if any, is "
        "the same whatever the score; a score of 1-2 is sent to the shop's staff as a complaint",
        {"201": out.FeedbackOut},
        CABINET | {"401", "409"},
        body="FeedbackIn",
        security="cabinetSession",
    ),
    (T + "/feedback", "get"): Route(
        "Customers' ratings created at or after `since` (at most 92 days ago, 422 `since_too_old`; default 30 days), "
        "oldest first; `next_cursor` opens the next page",
        {"200": out.FeedbackListOut},
        API | {"400", "422"},
        query=FeedbackQuery,
    ),
    (T + "/cabinet/me/card", "get"): Route(
        "Customer cabinet: the customer's digital card, an opaque token (no phone or member id in it) and its QR code "
        "to show at the till; the first call creates the card, later ones show the same until it is rotated",
        {"200": out.CardOut},
        frozenset({"401", "403", "404", "415", "503"}),
        security="cabinetSession",
    ),
    (T + "/cabinet/me/card/rotate", "post"): Route(
        "Customer cabinet: a new card token (a lost phone); the old one stops resolving at once (any body is ignored)",
        {"200": out.CardOut},
        frozenset({"401", "403", "404", "415", "503"}),
        security="cabinetSession",
    ),
    (T + "/members/by-card/{token}", "get"): Route(
        "The member of a scanned digital card (the member view, as GET members/{member_id}); a token of a rotated "
        "card, another shop's or none is 404 `card_not_found`, what is no card token 422 `invalid_card_token`",
        {"200": out.MemberOut},
        API | {"404", "422"},
    ),
    (T + "/transfers", "post"): Route(
        "Move points to another member (program setting `transfer`); `transfer_id` is the idempotency key: a retry "
        "answers the first transfer, 200 with `status: duplicate`",
        {"201": out.TransferOut, "200": out.TransferOut},
        JSON_BODY | {"404", "409"},
        body="TransferBody",
    ),
}

PATH_PATTERNS: dict[str, dict[str, Any]] = {
    "tenant_id": {"type": "string", "pattern": TENANT_ID.pattern},
    "member_id": {"type": "string", "pattern": MemberId.__metadata__[0].pattern},
    "grant_id": {"type": "string", "pattern": GrantId.__metadata__[0].pattern},
    "token": {
        "type": "string",
        "pattern": TOKEN_PATTERN,
        "description": "a card token (`LC-` and 32 base32 characters, any case) as the customer's QR code holds it",
    },
    "campaign_id": {"type": "string", "pattern": ID_PATTERN},
    "hold_id": {"type": "string", "minLength": 1, "description": "as issued by POST /holds (`h_` + checkout code)"},
}
# checked by the handler; tenant_id: 403, hold_id: 404
PATH_ERRORS = {"member_id": "422", "grant_id": "422", "token": "422", "campaign_id": "422"}


def _path_parameters(path: str) -> list[dict[str, Any]]:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    return [{"name": n, "in": "path", "required": True, "schema": PATH_PATTERNS[n]} for n in names]


def _query_parameters(route: Route, schemas: dict[str, Any]) -> list[dict[str, Any]]:
    properties = dict(route.extra)
    if route.query is not None:
        properties |= {k: _not_null(v) for k, v in schemas[route.query.__name__]["properties"].items()}
    return [{"name": name, "in": "query", "required": False, "schema": schema} for name, schema in properties.items()]


def _header_parameters(route: Route) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "header",
            "required": route.headers_required,
            "description": text,
            "schema": {"type": "string"},
        }
        for name, text in route.headers
    ]


def _responses(route: Route) -> dict[str, Any]:
    def json_of(name: str) -> dict[str, Any]:
        return {"application/json": {"schema": {"$ref": REF.format(model=name)}}}

    responses: dict[str, Any] = {
        status: {"description": (model.__doc__ or model.__name__).strip().splitlines()[0], "content": json_of(name)}
        for status, model in route.ok.items()
        for name in [model.__name__]
    }
    if route.media:
        responses["200"] = {"description": route.summary, "content": {route.media: {"schema": {"type": "string"}}}}
    for status in sorted(route.errors | GATEWAY):
        responses[status] = {"description": ERROR_TEXT[status], "content": json_of("Error")}
    if "503" in responses:
        retry = {"description": "seconds to wait (a suspended tenant)", "schema": {"type": "integer"}}
        responses["503"]["headers"] = {"Retry-After": retry}
    responses["429"]["headers"] = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
    return responses


def _operation(path: str, method: str, route: Route, schemas: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": route.summary, "operationId": _operation_id(path, method)}
    params = _path_parameters(path) + _query_parameters(route, schemas) + _header_parameters(route)
    if params:
        op["parameters"] = params
    if route.body is not None:
        schema = {"$ref": REF.format(model=route.body)}
        op["requestBody"] = {"required": route.body_required, "content": {"application/json": {"schema": schema}}}
    op["responses"] = _responses(route)
    op["security"] = [{route.security: []}] if route.security else []
    return op


def _operation_id(path: str, method: str) -> str:
    words = [p.strip("{}") for p in path.removeprefix(T).split("/") if p and p != "v1"]
    return "_".join([method, *words]).replace("-", "_")


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or a string: the ``null`` branch of an optional field does not apply."""
    options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    if len(options) != 1:
        return schema
    rest = {k: v for k, v in schema.items() if k != "anyOf" and not (k == "default" and v is None)}
    return {**options[0], **rest}


REQUESTS: tuple[type[BaseModel], ...] = (
    CabinetLoginIn,
    CabinetProfileIn,
    CabinetVerifyIn,
    CaptureIn,
    GrantIn,
    HoldIn,
    MemberUpdateIn,
    QuoteIn,
    TransferBody,
    CabinetTransferIn,
    FeedbackIn,
    FeedbackQuery,
    PaidEvent,
    RefundedEvent,
    CancelledEvent,
    ProgramSettings,
    out.CampaignIn,
    CampaignPatch,
    AbcQuery,
    HistoryQuery,
)
RESPONSES: tuple[type[BaseModel], ...] = tuple(
    {model for route in ROUTES.values() for model in route.ok.values()} | {out.Error}
)
OPAQUE = {
    "ShopifyPayload": "Shopify's order (orders/paid, orders/cancelled) or refund (refunds/create) object as Shopify "
    "sends it (REST Admin API shape); amounts are decimal strings in the shop's currency",
    "StripeEvent": "a Stripe event object (`{id, object: event, type, data: {object}}`); the checkout session or "
    "charge in `data.object`",
    "WooCommerceOrder": "WooCommerce's order object (REST API v3 shape), or `{id}` for order.deleted",
}


def _components() -> dict[str, Any]:
    models = sorted(set(REQUESTS) | set(RESPONSES), key=lambda m: m.__name__)
    _, schemas = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    components: dict[str, Any] = _without_null_defaults(dict(schemas.get("$defs", {})))
    components["OrderEvent"] = {
        "oneOf": [{"$ref": REF.format(model=m.__name__)} for m in (PaidEvent, RefundedEvent, CancelledEvent)],
        "description": "An order event; `data` is read by `type`",
    }
    patch = copy.deepcopy(components["ProgramSettings"])
    patch.pop("required", None)
    patch["title"] = "ProgramSettingsPatch"
    patch["description"] = "Any subset of ProgramSettings; `version` and `effective_at` are ignored"
    patch["properties"] |= {"version": {}, "effective_at": {}}
    components["ProgramSettingsPatch"] = patch
    for name, text in OPAQUE.items():  # any body: one of an unknown topic is ignored (200), unread
        components[name] = {
            "description": f"{text}. A delivery of a known topic whose body lacks what the topic needs "
            "is a 400 `malformed_payload`; a body of another topic is not read (200, ignored)"
        }
    return components


def _without_null_defaults(node: Any) -> Any:
    """Drop ``default: null`` where null is not allowed: a response field that is omitted when empty (its type is
    ``X | SkipJsonSchema[None]``) has no default on the wire, and a validator checks defaults against the type."""
    if isinstance(node, list):
        return [_without_null_defaults(item) for item in node]
    if not isinstance(node, dict):
        return node
    nullable = node.get("type") == "null" or any(o.get("type") == "null" for o in node.get("anyOf", []))
    return {
        key: _without_null_defaults(value)
        for key, value in node.items()
        if not (key == "default" and value is None and not nullable and ("type" in node or "$ref" in node))
    }


SECURITY = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "the tenant's API key"},
    "standardWebhook": {"type": "apiKey", "in": "header", "name": "webhook-signature"},
    "shopifyHmac": {"type": "apiKey", "in": "header", "name": "X-Shopify-Hmac-Sha256"},
    "stripeSignature": {"type": "apiKey", "in": "header", "name": "Stripe-Signature"},
    "wooSignature": {"type": "apiKey", "in": "header", "name": "X-WC-Webhook-Signature"},
    "cabinetSession": {"type": "apiKey", "in": "cookie", "name": "cabinet_session", "description": "set by verify"},
}


def build() -> dict[str, Any]:
    components = _components()
    paths: dict[str, dict[str, Any]] = {}
    for (path, method), route in sorted(ROUTES.items()):
        paths.setdefault(path, {})[method] = _operation(path, method, route, components)
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": DIALECT,
        "info": {"title": "Loyalty platform API", "version": "1.0.0"},
        "components": {"schemas": components, "securitySchemes": SECURITY},
        "paths": paths,
    }


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    OUT.write_text(render())
    print(f"wrote {OUT}")
