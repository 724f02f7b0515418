"""docs/runbook.md covers every alarm of the template, and every scheduled function has a sample event to re-run it
from the Lambda console (issue 6 item 4)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from functions.schedules import SCHEDULES

ROOT = Path(__file__).resolve().parent.parent
RUNBOOK = (ROOT / "docs" / "runbook.md").read_text()
TEMPLATE = json.loads((ROOT / "infra" / "resources.json").read_text())
PER_FUNCTION = re.compile(r"^[A-Za-z]+(Errors|Throttles)Alarm$")


def alarms() -> list[str]:
    return [k for k, v in TEMPLATE["Resources"].items() if v.get("Type") == "AWS::CloudWatch::Alarm"]


def test_every_alarm_has_its_runbook_section() -> None:
    # Given the template's alarms / Then each is named in the runbook (per-function alarms by their family)
    assert len(alarms()) > 10
    missing = []
    for name in alarms():
        match = PER_FUNCTION.match(name)
        named = f"`<Function>{match.group(1)}Alarm`" if match else f"`{name}`"
        if named not in RUNBOOK:
            missing.append(name)
    assert missing == []


def test_every_alarm_description_points_to_the_runbook() -> None:
    for name in alarms():
        assert "docs/runbook.md" in TEMPLATE["Resources"][name]["Properties"]["AlarmDescription"], name


def test_every_scheduled_function_has_a_sample_event_named_in_the_runbook() -> None:
    for _job, function, _expression, _description in SCHEDULES:
        event = ROOT / "events" / f"scheduled_{function}.json"
        body = json.loads(event.read_text())
        # a scheduled event as EventBridge sends it: the run's "now" is its time
        assert body["detail-type"] == "Scheduled Event" and body["time"]
        assert f"`{function}`" in RUNBOOK and f"`events/scheduled_{function}.json`" in RUNBOOK
