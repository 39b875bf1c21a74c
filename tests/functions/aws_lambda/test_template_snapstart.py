"""template.yaml's SnapStart parameter: off by default, and when on, SnapStart applies to what the
HTTP API invokes (a published version, through the alias SAM publishes), on a runtime that has it.

SnapStart for Python: Python 3.12 and later, published versions and their aliases only
(https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html, "Supported features and limitations").
"""

from __future__ import annotations

import json

import pytest
from samtranslator.yaml_helper import yaml_parse

from tests.functions.aws_lambda.template_tools import TEMPLATE, lint_findings, resources_of_type, translate


def resolved(value, conditions: dict[str, bool]):
    """``value`` with every ``Fn::If`` decided and ``AWS::NoValue`` dropped, as CloudFormation would."""
    if isinstance(value, dict):
        if set(value) == {"Fn::If"}:
            name, then, otherwise = value["Fn::If"]
            return resolved(then if conditions[name] else otherwise, conditions)
        out = {k: resolved(v, conditions) for k, v in value.items()}
        return {k: v for k, v in out.items() if v != {"Ref": "AWS::NoValue"}}
    if isinstance(value, list):
        return [resolved(v, conditions) for v in value if v != {"Ref": "AWS::NoValue"}]
    return value


def snapstart_on(parameter: str) -> bool:
    """The template's UsesSnapStart condition for this value of the parameter."""
    condition = yaml_parse(TEMPLATE.read_text())["Conditions"]["UsesSnapStart"]
    left, right = condition["Fn::Equals"]
    assert left == {"Ref": "SnapStart"}, "the condition reads the parameter"
    return parameter == right


@pytest.fixture(scope="module")
def sam() -> dict:
    return yaml_parse(TEMPLATE.read_text())


@pytest.fixture(scope="module")
def cfn(sam) -> dict:
    return translate(sam)


def deployed_function(cfn: dict, parameter: str) -> dict:
    conditions = {name: False for name in cfn.get("Conditions", {})} | {"UsesSnapStart": snapstart_on(parameter)}
    return resolved(cfn["Resources"]["HfProxyFunction"]["Properties"], conditions)


def test_snapstart_is_off_unless_asked(sam, cfn):
    # GIVEN the template's SnapStart parameter
    parameter = sam["Parameters"]["SnapStart"]
    # THEN it offers exactly off and published versions, and defaults to off
    assert parameter["Default"] == "None" and parameter["AllowedValues"] == ["None", "PublishedVersions"]
    # AND deployed with its default, no function has SnapStart
    assert "SnapStart" not in deployed_function(cfn, parameter["Default"])
    assert "SnapStart" not in cfn["Resources"]["HfProxyStreamFunction"]["Properties"]


def test_turned_on_it_applies_to_the_published_version_the_api_invokes(cfn):
    # GIVEN SnapStart=PublishedVersions, WHEN deployed
    function = deployed_function(cfn, "PublishedVersions")
    # THEN the buffered function snapshots its published versions, on a runtime SnapStart supports
    assert function["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    major, minor = function["Runtime"].removeprefix("python").split(".")
    assert (int(major), int(minor)) >= (3, 12)
    # AND SAM publishes a version of it and points the alias "live" at that version
    (alias,) = resources_of_type(cfn, "AWS::Lambda::Alias").values()
    (version_id,) = [n for n, r in resources_of_type(cfn, "AWS::Lambda::Version").items() if n in json.dumps(alias)]
    assert cfn["Resources"][version_id]["Properties"]["FunctionName"] == {"Ref": "HfProxyFunction"}
    assert alias["Properties"]["Name"] == "live"
    # AND the HTTP API invokes that alias (SnapStart does nothing for $LATEST)
    (api,) = resources_of_type(cfn, "AWS::ApiGatewayV2::Api").values()
    method = api["Properties"]["Body"]["paths"]["/api/{proxy+}"]["x-amazon-apigateway-any-method"]
    assert "${HfProxyFunctionAliaslive}" in method["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
    # AND nothing it does not support is set: provisioned concurrency, EFS, ephemeral storage over 512 MB
    assert "ProvisionedConcurrencyConfig" not in function and "FileSystemConfigs" not in function
    assert function.get("EphemeralStorage", {"Size": 512})["Size"] <= 512


def test_the_template_lints_clean_with_snapstart_on(sam):
    # GIVEN the template with SnapStart's default turned on, WHEN cfn-lint reads it THEN no finding
    on = json.loads(json.dumps(sam))
    on["Parameters"]["SnapStart"]["Default"] = "PublishedVersions"
    assert lint_findings(json.dumps(on)) == []
    assert lint_findings(json.dumps(translate(on))) == []
