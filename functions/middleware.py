"""The Powertools middleware every handler runs in: Lambda context and correlation id in the logs, metrics flushed,
an X-Ray subsegment. Every middleware is of event type "all": routes, schedules and the SQS worker alike
(tests/test_handlers.py runs a packaged starter in it).

app.py registers it on the app for the API function. The scheduled functions and the worker are imported by Lambda
from functions/schedules.py without app.py, so that module attaches the same list to its own handlers.
"""

from __future__ import annotations

from typing import Any

from chalice import ConvertToMiddleware

from shared.observability import CORRELATION_PATH, logger, metrics, traced

# Correlation id: the API Gateway request id, or a scheduled event's id (the run id); the webhook routes replace it
# with the webhook id, the SQS worker with each task's run or grant id.
MIDDLEWARE: tuple[Any, ...] = (
    ConvertToMiddleware(logger.inject_lambda_context(correlation_id_path=CORRELATION_PATH, clear_state=True)),
    ConvertToMiddleware(metrics.log_metrics),
    ConvertToMiddleware(traced),
)


def attach(*handlers: Any) -> None:
    """Give event handlers (a blueprint's schedule and SQS handlers) the middleware an app would give them when it
    registers their blueprint; the app, if one is imported, sets the same list again."""
    for handler in handlers:
        handler.middleware_handlers = list(MIDDLEWARE)
