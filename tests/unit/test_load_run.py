"""`make load`'s exit status (scripts/load/run.py): 0 only when no request errored and every invariant holds.

The stack, locust and the read-back are replaced here; tests/e2e/test_load.py runs them for real."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from scripts.load import run
from scripts.load.record import ERROR, OK, Recorder, Sample
from scripts.load.stack import StackError, Target


def recorded(outcome: str, status: int) -> dict[str, Any]:
    recorder = Recorder(planned=2, started=0.0)
    recorder.add(Sample("quote", 200, None, 5.0, OK, 1.0))
    recorder.add(Sample("order.paid", status, None, 9.0, outcome, 2.0))
    recorder.member("m").earned = 5
    return recorder.to_json()


def fake_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, outcome: str, status: int, problems: list[str]) -> int:
    @contextmanager
    def target(args: Any) -> Iterator[Target]:
        yield Target("http://127.0.0.1:1", tmp_path / "tenant.json", started=False)

    monkeypatch.setattr(run, "target", target)
    monkeypatch.setattr(run, "run_locust", lambda args, stack, run_id: recorded(outcome, status))
    monkeypatch.setattr(run, "check_members", lambda stack, members: problems)
    return run.main(["--dir", str(tmp_path), "--requests", "2", "--users", "1"])


def test_a_clean_run_exits_0_and_writes_its_report(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert fake_run(monkeypatch, tmp_path, OK, 200, []) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert (report["planned"], report["members_checked"], report["invariant_violations"]) == (2, 1, [])


def test_a_5xx_exits_1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert fake_run(monkeypatch, tmp_path, ERROR, 500, []) == 1
    assert "1 requests failed (1 with a 5xx)" in capsys.readouterr().err


def test_a_broken_invariant_exits_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fake_run(monkeypatch, tmp_path, OK, 200, ["m: balance 5 != sum of lot remainders 0 - debt 0"]) == 1
    err = capsys.readouterr().err
    assert "Ledger invariants BROKEN (1)" in err and "m: balance 5 != sum of lot remainders" in err


def test_an_unusable_stack_exits_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(api: str, tenant_file: Path) -> Target | None:
        raise StackError(f"the API at {api} does not accept the tenant in {tenant_file}")

    monkeypatch.setattr(run, "running", refuse)
    assert run.main(["--dir", str(tmp_path), "--url", "http://127.0.0.1:1"]) == 2
    assert "error: the API at http://127.0.0.1:1 does not accept the tenant" in capsys.readouterr().err
