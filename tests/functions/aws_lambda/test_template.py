"""template.yaml: the SAM translator turns it into CloudFormation offline, cfn-lint finds nothing in
either, and the properties the proxy depends on are wired as the README and the core expect.

The translator is the real one (aws-sam-translator, what `sam validate` and CloudFormation's
`AWS::Serverless` transform run); it needs a region and no network: fake credentials only keep
boto3 from looking for real ones.
"""

from __future__ import annotations

import copy
import json

import pytest

from functions.aws_lambda.secret import SecretSettings
from shared.settings import Settings
from tests.functions.aws_lambda.template_tools import (
    GATEWAY_TIMEOUT_S,
    ROOT,
    TEMPLATE,
    evaluate,
    lint_findings,
    resolve_if,
    resources_of_type,
    translate,
)


def test_template_yaml_has_no_cfn_lint_finding():
    # GIVEN the SAM template as users deploy it WHEN cfn-lint runs THEN it reports nothing
    assert lint_findings(TEMPLATE.read_text()) == []


def test_generated_cloudformation_has_no_cfn_lint_finding(cfn):
    # GIVEN the CloudFormation the SAM transform produces WHEN cfn-lint runs THEN it reports nothing
    assert lint_findings(json.dumps(cfn)) == []


def test_cfn_lint_does_catch_a_broken_template(sam):
    """The two tests above would pass vacuously if lint saw nothing: show it sees a real fault."""
    # GIVEN the template with a timeout above Lambda's 900 s maximum
    broken = copy.deepcopy(sam)
    broken["Resources"]["HfProxyFunction"]["Properties"]["Timeout"] = 901
    # WHEN translated and linted THEN the fault is reported
    assert any("901" in finding for finding in lint_findings(json.dumps(translate(broken))))


def test_transform_yields_one_function_behind_an_http_api(cfn):
    # GIVEN the generated CloudFormation
    functions = resources_of_type(cfn, "AWS::Lambda::Function")
    apis = resources_of_type(cfn, "AWS::ApiGatewayV2::Api")
    # THEN there is one Python 3.12 function with the adapter as handler, behind one HTTP API
    # (and the streaming function beside it, behind its Function URL: test_stream_template below)
    assert sorted(functions) == ["HfProxyFunction", "HfProxyStreamFunction"]
    props = functions["HfProxyFunction"]["Properties"]
    assert props["Runtime"] == "python3.12"
    assert props["Handler"] == "functions/aws_lambda/handler.lambda_handler"
    assert (ROOT / "functions/aws_lambda/handler.py").is_file()
    (api,) = apis.values()
    # AND every /api/* path and method (OPTIONS included) goes to it, through its alias "live"
    # (test_template_snapstart.py), with payload format 2.0
    route = api["Properties"]["Body"]["paths"]["/api/{proxy+}"]
    integration = route["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]
    assert integration["payloadFormatVersion"] == "2.0"
    assert "${HfProxyFunctionAliaslive}" in integration["uri"]["Fn::Sub"]


def test_timeouts_are_ordered_core_then_function_then_gateway(sam, cfn, function):
    """The core must answer (504 envelope) before Lambda kills it, and Lambda before the gateway."""
    deadline = float(function["Environment"]["Variables"]["REQUEST_DEADLINE_SECONDS"])
    timeout = function["Timeout"]
    integration_s = (
        sam["Resources"]["HfProxyFunction"]["Properties"]["Events"]["Api"]["Properties"]["TimeoutInMillis"] / 1000
    )
    assert deadline + Settings().deadline_margin <= timeout < integration_s <= GATEWAY_TIMEOUT_S
    assert cfn["Resources"]["HfProxyFunction"]["Properties"]["Timeout"] == timeout


def test_secret_read_is_granted_only_for_the_given_secret(cfn):
    # GIVEN the function's IAM role in the generated CloudFormation
    role = cfn["Resources"]["HfProxyFunctionRole"]["Properties"]
    policy, _quota = role["Policies"]
    # THEN the secret's inline policy exists only when a secret ARN is given
    condition, granted, otherwise = policy["Fn::If"]
    assert condition == "UsesSecret" and otherwise == {"Ref": "AWS::NoValue"}
    assert cfn["Conditions"]["UsesSecret"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "HfTokenSecretArn"}, ""]}]}
    # AND it allows GetSecretValue on that one ARN, nothing else
    (statement,) = granted["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["secretsmanager:GetSecretValue"]
    assert statement["Resource"] == {"Fn::Sub": ["${secretArn}", {"secretArn": {"Ref": "HfTokenSecretArn"}}]}
    # AND besides it only the basic logging policy is attached
    assert [arn.rsplit("/", 1)[-1] for arn in role["ManagedPolicyArns"]] == ["AWSLambdaBasicExecutionRole"]


def test_throttling_comes_from_the_parameters(cfn):
    # GIVEN the HTTP API stage in the generated CloudFormation
    (stage,) = resources_of_type(cfn, "AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"]["DefaultRouteSettings"]
    # THEN burst and rate limits are the deploy-time parameters, not constants
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ThrottlingBurstLimit"}
    assert settings["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}
    assert stage["Properties"]["StageName"] == "$default"  # so ApiUrl needs no stage path


def test_gateway_leaves_cors_to_the_function(sam, cfn):
    """With a CorsConfiguration, API Gateway answers preflights itself and drops the function's CORS
    headers (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html)."""
    assert "CorsConfiguration" not in sam["Resources"]["HfProxyApi"]["Properties"]
    assert "Globals" not in sam or "CorsConfiguration" not in sam["Globals"].get("HttpApi", {})
    (api,) = resources_of_type(cfn, "AWS::ApiGatewayV2::Api").values()
    assert "CorsConfiguration" not in api["Properties"]
    assert "x-amazon-apigateway-cors" not in api["Properties"]["Body"]


ADAPTER_SETTINGS = {name for name, _, _ in SecretSettings.declared()}
# template environment variable -> (a value a user could set, the settings attribute it must reach)
ENVIRONMENT_EFFECTS = {
    "HF_TOKEN_SECRET_ARN": ("arn:aws:secretsmanager:us-east-1:123456789012:secret:hf-AbCdEf", "arn"),
    "HF_TOKEN": ("hf_template_test", "hf_token"),
    "ALLOWED_ORIGINS": ("https://app.example", "allowed_origins"),
    "HF_INFERENCE_URL": ("https://example.test/models/gpt2", "hf_inference_url"),
    "CHAT_MODELS": ("org/model-a,org/model-b", "chat_models"),
    "REQUEST_DEADLINE_SECONDS": ("26", "request_deadline"),
    "RATE_LIMIT_PER_MINUTE": ("30", "rate_limit_per_minute"),
    "CLIENT_DAILY_TOKENS": ("20000", "client_daily_tokens"),
    "DAILY_TOKEN_BUDGET": ("1000000", "daily_token_budget"),
    "QUOTA_STORE": ("dynamodb", "quota_store"),
    "QUOTA_TABLE": ("hfproxy-QuotaTable-ABC", "quota_table"),
    "QUOTA_FAIL_OPEN": ("true", "quota_fail_open"),
}


def test_every_environment_variable_reaches_the_settings(function):
    # GIVEN the variables the template sets (powertools' own excepted)
    names = {n for n in function["Environment"]["Variables"] if not n.startswith("POWERTOOLS_")}
    assert names == set(ENVIRONMENT_EFFECTS)
    for name, (value, attribute) in ENVIRONMENT_EFFECTS.items():
        # WHEN only that variable is set THEN the settings that declare it (the core's, or the
        # adapter's own) read it into the matching field
        reader = SecretSettings if name in ADAPTER_SETTINGS else Settings
        assert getattr(reader.from_env({name: value}), attribute) != getattr(reader.from_env({}), attribute), name


def test_empty_parameters_mean_the_core_defaults(sam, function):
    """Optional parameters default to "" and the core must read "" as unset (not as a value)."""
    env = {}
    for name, value in function["Environment"]["Variables"].items():
        value = resolve_if(value, has_limits=False)
        ref = value["Ref"] if isinstance(value, dict) else None
        env[name] = sam["Parameters"][ref].get("Default", "") if ref else value
    settings = Settings.from_env(env)
    assert settings.hf_token is None and SecretSettings.from_env(env).arn is None
    assert (settings.rate_limit_per_minute, settings.client_daily_tokens, settings.daily_token_budget) == (None,) * 3
    assert settings.quota_store == "memory" and settings.quota_fail_open is False
    assert settings.chat_models == Settings.from_env({}).chat_models
    assert settings.allowed_origins == ("*",)
    assert settings.hf_inference_url == sam["Parameters"]["HfInferenceUrl"]["Default"]


@pytest.mark.parametrize(
    ("secret_arn", "token", "refused_with"),
    [
        ("", "", "Set HfTokenSecretArn (recommended) or HfToken."),
        ("arn:aws:secretsmanager:us-east-1:123456789012:secret:hf-AbCdEf", "hf_x", "Set only one of"),
        ("arn:aws:secretsmanager:us-east-1:123456789012:secret:hf-AbCdEf", "", None),
        ("", "hf_x", None),
    ],
)
def test_deploy_rules_require_exactly_one_token_source(sam, secret_arn, token, refused_with):
    # GIVEN the parameters a user passes to `sam deploy`
    parameters = {"HfTokenSecretArn": secret_arn, "HfToken": token}
    # WHEN CloudFormation evaluates the template's Rules
    failed = [
        a["AssertDescription"]
        for rule in sam["Rules"].values()
        for a in rule["Assertions"]
        if not evaluate(a["Assert"], parameters)
    ]
    # THEN a stack without a token source (or with two) is refused before anything is created
    if refused_with is None:
        assert failed == []
    else:
        assert len(failed) == 1 and failed[0].startswith(refused_with)


def test_token_parameter_is_never_echoed(sam):
    assert sam["Parameters"]["HfToken"]["NoEcho"] is True
    assert "NoEcho" not in sam["Parameters"]["HfTokenSecretArn"]  # an ARN is not a secret


def test_outputs_give_the_api_and_health_urls(cfn):
    outputs = cfn["Outputs"]
    assert outputs["ApiUrl"]["Value"] == {
        "Fn::Sub": "https://${HfProxyApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    }
    assert outputs["HealthUrl"]["Value"]["Fn::Sub"].endswith("/api/health")


def test_the_streaming_function_runs_under_a_1_x_web_adapter_behind_a_streaming_function_url(sam, cfn):
    stream = cfn["Resources"]["HfProxyStreamFunction"]["Properties"]
    env = stream["Environment"]["Variables"]
    # THEN the adapter's wrapper runs run.sh, which exists, and streams through a Function URL
    assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap" and env["AWS_LWA_INVOKE_MODE"] == "response_stream"
    assert stream["Handler"] == "functions/aws_lambda/run.sh" and (ROOT / stream["Handler"]).is_file()
    (url,) = resources_of_type(cfn, "AWS::Lambda::Url").values()
    assert url["Properties"]["InvokeMode"] == "RESPONSE_STREAM"
    # AND the app answers CORS, not the Function URL (a browser refuses two Allow-Origin headers)
    assert "Cors" not in url["Properties"]
    # AND the default layer is a 1.0+ adapter (earlier ones let a client's x-amzn-request-context through)
    layer = sam["Resources"]["HfProxyStreamFunction"]["Properties"]["Layers"][0]["Fn::If"][1]["Fn::Sub"]
    assert int(layer.rsplit(":", 1)[1]) >= 27  # LambdaAdapterLayerX86:27 is 1.0.0
    # AND its deadline stays under its Lambda timeout, whatever the parameter
    deadline = sam["Parameters"]["StreamDeadlineSeconds"]
    assert deadline["MaxValue"] < stream["Timeout"]
    assert env["REQUEST_DEADLINE_SECONDS"] == {"Ref": "StreamDeadlineSeconds"}
