"""Init time per function as Lambda measures it (issue 12 item 7), part of `make bench`.

For every function of the packaged template, a fresh interpreter with Lambda's environment imports the function's
handler module from the unzipped ``deployment.zip`` and resolves the handler attribute: the work of Lambda's init
phase. The interpreter sees what the Python runtime gives it and nothing else:

- ``sys.path``: the task root (the unzipped package) first, then a runtime folder holding boto3 and its dependencies
  (links to this venv's copies, with their bytecode, as the runtime ships them); ``-S``: no site-packages;
- ``-B``: no bytecode written, as /var/task is read-only on Lambda. A module without a ``.pyc`` in the zip is
  compiled from source on every cold start;
- the environment Lambda sets (``LAMBDA_TASK_ROOT``, ``AWS_LAMBDA_FUNCTION_NAME``, memory, ``_HANDLER``, the X-Ray
  variables when the template's ``Tracing`` is ``Active``) plus the function's variables from the template.

``import boto3`` is timed the same way (runtime folder only) as the reference: the target is init ≤ 2× that.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RUNS = 5
MAX_RATIO = 2.0
REGION = "us-east-1"
# What the Python runtime has on its path besides the standard library (/var/runtime): boto3 and its dependencies.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")
BOTO3 = "import boto3"

# Run in the fresh interpreter: the task root goes first on sys.path (as the runtime's bootstrap puts it), then the
# handler's module is imported and its attribute resolved. Prints the seconds that took, wall clock (what Lambda
# reports as Init Duration) and the process's CPU time (steadier on a shared machine).
INIT = """
import sys, time
sys.path.insert(0, sys.argv[1])
started, cpu = time.perf_counter(), time.process_time()
import importlib
module, _, attribute = sys.argv[2].rpartition(".")
handler = getattr(importlib.import_module(module), attribute)
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
assert callable(handler), sys.argv[2]
print(elapsed, cpu)
"""
IMPORT_BOTO3 = """
import time
started, cpu = time.perf_counter(), time.process_time()
import boto3
print(time.perf_counter() - started, time.process_time() - cpu)
"""


@dataclass(frozen=True)
class Function:
    """One function of the template: what Lambda needs to start it."""

    logical_id: str
    handler: str
    memory_mb: int
    tracing: bool
    variables: dict[str, str]


def placeholder(value: Any, stage: str) -> str:
    """A template value as a string: ``Fn::Sub`` with the stage, a ``Ref`` as a stand-in name."""
    if isinstance(value, dict):
        if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
            return str(value["Fn::Sub"]).replace("${Stage}", stage)
        if "Ref" in value:
            return f"loyalty-{stage}-{value['Ref']}"
        return json.dumps(value)
    return str(value)


def functions(template: dict[str, Any], stage: str = "dev") -> list[Function]:
    """Every Lambda function of a SAM template, with the variables SAM gives it (Globals merged)."""
    globals_ = template.get("Globals", {}).get("Function", {})
    shared = globals_.get("Environment", {}).get("Variables", {})
    found = []
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = {**globals_, **resource["Properties"]}
        own = resource["Properties"].get("Environment", {}).get("Variables", {})
        variables = {k: placeholder(v, stage) for k, v in {**shared, **own}.items()}
        found.append(
            Function(
                logical_id,
                props["Handler"],
                int(props.get("MemorySize", 128)),
                props.get("Tracing") == "Active",
                variables,
            )
        )
    return found


def lambda_environment(function: Function, task_root: Path, runtime_dir: Path, stage: str = "dev") -> dict[str, str]:
    """What the Python runtime's process has in its environment when the handler's module is imported."""
    name = f"loyalty-{stage}-{function.logical_id}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PYTHONPATH": str(runtime_dir),
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": str(runtime_dir),
        "_HANDLER": function.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        **function.variables,
    }
    if function.tracing:
        env.update(
            AWS_XRAY_CONTEXT_MISSING="LOG_ERROR",
            AWS_XRAY_DAEMON_ADDRESS="169.254.79.129:2000",
            _AWS_XRAY_DAEMON_ADDRESS="169.254.79.129",
            _AWS_XRAY_DAEMON_PORT="2000",
        )
    else:
        env["POWERTOOLS_TRACE_DISABLED"] = "1"
    return env


def runtime_folder(into: Path) -> Path:
    """A stand-in for /var/runtime: links to this venv's boto3 and its dependencies (bytecode included)."""
    import boto3

    site = Path(boto3.__file__).resolve().parent.parent
    into.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PACKAGES:
        source = site / name
        if source.exists() and not (into / name).exists():
            (into / name).symlink_to(source)
    return into


@contextmanager
def unzipped(package_dir: Path) -> Iterator[tuple[Path, Path, dict[str, Any]]]:
    """(task root, runtime folder, template) of a package, in a temporary folder removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench-init-") as tmp:
        task_root = Path(tmp) / "task"
        with zipfile.ZipFile(package_dir / "deployment.zip") as archive:
            archive.extractall(task_root)
        runtime = runtime_folder(Path(tmp) / "runtime")
        yield task_root, runtime, json.loads((package_dir / "sam.json").read_text())


def python() -> str:
    """The interpreter the runtime stands for: this venv's Python with no site-packages (-S), writing no bytecode
    (-B, /var/task is read-only)."""
    return sys.executable


def seconds(code: str, args: list[str], env: Mapping[str, str], cwd: Path) -> tuple[float, float]:
    """(wall, CPU) seconds that ``code`` reported from a fresh interpreter."""
    command = [python(), "-S", "-B", "-c", code, *args]
    done = subprocess.run(command, cwd=cwd, env=dict(env), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[1:]) or 'import boto3'} failed to initialise:\n{done.stderr[-2000:]}")
    wall, cpu = done.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def boto3_environment(runtime_dir: Path) -> dict[str, str]:
    bare = Function("boto3", "boto3", 512, True, {})
    return lambda_environment(bare, Path(tempfile.gettempdir()), runtime_dir)


Samples = dict[str, list[tuple[float, float]]]  # name -> (wall, CPU) seconds of each run


def measure(task_root: Path, runtime_dir: Path, template: dict[str, Any], runs: int = RUNS) -> Samples:
    """Init seconds of every function and of ``import boto3``, ``runs`` times each, interleaved (noise hits all)."""
    found = functions(template)
    samples: Samples = defaultdict(list)
    envs = {f.logical_id: lambda_environment(f, task_root, runtime_dir) for f in found}
    for _ in range(runs):
        samples[BOTO3].append(seconds(IMPORT_BOTO3, [], boto3_environment(runtime_dir), task_root))
        for f in found:
            samples[f.logical_id].append(seconds(INIT, [str(task_root), f.handler], envs[f.logical_id], task_root))
    return dict(samples)


def median_ms(values: list[tuple[float, float]], which: int) -> float:
    return statistics.median(v[which] for v in values) * 1000


def summary(samples: Mapping[str, list[tuple[float, float]]], handlers: Mapping[str, str]) -> dict[str, Any]:
    """Medians (ms, wall and CPU) and each function's init over ``import boto3``, with the verdict per function:
    the wall-clock ratio, as Lambda reports init."""
    boto3_ms, boto3_cpu = median_ms(samples[BOTO3], 0), median_ms(samples[BOTO3], 1)
    rows = []
    for name, values in samples.items():
        if name == BOTO3:
            continue
        wall, cpu = median_ms(values, 0), median_ms(values, 1)
        rows.append(
            {
                "function": name,
                "handler": handlers.get(name, ""),
                "median_ms": round(wall, 1),
                "cpu_ms": round(cpu, 1),
                "ratio": round(wall / boto3_ms, 2),
                "cpu_ratio": round(cpu / boto3_cpu, 2),
                "ok": wall / boto3_ms <= MAX_RATIO,
            }
        )
    return {
        "runs": len(samples[BOTO3]),
        "boto3_ms": round(boto3_ms, 1),
        "boto3_cpu_ms": round(boto3_cpu, 1),
        "target_ratio": MAX_RATIO,
        "functions": rows,
        "ok": all(r["ok"] for r in rows),
    }


def report_lines(result: Mapping[str, Any]) -> list[str]:
    """The table `make bench` prints: one line per function, its init beside `import boto3` and the ratio."""
    head = f"  {'function':<16} {'handler':<38} {'init ms':>8} {'/ boto3':>8} {'CPU ms':>7} {'/ boto3':>8}  target"
    lines = [head, "  " + "-" * (len(head) - 2)]
    boto3 = f"{result['boto3_ms']:>8.0f} {'1.00x':>8} {result['boto3_cpu_ms']:>7.0f} {'1.00x':>8}"
    lines.append(f"  {'(import boto3)':<16} {'':<38} {boto3}")
    for row in result["functions"]:
        verdict = "ok" if row["ok"] else "MISSED"
        lines.append(
            f"  {row['function']:<16} {row['handler']:<38} {row['median_ms']:>8.0f} {row['ratio']:>7.2f}x "
            f"{row['cpu_ms']:>7.0f} {row['cpu_ratio']:>7.2f}x  <= {result['target_ratio']:g}x -> {verdict}"
        )
    return lines


def init_times(package_dir: Path, runs: int = RUNS) -> dict[str, Any]:
    """`make bench`'s figures for the package in ``package_dir`` (sam.json + deployment.zip)."""
    with unzipped(package_dir) as (task_root, runtime_dir, template):
        samples = measure(task_root, runtime_dir, template, runs)
        handlers = {f.logical_id: f.handler for f in functions(template)}
        pycs = sum(1 for _ in task_root.rglob("*.pyc"))
    result = summary(samples, handlers)
    result["pyc_files_in_zip"] = pycs
    result["samples_ms"] = {k: [round(wall * 1000, 1) for wall, _ in vs] for k, vs in samples.items()}
    return result


def print_init(result: Mapping[str, Any]) -> None:
    print(
        f"\nInit per function as Lambda measures it (fresh interpreter, unzipped package read-only, runtime's boto3; "
        f"median of {result['runs']}; {result['pyc_files_in_zip']} .pyc in the zip):"
    )
    for line in report_lines(result):
        print(line)


def main(argv: list[str] | None = None) -> int:
    """python scripts/bench_init.py [PACKAGE_DIR]: the table for an existing package (default build/package)."""
    args = argv if argv is not None else sys.argv[1:]
    root = Path(__file__).resolve().parent.parent
    package_dir = Path(args[0]) if args else root / "build" / "package"
    result = init_times(package_dir)
    print_init(result)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    if str(Path(__file__).resolve().parent.parent) not in sys.path:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
