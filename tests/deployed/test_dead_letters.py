"""A task the worker cannot run ends in the dead-letter queue after the redrive policy's receives, and the ops
command's redrive brings it back (runbook: "Dead-letter queue not empty", "Redriving dead letters")."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from scripts.deploy_local import DeployedStack, client
from scripts.localenv import ROOT
from scripts.schedule_deployed import queue_depth, wait_drained
from tests.deployed.stack import eventually, log_records, run_ops, take_messages

POISON = '{"job": "expire", "shard": 0, "now": '  # a task cut short: not JSON
# The template's sweep queue waits 90 minutes before a failed task comes back (longer than a worker may run); the
# test lowers it while it runs so that the five receives take seconds, and sets it back at the end. (A receive may
# then come while the worker still runs the previous one, as on AWS with a timeout that short: each is counted.)
FAST_VISIBILITY_SECONDS = "1"


def template_queue() -> dict[str, Any]:
    resources = json.loads((ROOT / "infra" / "resources.json").read_text())["Resources"]
    return dict(resources["SweepQueue"]["Properties"])


@pytest.fixture
def fast_retries(deployed: DeployedStack) -> Iterator[dict[str, str]]:
    """The deployed sweep queue's attributes, with its visibility timeout lowered for the test's duration."""
    sqs = client("sqs", deployed.endpoint)
    url = deployed.outputs["SweepQueueUrl"]
    wait_drained(deployed, 120)  # no real task in flight gets the short timeout
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": FAST_VISIBILITY_SECONDS})
    try:
        yield attributes
    finally:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": attributes["VisibilityTimeout"]})


def test_a_poisoned_task_is_dead_lettered_after_five_receives_and_redriven_by_the_ops_command(
    deployed: DeployedStack, fast_retries: dict[str, str]
) -> None:
    sqs = client("sqs", deployed.endpoint)
    queue, dead = deployed.outputs["SweepQueueUrl"], deployed.outputs["SweepDeadLetterQueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # Given the sweep queue as the template made it: 5 receives, then the dead-letter queue
    template = template_queue()
    redrive = json.loads(fast_retries["RedrivePolicy"])
    assert (redrive["maxReceiveCount"], redrive["deadLetterTargetArn"]) == (5, dead_arn)
    assert int(fast_retries["VisibilityTimeout"]) == template["VisibilityTimeout"] == 5400
    assert queue_depth(deployed, dead) == 0
    since_ms = int(time.time() * 1000)

    # When a task the worker cannot parse is sent to the sweep queue
    sent = sqs.send_message(QueueUrl=queue, MessageBody=POISON)["MessageId"]

    # Then the worker fails it on each of the 5 receives (reported alone: ReportBatchItemFailures), and SQS moves
    # it to the dead-letter queue, untouched
    eventually(lambda: queue_depth(deployed, dead) == 1, timeout=60, what="the task's dead-lettering")
    assert queue_depth(deployed, queue) == 0

    def failures() -> list[dict[str, Any]]:  # the worker's log lines of this task (each a receive's invocation)
        found = log_records(deployed, "SweepWorker", since_ms)
        return [r for r in found if r.get("message") == "sweep task failed" and r.get("message_id") == sent]

    eventually(lambda: len(failures()) >= 5, timeout=30, what="the worker's five failures")
    assert len(failures()) == 5, failures()
    peeked = sqs.receive_message(QueueUrl=dead, VisibilityTimeout=0)["Messages"]
    assert [m["Body"] for m in peeked] == [POISON]

    # When the operator redrives the dead letters with the ops command
    done = run_ops(deployed, "redrive-dead-letters", "--queue", "loyalty-dev-sweep")

    # Then it moved the one task back to the sweep queue and the dead-letter queue is empty
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"queue": "loyalty-dev-sweep", "moved": 1}
    assert queue_depth(deployed, dead) == 0
    # And the worker gets it again: still poisoned, it is dead-lettered again after 5 more receives
    eventually(lambda: queue_depth(deployed, dead) == 1, timeout=60, what="the redriven task's dead-lettering")
    assert [m["Body"] for m in take_messages(deployed, dead)] == [POISON]  # (cleared for the tests that follow)
