"""The sweep's task queue on SQS: one message per shard task (SendMessageBatch, 10 at a time)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.ports import QueuedTask, StoreUnavailable

BATCH = 10  # SQS SendMessageBatch limit


class SqsTaskQueue:
    def __init__(self, region: str, endpoint_url: str | None, url: str | None, name: str) -> None:
        self._region = region
        self._endpoint = endpoint_url
        self._url = url
        self._name = name
        self._sqs: Any = None

    def _client(self) -> Any:
        if self._sqs is None:
            import boto3

            self._sqs = boto3.client("sqs", region_name=self._region, endpoint_url=self._endpoint)
        return self._sqs

    @property
    def url(self) -> str:
        if self._url is None:  # local stack and tests: the queue is found by name
            self._url = str(self._client().get_queue_url(QueueName=self._name)["QueueUrl"])
        return self._url

    def send(self, tasks: Sequence[QueuedTask], delay_seconds: int = 0) -> None:
        """All or an error: a task SQS refused is retried once, then the call fails (the run is retried). A delay
        (at most 900 s, SQS's limit) keeps the tasks invisible that long."""
        try:
            for start in range(0, len(tasks), BATCH):
                chunk = tasks[start : start + BATCH]
                entries = [
                    {"Id": str(i), "MessageBody": t.to_json(), "DelaySeconds": delay_seconds}
                    for i, t in enumerate(chunk)
                ]
                failed = self._client().send_message_batch(QueueUrl=self.url, Entries=entries).get("Failed", [])
                if failed:
                    again = [e for e in entries if e["Id"] in {f["Id"] for f in failed}]
                    if self._client().send_message_batch(QueueUrl=self.url, Entries=again).get("Failed"):
                        raise StoreUnavailable("SQS refused sweep tasks")
        except (BotoCoreError, ClientError) as exc:
            raise StoreUnavailable(f"SQS failed: {type(exc).__name__}") from exc
