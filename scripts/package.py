"""The deployment artifact (`make package`): ``chalice package`` with infra/resources.json merged.

``make package``, ``make run`` (scripts/deployed_stack.py) and the deployed tests all build it here, so the stack
they run is the one that ships: build/package/sam.json and build/package/deployment.zip.

  python scripts/package.py [--stage dev|prod] [OUT_DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
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
    output = subprocess.run(
        command, cwd=ROOT, env={**os.environ, **env}, capture_output=quiet, text=True, check=False
    )
    if output.returncode != 0:
        raise RuntimeError(f"chalice package failed ({output.returncode}): {output.stderr or ''}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="dev", choices=["dev", "prod"])
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    out = package(args.stage, args.out)
    print(f"{out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}: sam.json + deployment.zip (stage {args.stage})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
