"""The Powertools logger's output as written (its own handler and formatter), for tests that read log lines."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class LogLines:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    @property
    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def with_message(self, message: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("message") == message]


@contextmanager
def captured_logs() -> Iterator[LogLines]:
    """Every line the service logger writes while inside, at INFO and above."""
    from shared.observability import logger

    lines = LogLines()
    handler: Any = logger.registered_handler
    old_stream, old_level = handler.setStream(lines.stream), logger.log_level
    logger.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        handler.setStream(old_stream)
        logger.setLevel(old_level)
