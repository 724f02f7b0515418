"""Print the local API's base URL, as the README's commands use it: API_URL, else the API Gateway URL of the stack
`make run` deployed (.local/stack.json), else `make dev`'s http://127.0.0.1:$PORT.

  API=$(.venv/bin/python scripts/api_url.py)/v1/tenants/demo
  eval "$(.venv/bin/python scripts/api_url.py --env)"   # export what points scripts/ops.py at `make run`'s stack
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

if str(Path(__file__).resolve().parent.parent) not in sys.path:  # run as a file
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.localenv import default_api_url


def exports() -> str:
    """``export`` lines of the running `make run` stack's endpoint, tables and queue (an error when none runs)."""
    from scripts.schedule_deployed import running_stack

    stack = running_stack()
    if stack is None:
        raise SystemExit("no stack of `make run` is running (.local/stack.json): start it with make run")
    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in stack.environment().items())


if __name__ == "__main__":
    print(exports() if sys.argv[1:] == ["--env"] else default_api_url(os.environ))
