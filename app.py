"""Wiring only (SPEC §10): one Blueprint per functions/ module and the Powertools middleware."""

from aws_lambda_powertools.logging import correlation_paths
from chalice import Chalice, ConvertToMiddleware

from functions import checkout, grants, health, members, platforms, program, reports, schedules, transfers, webhooks
from shared.observability import logger, metrics, tracer

# configure_logs=False: Chalice's own logger is named after the app, the same "loyalty" logger Powertools writes to;
# left on, Chalice would set its level to ERROR when it finds no handler and every INFO line would be lost.
app = Chalice(app_name="loyalty", configure_logs=False)
# Correlation id: the API Gateway request id; the webhook route replaces it with the webhook id.
app.register_middleware(
    ConvertToMiddleware(
        logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    )
)
app.register_middleware(ConvertToMiddleware(metrics.log_metrics))
app.register_middleware(ConvertToMiddleware(tracer.capture_lambda_handler))

for module in (health, webhooks, platforms, checkout, members, program, grants, reports, schedules, transfers):
    app.register_blueprint(module.bp)
