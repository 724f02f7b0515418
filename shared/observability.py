"""Powertools Logger, Metrics and Tracer: created once, wired to every handler by app.py.

Logs are JSON with the correlation id (webhook id, API request id, scheduled run id) and the tenant id; no
secrets, API keys, phone numbers or e-mail addresses are ever passed to the logger, and the formatter masks them
anyway should one slip through (shared/log_masking.py).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from shared.log_masking import MaskingFormatter

# A read-only request records no metric; that is normal here, not worth a warning per request.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger(service="loyalty", logger_formatter=MaskingFormatter())
metrics = Metrics(namespace="Loyalty", service="loyalty")
# Only botocore is patched: it is the one library we call, and patching all of them costs ~25 ms of cold start.
tracer = Tracer(service="loyalty", patch_modules=["botocore"])

# The API Gateway request id of a route; the event id (the run id) of a scheduled event.
CORRELATION_PATH = f"{correlation_paths.API_GATEWAY_REST} || id"


def traced(handler: Callable[..., Any]) -> Callable[..., Any]:
    """A Lambda handler in an X-Ray subsegment, without its response as metadata: a route's response may hold a
    member's e-mail or phone, and X-Ray is not masked like the logs."""
    return tracer.capture_lambda_handler(handler, capture_response=False)


_PHONE = re.compile(r"\+?\d[\d ()-]{5,}\d")
_EMAIL = re.compile(r"[^\s@:;,<>\"']+@[^\s@:;,<>\"']+")


def redact(text: str | None) -> str | None:
    """A provider's error message without the phone numbers and e-mail addresses it may quote."""
    if text is None:
        return None
    return _PHONE.sub("<phone>", _EMAIL.sub("<email>", text))


__all__ = ["CORRELATION_PATH", "MetricUnit", "logger", "metrics", "redact", "traced", "tracer"]
