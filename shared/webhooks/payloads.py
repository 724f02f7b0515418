"""Reading platform payloads: a missing or mistyped field of a known topic is a 400, never a 500."""

from __future__ import annotations

from typing import Any

from shared import bounded_json
from shared.errors import BadRequest


class Malformed(BadRequest):
    """The body of a known topic does not have the shape the platform documents."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="malformed_payload")


def json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = bounded_json.loads(body)
    except bounded_json.TooDeep as exc:
        raise Malformed("the body nests too deeply") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise Malformed("the body is not JSON") from exc
    if not isinstance(payload, dict):
        raise Malformed("the body is not a JSON object")
    return payload


def text(payload: dict[str, Any], key: str) -> str:
    """A required id or string field, as a string (numeric ids keep every digit)."""
    value = payload.get(key)
    if value is None or value == "" or isinstance(value, bool | dict | list):
        raise Malformed(f"{key} is missing")
    return str(value)
