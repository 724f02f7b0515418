"""The init bench (scripts/bench_init.py): each function of the template, Lambda's environment, the verdict."""

from __future__ import annotations

from pathlib import Path

from scripts.bench_init import BOTO3, Function, functions, lambda_environment, report_lines, summary

TEMPLATE = {
    "Globals": {"Function": {"Environment": {"Variables": {"LEDGER_TABLE": {"Ref": "LedgerTable"}}}}},
    "Resources": {
        "APIHandler": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "Handler": "app.app",
                "MemorySize": 512,
                "Tracing": "Active",
                "Environment": {"Variables": {"POWERTOOLS_SERVICE_NAME": "loyalty"}},
            },
        },
        "SweepWorker": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "Handler": "functions.schedules.sweep_worker",
                "MemorySize": 1024,
                "Environment": {"Variables": {"PREFIX": {"Fn::Sub": "loyalty-${Stage}-grant"}}},
            },
        },
        "LedgerTable": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
    },
}


def test_every_function_of_the_template_with_its_handler_memory_tracing_and_variables() -> None:
    found = {f.logical_id: f for f in functions(TEMPLATE, "dev")}
    assert set(found) == {"APIHandler", "SweepWorker"}
    api, worker = found["APIHandler"], found["SweepWorker"]
    assert (api.handler, api.memory_mb, api.tracing) == ("app.app", 512, True)
    assert (worker.handler, worker.memory_mb, worker.tracing) == ("functions.schedules.sweep_worker", 1024, False)
    # Globals merged under the function's own; a Ref becomes a stand-in name, a Fn::Sub gets the stage
    assert api.variables == {"LEDGER_TABLE": "loyalty-dev-LedgerTable", "POWERTOOLS_SERVICE_NAME": "loyalty"}
    assert worker.variables["PREFIX"] == "loyalty-dev-grant"


def test_the_environment_is_lambdas_with_x_ray_only_when_tracing_is_active(tmp_path: Path) -> None:
    traced = Function("APIHandler", "app.app", 512, True, {"LEDGER_TABLE": "t"})
    env = lambda_environment(traced, tmp_path / "task", tmp_path / "runtime")
    assert env["LAMBDA_TASK_ROOT"] == str(tmp_path / "task")
    assert env["PYTHONPATH"] == env["LAMBDA_RUNTIME_DIR"] == str(tmp_path / "runtime")
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "loyalty-dev-APIHandler"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512" and env["_HANDLER"] == "app.app"
    assert env["AWS_XRAY_DAEMON_ADDRESS"] and "POWERTOOLS_TRACE_DISABLED" not in env
    assert env["LEDGER_TABLE"] == "t"
    untraced = lambda_environment(Function("W", "m.f", 128, False, {}), tmp_path, tmp_path)
    assert untraced["POWERTOOLS_TRACE_DISABLED"] == "1" and "AWS_XRAY_DAEMON_ADDRESS" not in untraced


def test_the_summary_compares_each_medians_with_import_boto3_and_judges_the_2x_target() -> None:
    samples = {
        BOTO3: [(0.100, 0.090), (0.200, 0.100), (0.150, 0.095)],
        "APIHandler": [(0.290, 0.200), (0.310, 0.190), (0.300, 0.180)],
        "SweepWorker": [(0.350, 0.250), (0.290, 0.260), (0.310, 0.240)],
    }
    result = summary(samples, {"APIHandler": "app.app"})
    assert result["boto3_ms"] == 150.0 and result["boto3_cpu_ms"] == 95.0 and result["runs"] == 3
    rows = {r["function"]: r for r in result["functions"]}
    assert rows["APIHandler"]["median_ms"] == 300.0 and rows["APIHandler"]["ratio"] == 2.0
    assert rows["APIHandler"]["ok"] is True  # 2.0x is within the target
    assert rows["SweepWorker"]["ratio"] == 2.07 and rows["SweepWorker"]["ok"] is False
    assert rows["SweepWorker"]["cpu_ratio"] == 2.63
    assert result["ok"] is False
    lines = report_lines(result)
    assert "(import boto3)" in lines[2]
    assert lines[3].split()[:2] == ["APIHandler", "app.app"] and lines[3].endswith("-> ok")
    assert lines[4].endswith("-> MISSED")
