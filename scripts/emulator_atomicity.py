"""Make moto's DynamoDB apply each request atomically, as DynamoDB does.

moto checks a transaction's conditions and then applies its writes without a lock, so under a
threaded server two conflicting transactions can interleave and both "succeed" — a race of the
emulator, not of DynamoDB. The local stack and the concurrency tests run moto in-process with
this patch so that they exercise our conditional writes, not moto's thread safety.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_LOCK = threading.RLock()
# reads too: a read must never see half of a transaction
_CALLS = ("put_item", "update_item", "delete_item", "transact_write_items", "get_item", "query")


def serialize_dynamodb_writes() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    for name in _CALLS:
        original = getattr(DynamoDBBackend, name)
        if getattr(original, "_serialized", False):
            continue

        @functools.wraps(original)
        def locked(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with _LOCK:
                return _original(self, *args, **kwargs)

        locked._serialized = True  # type: ignore[attr-defined]
        setattr(DynamoDBBackend, name, locked)
