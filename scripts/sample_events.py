"""The scheduled functions' sample events, events/scheduled_<function>.json, from the catalog (shared/scheduled_jobs.py).

  python scripts/sample_events.py           # write one per scheduled job (a new job's comes with its row)
  python scripts/sample_events.py --check   # exit 1 if a committed file differs or is missing (run by the tests)

Each is the EventBridge "Scheduled Event" the job's rule sends: the runbook re-runs a function from the Lambda console
with it, `make schedule` and the tests send it with their own ``time`` (scripts/scheduler.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parent.parent) not in sys.path:  # run as a file
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from shared.scheduled_jobs import SCHEDULED_JOBS

EVENTS = Path(__file__).resolve().parent.parent / "events"


def sample_event(number: int, function: str, time: str) -> dict[str, Any]:
    rule = "".join(word.title() for word in function.split("_"))  # as `chalice package` names the rule
    return {
        "version": "0",
        "id": f"5d1c2a9e-0c55-4f6b-9a3e-0e{number:010d}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": time,
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:123456789012:rule/loyalty-dev-{rule}Event"],
        "detail": {},
    }


def rendered(event: dict[str, Any]) -> str:
    """One key a line, as the hand-written samples are."""
    return "{\n" + ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in event.items()) + "\n}\n"


def samples() -> dict[Path, str]:
    return {
        EVENTS / f"scheduled_{row.function}.json": rendered(sample_event(n, row.function, row.sample_time))
        for n, row in enumerate(SCHEDULED_JOBS, start=1)
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files, write nothing")
    check = parser.parse_args(argv).check
    stale = [path for path, text in samples().items() if not path.exists() or path.read_text() != text]
    if check:
        for path in stale:
            print(f"{path.name} is not what the catalog gives: run python scripts/sample_events.py", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(samples()[path])
        print(f"wrote {path.relative_to(EVENTS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
