"""The CloudWatch dashboard body of infra/resources.json (written by scripts/infra_monitoring.py).

The body is a JSON string for ``Fn::Sub``: ``${AWS::Region}``, ``${Stage}``, function, table and queue logical ids
are replaced by CloudFormation; ``${Alarm.Arn}`` by the alarms' ARNs.
"""

from __future__ import annotations

import json
from typing import Any

NAMESPACE = "Loyalty"
SERVICE = ["service", "loyalty"]
API = ["ApiName", "loyalty-${Stage}", "Stage", "api"]
WEBHOOK_OUTCOMES = ("applied", "duplicate", "ignored", "rejected", "suspended")
POINTS = ("PointsAccrued", "PointsRedeemed", "PointsExpired", "PointsGranted", "PointsTransferred")
NOTIFICATIONS = (
    "NotificationsSent",
    "NotificationsFailed",
    "GrantMessages_sent",
    "GrantMessages_failed",
    "GrantMessages_invalid",
)
TABLES = ("TenantsTable", "LedgerTable")
WIDTH, HEIGHT = 12, 6


def _app(name: str, **options: Any) -> list[Any]:
    return [NAMESPACE, name, *SERVICE, options] if options else [NAMESPACE, name, *SERVICE]


def _metric_widget(title: str, metrics: list[list[Any]], stat: str, period: int, **extra: Any) -> dict[str, Any]:
    properties = {
        "title": title,
        "region": "${AWS::Region}",
        "view": "timeSeries",
        "stacked": False,
        "stat": stat,
        "period": period,
        "metrics": metrics,
        **extra,
    }
    return {"type": "metric", "properties": properties}


def _throttle_metrics() -> list[list[Any]]:
    rows: list[list[Any]] = []
    for table in TABLES:
        rows.append(["AWS/DynamoDB", "ReadThrottleEvents", "TableName", f"${{{table}}}"])
        rows.append(["AWS/DynamoDB", "WriteThrottleEvents", "TableName", f"${{{table}}}"])
    for number, table in enumerate(TABLES):
        name = table.removesuffix("Table").lower()
        for metric, dims in (
            ("ThrottledRequests", "TableName,Operation"),
            ("WriteThrottleEvents", "TableName,GlobalSecondaryIndexName"),
        ):
            query = f"SEARCH('{{AWS/DynamoDB,{dims}}} MetricName=\"{metric}\" TableName=\"${{{table}}}\"', 'Sum', 300)"
            ident = f"{'op' if metric == 'ThrottledRequests' else 'gsi'}{number}"
            label = f"{name} {metric}" if metric == "ThrottledRequests" else f"{name} index {metric}"
            rows.append([{"expression": query, "label": label, "id": ident}])
    return rows


def widgets(functions: list[str], alarms: list[str], deadline_seconds: int) -> list[dict[str, Any]]:
    webhook: list[list[Any]] = [_app(f"Webhook_{outcome}") for outcome in WEBHOOK_OUTCOMES]
    webhook += [["AWS/ApiGateway", "4XXError", *API], ["AWS/ApiGateway", "5XXError", *API]]
    cost: list[list[Any]] = [
        _app("NotificationCostUsdMicros", id="micros", visible=False),
        [{"expression": "micros / 1000000", "label": "USD", "id": "usd"}],
    ]
    queues: list[list[Any]] = [
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "${SweepDeadLetterQueue.QueueName}"],
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "${SweepQueue.QueueName}"],
        ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", "${SweepQueue.QueueName}", {"yAxis": "right"}],
    ]
    expiry: list[list[Any]] = [
        _app("ExpiryRunAgeSeconds"),
        ["AWS/Lambda", "Invocations", "FunctionName", "${ExpirePoints}", {"stat": "Sum", "yAxis": "right"}],
    ]
    deadline = {"annotations": {"horizontal": [{"label": "deadline", "value": deadline_seconds}]}}
    api: list[list[Any]] = [
        ["AWS/ApiGateway", "Count", *API],
        ["AWS/ApiGateway", "Latency", *API, {"stat": "p99", "yAxis": "right"}],
    ]
    return [
        {
            "type": "alarm",
            "properties": {"title": "Alarms", "alarms": [f"${{{alarm}.Arn}}" for alarm in alarms]},
        },
        _metric_widget("Webhook outcomes and API errors", webhook, "Sum", 300),
        _metric_widget("API requests and p99 latency (ms)", api, "Sum", 300),
        _metric_widget(
            "Points accrued, redeemed, expired, granted, transferred (per hour)", [_app(p) for p in POINTS], "Sum", 3600
        ),
        _metric_widget("Notifications sent and failed (per hour)", [_app(n) for n in NOTIFICATIONS], "Sum", 3600),
        _metric_widget("Notification cost, USD (per hour)", cost, "Sum", 3600),
        _metric_widget("DynamoDB throttles", _throttle_metrics(), "Sum", 300),
        _metric_widget(
            "Lambda errors", [["AWS/Lambda", "Errors", "FunctionName", f"${{{f}}}"] for f in functions], "Sum", 300
        ),
        _metric_widget(
            "Lambda throttles",
            [["AWS/Lambda", "Throttles", "FunctionName", f"${{{f}}}"] for f in functions],
            "Sum",
            300,
        ),
        _metric_widget("Sweep queue and dead letters", queues, "Maximum", 300),
        _metric_widget("Expiry run age (s) and ExpirePoints invocations", expiry, "Maximum", 300, **deadline),
    ]


def dashboard(functions: list[str], alarms: list[str], deadline_seconds: int) -> str:
    """The dashboard body, widgets two to a row."""
    placed = []
    for index, widget in enumerate(widgets(functions, alarms, deadline_seconds)):
        full = widget["type"] == "alarm"
        row = 0 if full else 1 + (index - 1) // 2
        x = 0 if full else ((index - 1) % 2) * WIDTH
        height = 3 if full else HEIGHT
        placed.append(
            {
                **widget,
                "x": x,
                "y": 0 if full else 3 + (row - 1) * HEIGHT,
                "width": 24 if full else WIDTH,
                "height": height,
            }
        )
    return json.dumps({"widgets": placed}, separators=(",", ":"))
