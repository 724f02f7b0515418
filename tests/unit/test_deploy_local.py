"""Deploying on the emulator (issue 12): the same Python as the template's runtime, and what the emulator refuses
left out of the template by infra/emulator_gaps.json only."""

from __future__ import annotations

import copy
import re
import sys
from typing import Any

import pytest

from scripts.deploy_local import PythonMismatch, check_python, runtime_python
from scripts.emulator_gaps import Gap, for_emulator, gaps, substitute_stage

HERE = f"python{sys.version_info.major}.{sys.version_info.minor}"
OTHER = "python3.12" if HERE != "python3.12" else "python3.13"


def _function(runtime: str, kind: str = "AWS::Serverless::Function") -> dict[str, Any]:
    return {"Type": kind, "Properties": {"Runtime": runtime, "Handler": "app.app"}}


def _template(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": {"Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}}, **resources}}


# -- check_python --------------------------------------------------------------------------------------------------


def test_the_runtime_of_this_interpreter_is_its_lambda_name() -> None:
    assert runtime_python() == HERE
    assert HERE == "python3.11"  # pyproject.toml's python_version, the template's Runtime


def test_a_template_of_this_python_passes() -> None:
    check_python(_template(Api=_function(HERE), Worker=_function(HERE, "AWS::Lambda::Function")))


def test_a_template_of_another_python_is_refused_with_both_versions_and_the_fix() -> None:
    template = _template(Api=_function(HERE), Worker=_function(OTHER))
    with pytest.raises(PythonMismatch) as raised:
        check_python(template)
    message = str(raised.value)
    other_version, here_version = OTHER.removeprefix("python"), HERE.removeprefix("python")
    assert f"run on {OTHER}" in message
    assert f"with Python {here_version}" in message and sys.executable in message
    assert f"make clean && make run PY=python{other_version}" in message


def test_a_plain_lambda_function_of_another_python_is_refused_too() -> None:
    with pytest.raises(PythonMismatch, match=re.escape(OTHER)):
        check_python(_template(Fn=_function(OTHER, "AWS::Lambda::Function")))


def test_every_other_runtime_is_named() -> None:
    with pytest.raises(PythonMismatch, match=re.escape("run on python3.10, python3.12")):
        check_python(_template(A=_function("python3.12"), B=_function("python3.10"), C=_function(HERE)))


# -- for_emulator ----------------------------------------------------------------------------------------------------

SES_TEMPLATE = {
    "Type": "AWS::SES::Template",
    "Properties": {"Template": {"TemplateName": {"Fn::Sub": "loyalty-${Stage}-grant-en"}, "SubjectPart": "Hi"}},
}
MATH_ALARM = {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Metrics": [{"Id": "rate", "Expression": "a / b"}]}}
SINGLE_METRIC_ALARM = {
    "Type": "AWS::CloudWatch::Alarm",
    "Properties": {"MetricName": "Errors", "Namespace": "AWS/Lambda"},
}


def test_the_gaps_are_read_from_infra_emulator_gaps_json() -> None:
    listed = {gap.describe() for gap in gaps()}
    assert listed == {"AWS::SES::Template", "AWS::CloudWatch::Alarm with Metrics"}
    assert all(gap.reason and gap.instead for gap in gaps())


def test_for_emulator_leaves_out_exactly_what_the_gaps_match() -> None:
    template = _template(Email=SES_TEMPLATE, RateAlarm=MATH_ALARM, ErrorsAlarm=SINGLE_METRIC_ALARM, Api=_function(HERE))
    original = copy.deepcopy(template)
    local, left_out = for_emulator(template)
    assert {k: v.describe() for k, v in left_out.items()} == {
        "Email": "AWS::SES::Template",
        "RateAlarm": "AWS::CloudWatch::Alarm with Metrics",
    }
    assert set(local["Resources"]) == {"Table", "ErrorsAlarm", "Api"}
    assert local["Resources"]["ErrorsAlarm"] == SINGLE_METRIC_ALARM
    assert template == original  # AWS gets the template unchanged


def test_for_emulator_keeps_a_template_without_gaps_as_it_is() -> None:
    template = _template(Api=_function(HERE))
    local, left_out = for_emulator(template)
    assert (local, left_out) == (template, {})
    assert local is not template


def test_a_gap_with_a_property_matches_only_resources_that_have_it() -> None:
    gap = Gap(type="AWS::CloudWatch::Alarm", reason="r", instead="i", with_property="Metrics")
    assert gap.matches(MATH_ALARM) and not gap.matches(SINGLE_METRIC_ALARM) and not gap.matches(SES_TEMPLATE)
    assert Gap(type="AWS::SES::Template", reason="r", instead="i").matches(SES_TEMPLATE)


# -- substitute_stage ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Fn::Sub": "loyalty-${Stage}-grant-en"}, "loyalty-prod-grant-en"),
        ({"Fn::Sub": "${Stage}/${Stage}"}, "prod/prod"),
        ({"Fn::Sub": "no-stage"}, "no-stage"),
        ("loyalty-plain", "loyalty-plain"),
    ],
)
def test_substitute_stage(value: Any, expected: str) -> None:
    assert substitute_stage(value, "prod") == expected


def test_substitute_stage_refuses_other_variables() -> None:
    with pytest.raises(
        ValueError, match=r"only \$\{Stage\} can be substituted here: loyalty-\$\{Stage\}-\$\{AWS::Region\}"
    ):
        substitute_stage({"Fn::Sub": "loyalty-${Stage}-${AWS::Region}"}, "dev")
