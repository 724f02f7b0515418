"""The bytecode step of `make package` (scripts/package.py): a .pyc beside each module of deployment.zip."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from scripts.package import add_bytecode, runtimes, this_runtime

CACHE = sys.implementation.cache_tag  # cpython-311


def make_zip(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o100644 << 16
            archive.writestr(info, text)
    return path


FILES = {
    "app.py": "from pkg.mod import VALUE\nanswer = VALUE * 2\n",
    "pkg/__init__.py": "",
    "pkg/mod.py": "VALUE = 21\n",
    "pkg/data.json": "{}",
    "pkg/py2_sample.py": "print 'not python 3'\n",
}


def test_each_module_gets_an_unchecked_pyc_that_python_loads_without_its_source_time(tmp_path: Path) -> None:
    # Given a zip of a few modules, a data file and a file that is not Python 3
    zipped = make_zip(tmp_path / "deployment.zip", FILES)
    # When the bytecode step runs
    added = add_bytecode(zipped, {this_runtime()})
    # Then each Python 3 module has its .pyc under __pycache__, with the source's timestamp and mode
    with zipfile.ZipFile(zipped) as archive:
        names = set(archive.namelist())
        info = archive.getinfo(f"pkg/__pycache__/mod.{CACHE}.pyc")
        flags = int.from_bytes(archive.read(info)[4:8], "little")
    assert added == 3
    compiled = {
        f"__pycache__/app.{CACHE}.pyc",
        f"pkg/__pycache__/__init__.{CACHE}.pyc",
        f"pkg/__pycache__/mod.{CACHE}.pyc",
    }
    assert names == set(FILES) | compiled
    assert info.date_time == (1980, 1, 1, 0, 0, 0) and info.external_attr >> 16 == 0o100644
    assert flags == 0b01  # PEP 552: hash-based, unchecked
    # And an interpreter that may not write bytecode runs the .pyc without looking at the source: a source changed
    # after packaging is not even read (which is why nothing may edit the unzipped package in place)
    root = tmp_path / "task"
    zipfile.ZipFile(zipped).extractall(root)
    (root / "pkg" / "mod.py").write_text("VALUE = 99\n")
    probe = "import sys; sys.path.insert(0, sys.argv[1]); import app; print(app.answer)"
    done = subprocess.run(
        [sys.executable, "-B", "-I", "-c", probe, str(root)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "42"


def test_the_step_is_reproducible(tmp_path: Path) -> None:
    first = add_bytecode(make_zip(tmp_path / "a.zip", FILES), {this_runtime()})
    second = add_bytecode(make_zip(tmp_path / "b.zip", FILES), {this_runtime()})
    assert first == second
    digest = [hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() for name in ("a.zip", "b.zip")]
    assert digest[0] == digest[1]


def test_a_zip_that_has_bytecode_already_is_left_as_it_is(tmp_path: Path) -> None:
    zipped = make_zip(tmp_path / "deployment.zip", {"m.py": "X = 1\n"})
    assert add_bytecode(zipped, {this_runtime()}) == 1
    before = zipped.read_bytes()
    assert add_bytecode(zipped, {this_runtime()}) == 0
    assert zipped.read_bytes() == before


def test_another_runtime_than_this_python_is_refused(tmp_path: Path) -> None:
    zipped = make_zip(tmp_path / "deployment.zip", {"m.py": "X = 1\n"})
    before = zipped.read_bytes()
    with pytest.raises(RuntimeError, match="bytecode is version-specific"):
        add_bytecode(zipped, {"python3.99"})
    assert zipped.read_bytes() == before


def test_the_runtimes_are_read_from_the_template(tmp_path: Path) -> None:
    template = tmp_path / "sam.json"
    template.write_text(
        '{"Resources": {"A": {"Type": "AWS::Serverless::Function", "Properties": {"Runtime": "python3.11"}},'
        ' "B": {"Type": "AWS::Serverless::Function", "Properties": {"Runtime": "python3.11"}},'
        ' "T": {"Type": "AWS::DynamoDB::Table", "Properties": {}}}}'
    )
    assert runtimes(template) == {"python3.11"}
