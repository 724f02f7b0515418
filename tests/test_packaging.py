"""The deployment package (docs/spec.md §10, issue 2 item 8): `chalice package` with infra/ merged, the zip imported by a
clean interpreter, the template cfn-lint clean.

Slow (about 15 s with chalice's cached dependency build, 1-2 min on a fresh machine: chalice downloads the
manylinux wheels of requirements.txt from PyPI).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from scripts.package import package as package_into

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
# The schedule starters of the seven sweeps, as `chalice package` names their functions (classify_vip aside)
STARTERS = (
    "ExpirePoints",
    "SendReminders",
    "ReleaseHolds",
    "ActivatePending",
    "GrantBirthdays",
    "ReviewTiers",
    "RemindBoosts",
)
BIN = Path(sys.executable).parent
AWS_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}
OWN_PACKAGES = ("functions", "shared")

# Run by `python -I -S` in the unzipped package: no environment variables, no user or venv site-packages, so every
# import must be satisfied by the zip (or the standard library). Prints what it imported and from where.
IMPORT_EVERYTHING = """
import importlib, json, pkgutil, sys, sysconfig
root = sys.argv[1]
sys.path.insert(0, root)
import chalice
import app
assert isinstance(app.app, chalice.Chalice), type(app.app)
names = ["app"]
for package in ("functions", "shared"):
    module = importlib.import_module(package)
    names.append(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        importlib.import_module(info.name)
        names.append(info.name)
allowed = (root, sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
outside = sorted(n for n, m in sys.modules.items() if getattr(m, "__file__", None) and not m.__file__.startswith(allowed))
print(json.dumps({"imported": names, "outside": outside, "routes": len(app.app.routes)}))
"""


@dataclass(frozen=True)
class Package:
    out: Path
    zip_names: frozenset[str]
    template: dict[str, Any]


def _tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed next to {sys.executable}: run the tests with `make test`")
    return str(path)


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}
    return {**env, **AWS_ENV, **extra}


def _repo_modules() -> set[str]:
    """Dotted names of every module of functions/ and shared/ in the working tree."""
    names = set()
    for package in OWN_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def build_package(stage: str, out: Path) -> Package:
    """`make package STAGE=<stage>` into ``out``: scripts/package.py, the one way the artifact is built."""
    _tool("chalice")
    try:
        package_into(stage, out, quiet=True)
    except RuntimeError as error:
        pytest.fail(str(error))
    with zipfile.ZipFile(out / "deployment.zip") as archive:
        names = frozenset(archive.namelist())
    return Package(out, names, json.loads((out / "sam.json").read_text()))


@cache
def packaged(stage: str) -> Package:
    """One package per stage for the whole test session (test_iam.py reads the same ones): packaging takes a minute."""
    return build_package(stage, Path(tempfile.mkdtemp(prefix=f"loyalty-package-{stage}-")))


@pytest.fixture(scope="module")
def package() -> Iterator[Package]:
    yield packaged("dev")


@pytest.fixture(scope="module")
def prod_package() -> Iterator[Package]:
    yield packaged("prod")


def test_vendor_symlinks_point_at_the_real_code() -> None:
    for package in OWN_PACKAGES:
        link = ROOT / "vendor" / package
        assert link.is_symlink(), f"vendor/{package} must be a symlink to ../{package} (docs/spec.md §10)"
        assert link.resolve() == (ROOT / package).resolve()


def test_the_zip_holds_app_and_every_module_of_functions_and_shared(package: Package) -> None:
    assert "app.py" in package.zip_names
    expected = {
        str(path.relative_to(ROOT))
        for pkg in OWN_PACKAGES
        for path in (ROOT / pkg).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    missing = sorted(expected - package.zip_names)
    assert not missing, f"not in deployment.zip (vendor/functions, vendor/shared symlinks?): {missing}"


def test_a_clean_interpreter_imports_every_handler_from_the_zip(package: Package, tmp_path: Path) -> None:
    # Given the deployment package unzipped on its own
    root = tmp_path / "lambda"
    with zipfile.ZipFile(package.out / "deployment.zip") as archive:
        archive.extractall(root)
    # When an isolated interpreter (-I: no PYTHON* variables, no user site; -S: no site-packages) imports everything
    cmd = [sys.executable, "-I", "-S", "-c", IMPORT_EVERYTHING, str(root)]
    done = subprocess.run(cmd, cwd=root, env=_clean_env(), capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"import from the package failed:\n{done.stderr}"
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # Then app.app is a Chalice app with routes, every module of functions/ and shared/ imported, all from the zip
    assert result["routes"] > 0
    assert set(result["imported"]) >= {"app", *_repo_modules()}
    assert result["outside"] == []


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_cfn_lint_reports_nothing_on_the_merged_template(stage: str, request: pytest.FixtureRequest) -> None:
    built: Package = request.getfixturevalue("package" if stage == "dev" else "prod_package")
    # every rule, informational ones included: no finding at all, not merely no error
    cmd = [_tool("cfn-lint"), "--regions", "us-east-1", "--include-checks", "I", "--", str(built.out / "sam.json")]
    done = subprocess.run(cmd, env=_clean_env(), capture_output=True, text=True, timeout=300, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, ""), f"cfn-lint ({stage}):\n{done.stdout}\n{done.stderr}"


def test_every_packaged_function_has_a_log_group_and_alarms_wired_to_the_ops_topic(package: Package) -> None:
    resources = package.template["Resources"]
    functions = sorted(k for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function")
    assert len(functions) >= 9
    groups = {
        r["Properties"]["LogGroupName"]["Fn::Sub"] for r in resources.values() if r["Type"] == "AWS::Logs::LogGroup"
    }
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    lambda_alarms = {
        (a["MetricName"], a["Dimensions"][0]["Value"]["Ref"]) for a in alarms if a.get("Namespace") == "AWS/Lambda"
    }
    for function in functions:
        assert f"/aws/lambda/${{{function}}}" in groups, function
        assert {("Errors", function), ("Throttles", function)} <= lambda_alarms, function
    assert all(a["AlarmActions"] == a["OKActions"] == [{"Ref": "OpsTopic"}] for a in alarms)
    assert resources["OpsTopic"]["Type"] == "AWS::SNS::Topic"
    assert resources["Dashboard"]["Type"] == "AWS::CloudWatch::Dashboard"
    # the API's metrics carry the stage's own name (dimension ApiName of the webhook 5xx alarm)
    assert resources["RestAPI"]["Properties"]["Name"] == {"Fn::Sub": "loyalty-${Stage}"}


def test_tables_keep_their_data_and_prod_cannot_be_deleted(package: Package) -> None:
    template = package.template
    for name in ("TenantsTable", "LedgerTable"):
        table = template["Resources"][name]
        assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
        assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert table["Properties"]["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}
    assert template["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}


def test_every_function_gets_the_table_names_and_the_runtime(package: Package) -> None:
    template = package.template
    resources = template["Resources"]
    assert resources["TenantsTable"]["Type"] == resources["LedgerTable"]["Type"] == "AWS::DynamoDB::Table"
    functions = {k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}
    assert "APIHandler" in functions
    global_vars = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    for name, props in functions.items():
        variables = {**global_vars, **props.get("Environment", {}).get("Variables", {})}  # SAM merges Globals maps
        assert variables.get("LEDGER_TABLE") == {"Ref": "LedgerTable"}, name
        assert variables.get("TENANTS_TABLE") == {"Ref": "TenantsTable"}, name
        assert variables.get("POWERTOOLS_SERVICE_NAME") == "loyalty", name
        assert props["Runtime"] == f"python{sys.version_info.major}.{sys.version_info.minor}", name
        assert props["Tracing"] == "Active", name


def test_every_function_has_its_own_role(package: Package) -> None:
    # what each role may do is tests/test_iam.py's subject
    functions = [
        r["Properties"] for r in package.template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"
    ]
    roles = [f["Role"]["Fn::GetAtt"][0] for f in functions]
    assert len(set(roles)) == len(functions)
    assert all(package.template["Resources"][role]["Type"] == "AWS::IAM::Role" for role in roles)


def test_the_scheduled_work_is_in_the_template(package: Package) -> None:
    resources = package.template["Resources"]
    # Seven EventBridge schedules, one per job
    schedules = {
        name: props["Properties"]["Events"][f"{name}Event"]["Properties"]["Schedule"]
        for name, props in resources.items()
        if name in STARTERS
    }
    assert schedules == {
        "ExpirePoints": "cron(5 * * * ? *)",
        "SendReminders": "cron(10 * * * ? *)",
        "ReleaseHolds": "rate(15 minutes)",
        "ActivatePending": "cron(15 * * * ? *)",
        "GrantBirthdays": "cron(20 * * * ? *)",
        "ReviewTiers": "cron(25 * * * ? *)",
        "RemindBoosts": "cron(30 * * * ? *)",
    }
    # The worker reads the stage's queue and reports failed records one by one
    worker = resources["SweepWorker"]["Properties"]
    source = worker["Events"]["SweepWorkerSqsEventSource"]["Properties"]
    assert source["Queue"] == {"Fn::GetAtt": ["SweepQueue", "Arn"]}
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert worker["Timeout"] == 900
    # The queue hides a message longer than the worker can run, and dead-letters it after five receives
    queue = resources["SweepQueue"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * worker["Timeout"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["SweepDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 5,
    }
    # The e-mail templates ship in English and Russian
    names = {
        r["Properties"]["Template"]["TemplateName"]["Fn::Sub"]
        for r in resources.values()
        if r["Type"] == "AWS::SES::Template"
    }
    kinds = (
        "expiry-reminder",
        "birthday-bonus",
        "tier-downgrade",
        "boost-ending",
        "grant",
        "login-code",
        "contact-code",
    )
    assert names == {f"loyalty-${{Stage}}-{kind}-{language}" for kind in kinds for language in ("en", "ru")}
    env = package.template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["SWEEP_QUEUE_URL"] == {"Ref": "SweepQueue"}
