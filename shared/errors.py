"""Errors with a stable machine-readable ``code`` and the HTTP status they map to.

Domain and service code raise these; the HTTP layer turns them into
``{"error": {"code": ..., "message": ...}}`` bodies. Anything else is a bug (500).
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


class BadRequest(AppError):
    status, code = 400, "bad_request"


class Unauthorized(AppError):
    status, code = 401, "invalid_signature"


class Forbidden(AppError):
    status, code = 403, "forbidden"


class NotFound(AppError):
    status, code = 404, "not_found"


class Conflict(AppError):
    status, code = 409, "conflict"


class PayloadTooLarge(AppError):
    status, code = 413, "payload_too_large"


class Unprocessable(AppError):
    status, code = 422, "validation_error"


class InsufficientPoints(Unprocessable):
    code = "insufficient_points"


class TooManyRequests(AppError):
    """A limit on something guessable or costly (login codes): 429 with ``Retry-After``."""

    status, code = 429, "rate_limited"

    def __init__(self, message: str, *, code: str | None = None, retry_after_seconds: int = 60) -> None:
        super().__init__(message, code=code)
        self.retry_after_seconds = max(1, retry_after_seconds)


class TenantSuspended(AppError):
    """The tenant is suspended by an operator (scripts/ops.py suspend-tenant): nothing is recorded, and the
    sender is asked to retry later (a platform retries a 5xx; ``Retry-After`` says when)."""

    status, code = 503, "tenant_suspended"
    retry_after_seconds = 300


class Transient(AppError):
    """A fault worth retrying (throttling, contention). Answered 503 so senders retry."""

    status, code = 503, "temporarily_unavailable"
