"""The shape every production file keeps (issue 15), checked by `make lint`.

- no function longer than ``MAX_FUNCTION_LINES`` lines (its whole body, decorators aside, nested functions counted
  in their parent as well);
- a radon maintainability index of at least ``MIN_MAINTAINABILITY`` for every file.

Prints each violation and exits 1 when there is one. Usage: ``python scripts/check_code_shape.py [paths...]``
(default: ``shared``, ``functions`` and ``app.py``).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

from radon.metrics import mi_visit

MAX_FUNCTION_LINES = 50
MIN_MAINTAINABILITY = 20.0
PRODUCTION = ("shared", "functions", "app.py")


def python_files(paths: list[str]) -> Iterator[Path]:
    for name in paths:
        path = Path(name)
        yield from sorted(path.rglob("*.py")) if path.is_dir() else [path]


def long_functions(path: Path, source: str) -> Iterator[str]:
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                yield f"{path}:{node.lineno}: function {node.name} has {length} lines (at most {MAX_FUNCTION_LINES})"


def violations(paths: list[str]) -> list[str]:
    found: list[str] = []
    for path in python_files(paths):
        source = path.read_text(encoding="utf-8")
        found += long_functions(path, source)
        index = mi_visit(source, multi=True)
        if index < MIN_MAINTAINABILITY:
            found.append(f"{path}: maintainability index {index:.1f} (at least {MIN_MAINTAINABILITY})")
    return found


def main(argv: list[str]) -> int:
    found = violations(argv or list(PRODUCTION))
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
