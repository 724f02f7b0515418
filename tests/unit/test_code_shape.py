"""The shape `make lint` holds the production code to (issue 15): short functions, maintainable files."""

from __future__ import annotations

from pathlib import Path

from scripts.check_code_shape import MAX_FUNCTION_LINES, PRODUCTION, main, violations


def test_the_production_code_has_no_long_function_and_no_hard_to_maintain_file() -> None:
    assert violations(list(PRODUCTION)) == []


def test_a_function_over_the_limit_is_reported_with_its_place(tmp_path: Path) -> None:
    # Given a file with one function of 51 lines and one of 50
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES - 1))
    source = f"def short():\n{body}\n\n\ndef long():\n{body}\n    return x0\n"
    path = tmp_path / "module.py"
    path.write_text(source)
    # When it is checked / Then only the long one is reported, and the check fails
    found = violations([str(tmp_path)])
    assert found == [f"{path}:{MAX_FUNCTION_LINES + 3}: function long has 51 lines (at most 50)"]
    assert main([str(tmp_path)]) == 1
