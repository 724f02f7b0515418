"""Make moto's DynamoDB apply each request atomically, as DynamoDB does.

moto checks a transaction's conditions and then applies its writes without a lock, so under a
threaded server two conflicting transactions can interleave and both "succeed" — a race of the
emulator, not of DynamoDB. The local stack and the concurrency tests run moto in-process with
this patch so that they exercise our conditional writes, not moto's thread safety.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections import defaultdict
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


class _TableBackups:
    """Stands in for the ``copy`` module inside moto's DynamoDB backend: a table backed up before a transaction
    is copied item map by item map, not deep-copied. moto deep-copies every table a transaction touches, once per
    item of the transaction, which makes each transaction cost the size of the table (seconds at 10,000 items).
    Our transactions only put and check items; moto's put replaces an item and never changes it in place, so
    the shallow backup restores exactly what a failed transaction changed."""

    def deepcopy(self, obj: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        if isinstance(obj, Table):
            clone = copy.copy(obj)
            clone.items = defaultdict(dict, {k: dict(v) if isinstance(v, dict) else v for k, v in obj.items.items()})
            return clone
        return copy.deepcopy(obj, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def cheap_transaction_backups() -> None:
    """Make moto's TransactWriteItems cost the size of the transaction instead of the size of the table."""
    import moto.dynamodb.models as backend

    if not isinstance(backend.copy, _TableBackups):
        backend.copy = _TableBackups()  # type: ignore[assignment]
