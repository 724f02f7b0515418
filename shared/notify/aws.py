"""Delivery through SES (templated e-mail) and SNS (SMS, staff topics), with errors sorted into
transient (retried on the next run) and permanent (an invalid address or phone: recorded, never retried)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.notify.costs import EMAIL_USD_MICROS, STAFF_TASK_USD_MICROS, sms_cost
from shared.ports import Delivery

# Errors that say the address or number itself is wrong: retrying cannot help.
PERMANENT_ERRORS = {"InvalidParameterValue", "InvalidParameter", "InvalidPhoneNumber", "OptedOut"}


def _deliver(call: Callable[[], dict[str, Any]], cost: int) -> Delivery:
    try:
        response = call()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        status = "invalid" if code in PERMANENT_ERRORS else "failed"
        return Delivery(status, error=f"{code}: {exc.response.get('Error', {}).get('Message', '')}"[:300])
    except BotoCoreError as exc:  # timeouts, connection errors: try again on the next run
        return Delivery("failed", error=type(exc).__name__)
    return Delivery("sent", message_id=str(response.get("MessageId")), cost_usd_micros=cost)


class AwsNotifier:
    """boto3 clients are created on first use (a cold start of a route never pays for them)."""

    def __init__(self, region: str, endpoint_url: str | None) -> None:
        self._region = region
        self._endpoint = endpoint_url
        self._clients: dict[str, Any] = {}

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            import boto3

            self._clients[service] = boto3.client(service, region_name=self._region, endpoint_url=self._endpoint)
        return self._clients[service]

    def email(self, to: str, source: str, template: str, data: dict[str, str]) -> Delivery:
        ses = self._client("ses")
        return _deliver(
            lambda: ses.send_templated_email(
                Source=source,
                Destination={"ToAddresses": [to]},
                Template=template,
                TemplateData=json.dumps(data, ensure_ascii=False),
            ),
            EMAIL_USD_MICROS,
        )

    def sms(self, phone: str, text: str, sender_id: str | None) -> Delivery:
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": sender_id}
        sns = self._client("sns")
        return _deliver(
            lambda: sns.publish(PhoneNumber=phone, Message=text, MessageAttributes=attributes), sms_cost(phone)
        )

    def staff(self, topic_arn: str, subject: str, text: str) -> Delivery:
        sns = self._client("sns")
        return _deliver(lambda: sns.publish(TopicArn=topic_arn, Subject=subject, Message=text), STAFF_TASK_USD_MICROS)
