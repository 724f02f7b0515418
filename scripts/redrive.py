"""Dead-letter redrive for the ops command (`scripts/ops.py redrive-dead-letters`; runbook "Redriving dead letters").

Moves every message of ``<queue>-dlq`` back to ``<queue>``: a batch is deleted from the dead-letter queue only after
SQS accepted all of it on the source queue, so a crash in between can duplicate a task but never lose one (the
tasks are idempotent: every member write is conditional, every grant part is recorded once). The console's
"Start DLQ redrive" does the same; this works against emulators too and prints what it moved.
"""

from __future__ import annotations

from typing import Any

BATCH = 10  # SQS's ReceiveMessage and SendMessageBatch limit


class RedriveError(Exception):
    """SQS refused part of a batch: nothing of that batch was deleted from the dead-letter queue."""


def redrive(sqs: Any, queue: str, limit: int | None = None) -> int:
    """Move up to ``limit`` (all by default) messages from ``<queue>-dlq`` to ``queue``; how many were moved."""
    source = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    dead = sqs.get_queue_url(QueueName=f"{queue}-dlq")["QueueUrl"]
    moved = 0
    while limit is None or moved < limit:
        want = BATCH if limit is None else min(BATCH, limit - moved)
        messages = sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=want, WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return moved
        entries = [{"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(messages)]
        if sqs.send_message_batch(QueueUrl=source, Entries=entries).get("Failed"):
            raise RedriveError(f"SQS refused tasks on {queue}; {moved} moved so far, the rest stays dead-lettered")
        receipts = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        sqs.delete_message_batch(QueueUrl=dead, Entries=receipts)
        moved += len(messages)
    return moved
