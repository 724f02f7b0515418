"""The deployment artifact (`make package`): ``chalice package`` with infra/resources.json merged, then the bytecode
of every module added to the zip (``add_bytecode``: Lambda cannot write it, so each cold start would compile it).

``make package``, ``make run`` (scripts/deployed_stack.py) and the deployed tests all build it here, so the stack
they run is the one that ships: build/package/sam.json and build/package/deployment.zip.

  python scripts/package.py [--stage dev|prod] [OUT_DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

if str(Path(__file__).resolve().parent.parent) not in sys.path:  # run as a file
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.localenv import ROOT

DEFAULT_OUT = ROOT / "build" / "package"
# chalice reads a region and credentials while packaging, though it calls no AWS API
PACKAGING_ENV = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def chalice() -> str:
    sibling = Path(sys.executable).parent / "chalice"
    return str(sibling) if sibling.exists() else "chalice"


def package(stage: str = "dev", out: Path = DEFAULT_OUT, quiet: bool = False) -> Path:
    """Build the artifact into ``out`` (emptied first); returns ``out`` (sam.json, deployment.zip)."""
    shutil.rmtree(out, ignore_errors=True)
    env = {**{k: os.environ.get(k) or v for k, v in PACKAGING_ENV.items()}}
    command = [chalice(), "package", "--stage", stage, "--merge-template", "infra/resources.json", str(out)]
    output = subprocess.run(command, cwd=ROOT, env={**os.environ, **env}, capture_output=quiet, text=True, check=False)
    if output.returncode != 0:
        raise RuntimeError(f"chalice package failed ({output.returncode}): {output.stderr or ''}")
    add_bytecode(out / "deployment.zip", runtimes(out / "sam.json"))
    return out


# --- bytecode in the zip (issue 12 item 7) ------------------------------------------------------------------------
# Lambda's /var/task is read-only: without a .pyc beside each module, every cold start compiles every module it
# imports (botocore, pydantic, Powertools, ours) from source, which doubles the API handler's init. `chalice package`
# has no option to ship bytecode, so this step adds it to the zip it built.


def runtimes(template_path: Path) -> set[str]:
    """The ``Runtime`` of every function of the packaged template (python3.11, ...)."""
    resources = json.loads(template_path.read_text())["Resources"].values()
    functions = (r for r in resources if r.get("Type") in ("AWS::Serverless::Function", "AWS::Lambda::Function"))
    return {str(f["Properties"]["Runtime"]) for f in functions if "Runtime" in f.get("Properties", {})}


def this_runtime() -> str:
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


def bytecode(source: bytes, name: str) -> bytes:
    """The .pyc of a module's source for this interpreter: an unchecked-hash pyc (PEP 552), which the import system
    loads without reading the source's timestamp or hashing it, and which carries no build time (deterministic)."""
    code = compile(source, name, "exec", dont_inherit=True, optimize=0)
    from importlib._bootstrap_external import _code_to_hash_pyc  # type: ignore[attr-defined]

    return bytes(_code_to_hash_pyc(code, importlib.util.source_hash(source), checked=False))


def add_bytecode(zip_path: Path, runtimes: set[str]) -> int:
    """Rewrite ``zip_path`` with ``__pycache__/<module>.<tag>.pyc`` beside each ``.py`` (our modules and the
    dependencies alike), compiled by this interpreter, which must be the functions' runtime; the number added.
    Each .pyc gets its source's timestamp and mode, so the zip stays byte-for-byte reproducible."""
    if runtimes != {this_runtime()}:
        raise RuntimeError(
            f"the functions run on {', '.join(sorted(runtimes)) or 'no runtime'} but this is {this_runtime()}: "
            "bytecode is version-specific, so package with that Python"
        )
    staged = zip_path.with_suffix(".tmp")
    added = 0
    with zipfile.ZipFile(zip_path) as src, zipfile.ZipFile(staged, "w", zipfile.ZIP_DEFLATED) as dst:
        names = set(src.namelist())
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, data)
            if not info.filename.endswith(".py"):
                continue
            cached = importlib.util.cache_from_source(info.filename)
            if cached in names:
                continue
            try:
                pyc = bytecode(data, info.filename)
            except (SyntaxError, ValueError):  # a file that is not Python 3 (a sample, a template): left as it is
                continue
            entry = zipfile.ZipInfo(cached, date_time=info.date_time)
            entry.external_attr = info.external_attr
            entry.create_system = info.create_system
            dst.writestr(entry, pyc, compress_type=zipfile.ZIP_DEFLATED)
            added += 1
    os.replace(staged, zip_path)
    return added


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="dev", choices=["dev", "prod"])
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    out = package(args.stage, args.out)
    print(
        f"{out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}: sam.json + deployment.zip (stage {args.stage})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
