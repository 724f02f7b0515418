"""JSON bodies with a bounded nesting depth (issue 14 item 1).

``json.loads`` recurses once per level: about 1,000 levels of ``[`` (2 KB) raise ``RecursionError``, which would be
a 500 on every JSON route and a poison delivery a platform retries for days. No body this platform accepts nests
deeper than a dozen levels (a Shopify order is about 6), so anything past ``MAX_DEPTH`` is refused as malformed.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64


class TooDeep(ValueError):
    """The document nests deeper than MAX_DEPTH (or deeper than the parser can go)."""


def loads(data: bytes | str) -> Any:
    try:
        value = json.loads(data)
    except RecursionError as exc:
        raise TooDeep(f"JSON nested deeper than {MAX_DEPTH} levels") from exc
    if depth_over(value, MAX_DEPTH):
        raise TooDeep(f"JSON nested deeper than {MAX_DEPTH} levels")
    return value


def depth_over(value: Any, limit: int) -> bool:
    """Whether ``value`` has containers nested more than ``limit`` deep (iterative: no recursion to overflow)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if level > limit:
            return True
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return False
