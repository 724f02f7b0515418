"""Redriving dead-lettered sweep tasks with the ops command (issue 6 item 4; runbook "Redriving dead letters")."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from scripts import ops
from scripts.infra_messaging import create_queues


def bodies(sqs: Any, url: str) -> list[str]:
    got: list[str] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        got += [m["Body"] for m in messages]
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        )
    return got


def test_redrive_moves_every_dead_letter_back_to_the_sweep_queue(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    # Given 23 dead-lettered tasks (more than two SQS batches)
    sqs = boto3.client("sqs", region_name="us-east-1")
    urls = create_queues(sqs)
    tasks = [json.dumps({"job": "expire", "shard": n, "run_id": "r1"}) for n in range(23)]
    for task in tasks:
        sqs.send_message(QueueUrl=urls["loyalty-sweep-dlq"], MessageBody=task)
    # When the operator redrives 5 of them, then the rest
    assert ops.main(["redrive-dead-letters", "--limit", "5"]) == 0
    assert json.loads(capsys.readouterr().out) == {"queue": "loyalty-sweep", "moved": 5}
    assert ops.main(["redrive-dead-letters"]) == 0
    # Then every task is back on the sweep queue, once, with its body unchanged, and the dead-letter queue is empty
    assert json.loads(capsys.readouterr().out) == {"queue": "loyalty-sweep", "moved": 18}
    assert sorted(bodies(sqs, urls["loyalty-sweep"])) == sorted(tasks)
    assert bodies(sqs, urls["loyalty-sweep-dlq"]) == []


def test_redrive_of_an_unknown_queue_is_an_error_that_moves_nothing(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    create_queues(sqs)
    assert ops.main(["redrive-dead-letters", "--queue", "no-such-queue"]) == 1
    assert "error:" in capsys.readouterr().err
