"""Create the queues and e-mail templates of infra/resources.json in an emulator (tests, `make run`).

Deployed names carry the stage (``loyalty-${Stage}-sweep``); local names drop it (``loyalty-sweep``), the
defaults of ``shared/settings.py``. The SES sender the app uses is verified, as SES requires before sending.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scripts.infra_tables import TEMPLATE


def local_name(value: Any) -> str:
    """``{"Fn::Sub": "loyalty-${Stage}-sweep"}`` -> ``loyalty-sweep``."""
    text = value["Fn::Sub"] if isinstance(value, dict) else str(value)
    return text.replace("${Stage}-", "")


def _resources(template: Path, kind: str) -> dict[str, dict[str, Any]]:
    resources = json.loads(template.read_text())["Resources"]
    return {name: res["Properties"] for name, res in resources.items() if res.get("Type") == kind}


def create_queues(sqs: Any, template: Path = TEMPLATE) -> dict[str, str]:
    """Every queue of the template (dead-letter queues first, then the queues that redrive to them): name -> URL."""
    queues = _resources(template, "AWS::SQS::Queue")
    urls: dict[str, str] = {}
    arns: dict[str, str] = {}
    for logical_id, props in sorted(queues.items(), key=lambda item: "RedrivePolicy" in item[1]):
        attributes: dict[str, str] = {
            k: str(props[k]) for k in ("VisibilityTimeout", "MessageRetentionPeriod") if k in props
        }
        if "RedrivePolicy" in props:
            target = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": arns[target], "maxReceiveCount": props["RedrivePolicy"]["maxReceiveCount"]}
            )
        name = local_name(props["QueueName"])
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arns[logical_id] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        urls[name] = url
    return urls


def create_email_templates(ses: Any, template: Path = TEMPLATE) -> list[str]:
    """The template's SES templates (created, or updated when they exist)."""
    resources = _resources(template, "AWS::SES::Template").values()
    return put_email_templates(
        ses,
        [{**props["Template"], "TemplateName": local_name(props["Template"]["TemplateName"])} for props in resources],
    )


def put_email_templates(ses: Any, bodies: list[dict[str, Any]]) -> list[str]:
    """Each SES template created, or updated when it exists; their names."""
    for body in bodies:
        try:
            ses.create_template(Template=body)
        except ses.exceptions.AlreadyExistsException:
            ses.update_template(Template=body)
    return [body["TemplateName"] for body in bodies]


def create_messaging(session: Any, sender: str, template: Path = TEMPLATE) -> dict[str, Any]:
    """Queues, e-mail templates and the verified sender, with clients of a boto3 ``session``-like factory."""
    urls = create_queues(session("sqs"), template)
    ses = session("ses")
    names = create_email_templates(ses, template)
    ses.verify_email_identity(EmailAddress=sender)
    return {"queues": urls, "email_templates": names, "sender": sender}
