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
    """Stands in for the ``copy`` module inside moto's DynamoDB backend. Before a transaction, moto deep-copies every
    table it touches, once per item of the transaction: seconds per transaction at 10,000 items. Here a table is
    copied item map by item map (the items themselves are shared), once per transaction. Our transactions only
    put and check items, and moto's put replaces an item instead of changing it in place, so the backup still
    restores exactly what a failed transaction changed."""

    def __init__(self) -> None:
        self.local = threading.local()

    def deepcopy(self, obj: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        if not isinstance(obj, Table):
            return copy.deepcopy(obj, memo)
        backups = getattr(self.local, "backups", None)
        if backups is not None and id(obj) in backups:
            return backups[id(obj)]  # the same table, earlier in the same transaction: nothing was written yet
        clone = copy.copy(obj)
        clone.items = defaultdict(dict, {k: dict(v) if isinstance(v, dict) else v for k, v in obj.items.items()})
        if backups is not None:
            backups[id(obj)] = clone
        return clone

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def cheap_transaction_backups() -> None:
    """Make moto back up a table once per TransactWriteItems, without copying its items."""
    import moto.dynamodb.models as backend

    if isinstance(backend.copy, _TableBackups):
        return
    backups = _TableBackups()
    backend.copy = backups  # type: ignore[assignment]
    original = backend.DynamoDBBackend.transact_write_items

    @functools.wraps(original)
    def transact(self: Any, *args: Any, **kwargs: Any) -> Any:
        backups.local.backups = {}
        try:
            return original(self, *args, **kwargs)
        finally:
            backups.local.backups = None

    backend.DynamoDBBackend.transact_write_items = transact  # type: ignore[method-assign]
