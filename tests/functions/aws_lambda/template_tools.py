"""What the template tests share: the template, the real SAM translator run offline, cfn-lint,
and CloudFormation's rule functions evaluated as CloudFormation would."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint
from samtranslator.translator.transform import transform

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "template.yaml"
GATEWAY_TIMEOUT_S = 29  # API Gateway's integration limit the README promises to stay under


class _NoManagedPolicies:
    """The translator asks IAM for AWS managed policy names only when a template names one by
    name; ours uses a policy template and ARNs, so this must never be needed (no network)."""

    def load(self) -> dict:
        raise AssertionError("the translator tried to call IAM")


def lint_findings(text: str) -> list[str]:
    """Every cfn-lint finding, informational and experimental rules included."""
    config = ManualArgs(regions=["us-east-1"], include_checks=["I"], include_experimental=True)
    return [str(match) for match in lint(text, config=config)]


def translate(template: dict) -> dict:
    sam = copy.deepcopy(template)
    # `sam package`/`sam deploy` replace the local CodeUri with the uploaded zip before the transform.
    for name in ("HfProxyFunction", "HfProxyStreamFunction"):
        sam["Resources"][name]["Properties"]["CodeUri"] = "s3://bucket/hfproxy.zip"
    with pytest.MonkeyPatch.context() as mp:
        for name, value in {
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }.items():
            mp.setenv(name, value)
        return transform(sam, {}, _NoManagedPolicies())


def resources_of_type(cfn: dict, kind: str) -> dict:
    return {name: r for name, r in cfn["Resources"].items() if r["Type"] == kind}


def evaluate(expr, parameters: dict):
    """The rule functions our Rules use (Fn::Or/Not/Equals, Ref), evaluated like CloudFormation."""
    if isinstance(expr, dict):
        ((key, arg),) = expr.items()
        if key == "Ref":
            return parameters[arg]
        values = [evaluate(a, parameters) for a in arg]
        return {"Fn::Or": any, "Fn::Not": lambda v: not v[0], "Fn::Equals": lambda v: v[0] == v[1]}[key](values)
    return expr


def resolve_if(value, has_limits: bool):
    """A template value ``!If [HasLimits, a, b]`` as CloudFormation resolves it."""
    if isinstance(value, dict) and "Fn::If" in value:
        condition, yes, no = value["Fn::If"]
        assert condition == "HasLimits"
        return yes if has_limits else no
    return value
