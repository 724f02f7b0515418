"""Wiring only (SPEC §10): one Blueprint per functions/ module and the Powertools middleware."""

from chalice import Chalice, ConvertToMiddleware

from functions import checkout, grants, health, members, platforms, program, reports, schedules, transfers, webhooks
from shared.observability import CORRELATION_PATH, logger, metrics, traced

# configure_logs=False: Chalice's own logger is named after the app, the same "loyalty" logger Powertools writes to;
# left on, Chalice would set its level to ERROR when it finds no handler and every INFO line would be lost.
app = Chalice(app_name="loyalty", configure_logs=False)
# Every middleware is of event type "all": routes, schedules and the SQS worker alike (tests/unit/test_middleware.py).
# Correlation id: the API Gateway request id, or a scheduled event's id (the run id); the webhook routes replace it
# with the webhook id, the SQS worker with each task's run or grant id.
app.register_middleware(
    ConvertToMiddleware(logger.inject_lambda_context(correlation_id_path=CORRELATION_PATH, clear_state=True))
)
app.register_middleware(ConvertToMiddleware(metrics.log_metrics))
app.register_middleware(ConvertToMiddleware(traced))

for module in (health, webhooks, platforms, checkout, members, program, grants, reports, schedules, transfers):
    app.register_blueprint(module.bp)
