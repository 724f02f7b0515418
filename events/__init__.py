"""Sample events (webhook bodies, API Gateway and scheduled events) used by tests and local runs."""

import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).parent


def load_event(name: str) -> Any:
    """The sample event ``events/<name>.json`` as parsed JSON (a fresh copy each call)."""
    return json.loads((EVENTS / f"{name}.json").read_text())
