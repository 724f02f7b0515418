"""Writes the monitoring part of infra/resources.json: the ops topic, one log group and two alarms per Lambda
function, the queue, webhook, expiry and notification alarms, and the dashboard (scripts/infra_dashboard.py).

The functions are read from the Chalice app itself (its routes make ``APIHandler``; every schedule and queue
consumer is a function of its own, named as ``chalice package`` names it), so a new schedule gets its log group
and alarms by running ``python scripts/infra_monitoring.py`` again; ``--check`` exits 1 when the committed file
differs (tests/test_infra_monitoring.py runs the same comparison). Generated resources carry
``Metadata.Generator``; everything else in the file is hand-written and kept as it is.

Metrics of the app are EMF under namespace ``Loyalty`` with the one dimension ``service=loyalty`` (Powertools,
shared/observability.py): the alarms name exactly that dimension set.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.infra_dashboard import dashboard  # noqa: E402
from scripts.infra_tables import TEMPLATE  # noqa: E402

GENERATOR = {"Generator": "scripts/infra_monitoring.py"}
NAMESPACE = "Loyalty"
SERVICE: list[dict[str, Any]] = [{"Name": "service", "Value": "loyalty"}]
API_STAGE = "api"  # .chalice/config.json api_gateway_stage
API_NAME = {"Fn::Sub": "loyalty-${Stage}"}  # the REST API's name: its metrics' ApiName dimension, unique per stage
STAGE_SETTINGS = {"dev": {"LogRetentionDays": 30}, "prod": {"LogRetentionDays": 365}}
EXPIRY_DEADLINE_SECONDS = 2700  # an hourly run started at :05 must be done by :50, before the next one
WEBHOOK_5XX_PERCENT = 5
NOTIFICATION_FAILED_PERCENT = 10
RUNBOOK = "Runbook: docs/runbook.md"
Resource = dict[str, Any]


def function_ids() -> list[str]:
    """Logical ids of the Lambda functions `chalice package` creates for the app, in the app's order."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from chalice.utils import to_cfn_resource_name

    from app import app

    names = ["APIHandler"] if app.routes else []
    names += [to_cfn_resource_name(source.name) for source in app.event_sources]
    names += [to_cfn_resource_name(function.name) for function in app.pure_lambda_functions]
    return names


def _metric(namespace: str, name: str, dimensions: list[dict[str, Any]], stat: str, period: int) -> dict[str, Any]:
    return {
        "Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": dimensions},
        "Stat": stat,
        "Period": period,
    }


def _query(query_id: str, stat: dict[str, Any]) -> dict[str, Any]:
    return {"Id": query_id, "MetricStat": stat, "ReturnData": False}


def _alarm(suffix: str, description: str, **properties: Any) -> Resource:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Metadata": GENERATOR,
        "Properties": {
            "AlarmName": {"Fn::Sub": f"loyalty-${{Stage}}-{suffix}"},
            "AlarmDescription": f"{description} {RUNBOOK}.",
            "ActionsEnabled": True,
            "AlarmActions": [{"Ref": "OpsTopic"}],
            "OKActions": [{"Ref": "OpsTopic"}],
            **properties,
        },
    }


def _lambda_alarm(function: str, metric: str, meaning: str) -> Resource:
    return _alarm(
        f"{function}-{metric.lower()}",
        f"{function}: {meaning} within 5 minutes.",
        Namespace="AWS/Lambda",
        MetricName=metric,
        Dimensions=[{"Name": "FunctionName", "Value": {"Ref": function}}],
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )


def log_group(function: str) -> Resource:
    return {
        "Type": "AWS::Logs::LogGroup",
        "Metadata": GENERATOR,
        "DeletionPolicy": "Delete",
        "UpdateReplacePolicy": "Delete",
        "Properties": {
            "LogGroupName": {"Fn::Sub": f"/aws/lambda/${{{function}}}"},
            "RetentionInDays": {"Fn::FindInMap": ["StageSettings", {"Ref": "Stage"}, "LogRetentionDays"]},
        },
    }


def ops_topic() -> dict[str, Resource]:
    return {
        "OpsTopic": {
            "Type": "AWS::SNS::Topic",
            "Metadata": GENERATOR,
            # Not KMS-encrypted: CloudWatch alarms cannot publish to a topic under the AWS managed SNS key.
            "Properties": {"TopicName": {"Fn::Sub": "loyalty-${Stage}-ops"}, "DisplayName": "Loyalty ops"},
        },
        "OpsEmailSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Metadata": GENERATOR,
            "Condition": "HasOpsEmail",
            "Properties": {"TopicArn": {"Ref": "OpsTopic"}, "Protocol": "email", "Endpoint": {"Ref": "OpsEmail"}},
        },
    }


def function_alarms(functions: list[str]) -> dict[str, Resource]:
    alarms: dict[str, Resource] = {}
    for function in functions:
        alarms[f"{function}ErrorsAlarm"] = _lambda_alarm(
            function, "Errors", "invocations failed (an unhandled exception, a timeout or out of memory)"
        )
        alarms[f"{function}ThrottlesAlarm"] = _lambda_alarm(
            function, "Throttles", "invocations were throttled (account or reserved concurrency exhausted)"
        )
    return alarms


def queue_alarms() -> dict[str, Resource]:
    def queue(name: str) -> list[dict[str, Any]]:
        return [{"Name": "QueueName", "Value": {"Fn::GetAtt": [name, "QueueName"]}}]

    return {
        "SweepDeadLetterQueueDepthAlarm": _alarm(
            "sweep-dlq-not-empty",
            "A sweep task (a shard of a scheduled run, a part of a bulk grant or a VIP classification) failed five "
            "times and was dead-lettered: its work is not done. Read the worker's logs, fix, then redrive the DLQ.",
            Namespace="AWS/SQS",
            MetricName="ApproximateNumberOfMessagesVisible",
            Dimensions=queue("SweepDeadLetterQueue"),
            Statistic="Maximum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=0,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching",
        ),
        "SweepQueueOldestMessageAlarm": _alarm(
            "sweep-queue-stalled",
            f"A sweep task has waited more than {EXPIRY_DEADLINE_SECONDS} s on the queue: the worker is not "
            "consuming (disabled trigger, throttling) or a task keeps failing and comes back after the visibility "
            "timeout.",
            Namespace="AWS/SQS",
            MetricName="ApproximateAgeOfOldestMessage",
            Dimensions=queue("SweepQueue"),
            Statistic="Maximum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=EXPIRY_DEADLINE_SECONDS,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching",
        ),
    }


def webhook_alarm() -> dict[str, Resource]:
    api: list[dict[str, Any]] = [{"Name": "ApiName", "Value": API_NAME}, {"Name": "Stage", "Value": API_STAGE}]
    return {
        "WebhookServerErrorRateAlarm": _alarm(
            "webhook-5xx-rate",
            f"More than {WEBHOOK_5XX_PERCENT}% of API requests (webhooks are most of them) were answered 5xx in two "
            "of three 5-minute periods with at least 20 requests; 503s of suspended tenants (metric "
            "Webhook_suspended) are not counted. Senders retry, so nothing is lost yet: find the cause in the "
            "APIHandler logs (code internal_error or temporarily_unavailable).",
            Metrics=[
                _query("errors", _metric("AWS/ApiGateway", "5XXError", api, "Sum", 300)),
                _query("requests", _metric("AWS/ApiGateway", "Count", api, "Sum", 300)),
                _query("suspended", _metric(NAMESPACE, "Webhook_suspended", SERVICE, "Sum", 300)),
                {
                    "Id": "rate",
                    "Label": "5xx answers, % of requests",
                    "Expression": "IF(requests >= 20, 100 * (errors - FILL(suspended, 0)) / requests, 0)",
                    "ReturnData": True,
                },
            ],
            EvaluationPeriods=3,
            DatapointsToAlarm=2,
            Threshold=WEBHOOK_5XX_PERCENT,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching",
        )
    }


def expiry_alarms() -> dict[str, Resource]:
    return {
        "ExpiryRunLateAlarm": _alarm(
            "expiry-run-late",
            f"A shard of an expiry run finished (or was handed on) more than {EXPIRY_DEADLINE_SECONDS} s after the "
            "run started (metric ExpiryRunAgeSeconds of the sweep worker): points due this hour may still be "
            "spendable. Look at the worker's duration, throttles and the sweep queue.",
            Namespace=NAMESPACE,
            MetricName="ExpiryRunAgeSeconds",
            Dimensions=SERVICE,
            Statistic="Maximum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=EXPIRY_DEADLINE_SECONDS,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching",
        ),
        "ExpiryRunMissingAlarm": _alarm(
            "expiry-run-missing",
            "ExpirePoints was not invoked in two consecutive hours (it runs hourly at :05): the schedule is "
            "disabled or failing to start. Re-run it from the Lambda console with events/scheduled_expire_points.json "
            "(replace time by the run's hour).",
            Namespace="AWS/Lambda",
            MetricName="Invocations",
            Dimensions=[{"Name": "FunctionName", "Value": {"Ref": "ExpirePoints"}}],
            Statistic="Sum",
            Period=3600,
            EvaluationPeriods=2,
            DatapointsToAlarm=2,
            Threshold=1,
            ComparisonOperator="LessThanThreshold",
            TreatMissingData="breaching",
        ),
    }


def notification_alarm() -> dict[str, Resource]:
    names = {
        "sent": "NotificationsSent",
        "failed": "NotificationsFailed",
        "grantsent": "GrantMessages_sent",
        "grantfailed": "GrantMessages_failed",
        "grantinvalid": "GrantMessages_invalid",
    }
    queries = [_query(qid, _metric(NAMESPACE, name, SERVICE, "Sum", 3600)) for qid, name in names.items()]
    failed = "(FILL(failed, 0) + FILL(grantfailed, 0) + FILL(grantinvalid, 0))"
    total = f"(FILL(sent, 0) + FILL(grantsent, 0) + {failed})"
    return {
        "NotificationFailureRateAlarm": _alarm(
            "notification-failure-rate",
            f"More than {NOTIFICATION_FAILED_PERCENT}% of e-mails and SMS (SES, SNS) of the last hour failed, of at "
            "least 10: reminders, program messages and grant notices. The error codes are in the sweep worker's "
            "logs (SES sending quota or sandbox, SNS spend limit, opted-out numbers).",
            Metrics=[
                *queries,
                {
                    "Id": "rate",
                    "Label": "failed messages, % of attempts",
                    "Expression": f"IF({total} >= 10, 100 * {failed} / {total}, 0)",
                    "ReturnData": True,
                },
            ],
            EvaluationPeriods=1,
            Threshold=NOTIFICATION_FAILED_PERCENT,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching",
        )
    }


def money_alarm() -> dict[str, Resource]:
    return {
        "HoldCodeChargedAlarm": _alarm(
            "hold-code-charged",
            "A paid platform order carried a hold code that was another member's, or whose points were gone (metric "
            "HoldCodeCharged): the order was recorded and the discount charged to its customer, into debt if "
            "needed. Codes may be leaking; look at the platform events with reason hold_code_*.",
            Namespace=NAMESPACE,
            MetricName="HoldCodeCharged",
            Dimensions=SERVICE,
            Statistic="Sum",
            Period=3600,
            EvaluationPeriods=1,
            Threshold=0,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching",
        )
    }


def monitoring(functions: list[str]) -> dict[str, Resource]:
    """Every generated resource, in a fixed order."""
    resources: dict[str, Resource] = {**ops_topic()}
    resources.update({f"{function}LogGroup": log_group(function) for function in functions})
    resources.update(function_alarms(functions))
    resources.update({**queue_alarms(), **webhook_alarm(), **expiry_alarms(), **notification_alarm()})
    resources.update(money_alarm())
    alarms = sorted(k for k, v in resources.items() if v["Type"] == "AWS::CloudWatch::Alarm")
    resources["Dashboard"] = {
        "Type": "AWS::CloudWatch::Dashboard",
        "Metadata": GENERATOR,
        "Properties": {
            "DashboardName": {"Fn::Sub": "loyalty-${Stage}"},
            "DashboardBody": {"Fn::Sub": dashboard(functions, alarms, EXPIRY_DEADLINE_SECONDS)},
        },
    }
    return resources


def render(template: dict[str, Any], functions: list[str]) -> dict[str, Any]:
    """``template`` with its generated parts replaced by the ones for ``functions``."""
    generated = monitoring(functions)
    kept = {k: v for k, v in template["Resources"].items() if v.get("Metadata") != GENERATOR and k not in generated}
    # The REST API is named per stage so that its metrics (dimension ApiName) are the stage's own; the rest of its
    # OpenAPI body (the gateway responses) is hand-written and kept.
    body = kept.get("RestAPI", {}).get("Properties", {}).get("DefinitionBody", {})
    kept["RestAPI"] = {"Properties": {"Name": API_NAME, "DefinitionBody": {**body, "info": {"title": API_NAME}}}}
    out = {**template, "Resources": {**kept, **generated}}
    out["Parameters"] = {
        **template["Parameters"],
        "OpsEmail": {
            "Type": "String",
            "Default": "",
            "Description": "E-mail address subscribed to the ops topic loyalty-<Stage>-ops (alarms); empty: none.",
        },
    }
    out["Conditions"] = {
        **template["Conditions"],
        "HasOpsEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "OpsEmail"}, ""]}]},
    }
    out["Mappings"] = {**template.get("Mappings", {}), "StageSettings": STAGE_SETTINGS}
    out["Outputs"] = {
        **template.get("Outputs", {}),
        "OpsTopicArn": {"Value": {"Ref": "OpsTopic"}},
        "DashboardUrl": {
            "Value": {
                "Fn::Sub": "https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}"
                "#dashboards:name=${Dashboard}"
            }
        },
    }
    return out


def dumps(template: dict[str, Any]) -> str:
    return json.dumps(template, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    current = TEMPLATE.read_text()
    wanted = dumps(render(json.loads(current), function_ids()))
    if "--check" in argv:
        if wanted != current:
            print(f"{TEMPLATE} is not up to date: run python scripts/infra_monitoring.py", file=sys.stderr)
            return 1
        return 0
    TEMPLATE.write_text(wanted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
