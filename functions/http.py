"""HTTP plumbing shared by the route modules: JSON errors, body parsing, Bearer auth."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

from chalice import Response
from chalice.app import Request
from pydantic import BaseModel, ValidationError

from shared import bounded_json
from shared.container import container
from shared.errors import AppError, BadRequest, PayloadTooLarge, TenantSuspended, Unauthorized, Unprocessable
from shared.observability import MetricUnit, logger, metrics
from shared.tenants import Tenant

M = TypeVar("M", bound=BaseModel)


def respond(body: Any, status: int = 200) -> Response:
    # A fresh headers dict for every answer: Chalice keeps the dict it is given, and a shared one would carry a
    # header set on one answer (a session cookie, Retry-After) into every later answer of the container.
    return Response(body=json.dumps(body), status_code=status, headers={"Content-Type": "application/json"})


class MissingApiKey(Unauthorized):
    """A merchant route called without a Bearer key: 401 with the challenge RFC 9110 asks for."""


def error_response(error: AppError) -> Response:
    response = respond(error.body(), error.status)
    if isinstance(error, MissingApiKey):
        response.headers["WWW-Authenticate"] = "Bearer"
    retry_after = getattr(error, "retry_after_seconds", None)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def validation_error(exc: ValidationError) -> Unprocessable:
    details = [
        {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
        for e in exc.errors(include_url=False, include_input=False)
    ]
    fields = ", ".join(d["field"] for d in details)
    return Unprocessable(f"invalid fields: {fields}", code="validation_error", details=details)


def api_view(view: Callable[..., Response]) -> Callable[..., Response]:
    """Map domain errors to JSON bodies with a stable code; anything unexpected is a 500
    (never a 2xx), logged with its stack but without request data."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except AppError as exc:
            if exc.status >= 500:
                logger.warning("transient failure", extra={"code": exc.code})
            return error_response(exc)
        except ValidationError as exc:
            return error_response(validation_error(exc))
        except Exception:
            logger.exception("unhandled error")
            return respond({"error": {"code": "internal_error", "message": "internal error"}}, 500)

    return wrapper


def raw_body(request: Request, limit: int | None = None) -> bytes:
    body = request.raw_body or b""
    data = body if isinstance(body, bytes) else body.encode()
    limit = limit or container().settings.max_body_bytes
    if len(data) > limit:
        raise PayloadTooLarge(f"body is over {limit} bytes")
    return data


def parse_json(data: bytes) -> Any:
    try:
        return bounded_json.loads(data)
    except bounded_json.TooDeep as exc:
        raise BadRequest(str(exc), code="too_deeply_nested") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("body is not valid JSON", code="malformed_json") from exc


def parse_body(request: Request, model: type[M], limit: int | None = None) -> M:
    payload = parse_json(raw_body(request, limit))
    if not isinstance(payload, dict):
        raise Unprocessable("body must be a JSON object", code="validation_error")
    return model.model_validate(payload)


def webhook_tenant(tenant_id: str) -> Tenant:
    """The tenant a webhook is for; no such tenant is indistinguishable from a bad signature."""
    tenant = container().tenants.get(tenant_id)
    if tenant is None or not tenant.known:
        raise Unauthorized("signature does not match", code="invalid_signature")
    return tenant


def admit_delivery(tenant: Tenant, correlation_id: str | None, **log_keys: str) -> None:
    """A delivery whose signature is verified: its log lines carry its id and the tenant, its EMF line the tenant
    (metadata, never a dimension). A suspended tenant's is refused, 503 and nothing recorded, so that the
    platform's retry after the resume is processed as a first delivery."""
    logger.set_correlation_id(correlation_id)
    logger.append_keys(tenant_id=tenant.tenant_id, **log_keys)
    metrics.add_metadata(key="tenant_id", value=tenant.tenant_id)
    if tenant.suspended:
        metrics.add_metric(name="Webhook_suspended", unit=MetricUnit.Count, value=1)
        logger.warning("webhook refused: tenant suspended")
        raise TenantSuspended("this tenant is suspended; the delivery is not recorded, retry later")


def authorized(request: Request, tenant_id: str) -> Tenant:
    """No Bearer key at all is a 401 (RFC 9110: no credentials); a key that does not open this tenant, or an unknown
    tenant, the same 403 whatever the tenant, so that a key learns nothing about other tenants."""
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise MissingApiKey("send Authorization: Bearer <api key>", code="missing_api_key")
    tenant = container().tenants.authorize(tenant_id, key.strip())
    logger.append_keys(tenant_id=tenant_id)
    return tenant


# Errors Chalice answers itself, before any view runs, in its own shape ({"Code", "Message"}): rewritten to ours
CHALICE_CODES = {"UnsupportedMediaType": "unsupported_media_type", "MethodNotAllowedError": "method_not_allowed"}


def chalice_errors_in_our_shape(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """HTTP middleware: a 415 or 405 of Chalice's router answered as ``{"error": {"code", "message"}}``."""
    response = get_response(event)
    body = response.body
    if isinstance(body, dict) and body.get("Code") in CHALICE_CODES and set(body) == {"Code", "Message"}:
        response.body = json.dumps({"error": {"code": CHALICE_CODES[body["Code"]], "message": body["Message"]}})
        response.headers = {**(response.headers or {}), "Content-Type": "application/json"}
    return response
