"""The Lambda function's token source: AWS Secrets Manager (through moto), cached, and its errors."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from werkzeug.test import Client

from functions.aws_lambda import handler, secret
from shared.app import ProxyApp
from shared.errors import ProxyError
from shared.settings import Settings
from tests.conftest import MODEL_PATH, TEST_TOKEN, post_json
from tests.fakes.lambda_context import LambdaContext
from tests.functions.aws_lambda import events


@pytest.fixture
def aws(monkeypatch):
    """GIVEN AWS Secrets Manager (moto) with fake credentials, and an empty secret cache."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    secret.clear_cache()
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")
    secret.clear_cache()


def source(arn: str | None, max_age: int = 300) -> secret.SecretsManagerToken:
    return secret.SecretsManagerToken(secret.SecretSettings(arn=arn, max_age=max_age))


def token(settings: Settings, arn: str | None, max_age: int = 300) -> str:
    return source(arn, max_age)(settings)


@pytest.mark.parametrize("value", [TEST_TOKEN, f'{{"HF_TOKEN": "{TEST_TOKEN}"}}', f'{{"token": "{TEST_TOKEN}"}}'])
def test_token_comes_from_the_secret_as_plain_text_or_json(aws, value):
    """GIVEN a secret holding the token as text or JSON; THEN the source returns the token."""
    arn = aws.create_secret(Name="hfproxy/token", SecretString=value)["ARN"]
    assert token(Settings(), arn) == TEST_TOKEN


def test_hf_token_wins_over_the_secret(aws):
    """GIVEN both HF_TOKEN and an ARN naming a missing secret; THEN HF_TOKEN is used, nothing fetched."""
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf"
    assert token(Settings(hf_token="direct"), arn) == "direct"


def test_secret_is_cached_in_process(aws):
    """GIVEN a fetched secret; WHEN it is rotated; THEN the cached value serves until the cache is cleared."""
    arn = aws.create_secret(Name="hfproxy/token", SecretString="first")["ARN"]
    assert token(Settings(), arn) == "first"
    aws.put_secret_value(SecretId=arn, SecretString="second")
    assert token(Settings(), arn) == "first"
    secret.clear_cache()
    assert token(Settings(), arn) == "second"


def test_missing_secret_is_a_500_naming_the_setting(aws):
    """GIVEN an ARN naming no secret; THEN server_misconfigured names HF_TOKEN_SECRET_ARN."""
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf"
    with pytest.raises(ProxyError) as err:
        token(Settings(), arn)
    assert err.value.status == 500 and err.value.code == "server_misconfigured"
    assert "HF_TOKEN_SECRET_ARN" in err.value.message


def test_secret_without_a_token_key_is_a_500(aws):
    """GIVEN a JSON secret without a token key; THEN server_misconfigured."""
    arn = aws.create_secret(Name="hfproxy/token", SecretString='{"other": "x"}')["ARN"]
    with pytest.raises(ProxyError, match="server_misconfigured"):
        token(Settings(), arn)


def test_configured_without_fetching(aws):
    """GIVEN only an ARN (naming nothing); THEN the source counts as configured (health), without a fetch."""
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf"
    assert source(arn).configured(Settings())
    assert not source(None).configured(Settings())


def test_generate_sends_the_secret_token_upstream(aws, settings, upstream):
    """GIVEN an app with the Secrets Manager source and only an ARN; THEN the secret's token goes upstream."""
    arn = aws.create_secret(Name="hfproxy/token", SecretString=TEST_TOKEN)["ARN"]
    app = ProxyApp(settings.with_changes(hf_token=None), token_source=source(arn))
    assert post_json(Client(app), "/api/generate", {"inputs": "Hi"}).status_code == 200
    assert upstream.received[-1].headers["authorization"] == f"Bearer {TEST_TOKEN}"


def test_the_lambda_handler_reads_the_secret(aws, monkeypatch, upstream):
    """GIVEN the function's environment with only HF_TOKEN_SECRET_ARN; WHEN invoked; THEN the secret's token is sent."""
    arn = aws.create_secret(Name="hfproxy/token", SecretString=TEST_TOKEN)["ARN"]
    for name in ("HF_TOKEN", "HUGGINGFACE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_TOKEN_SECRET_ARN", arn)
    monkeypatch.setenv("HF_INFERENCE_URL", upstream.url + MODEL_PATH)
    handler.app.configure(None)
    try:
        event = events.load(
            "http_api_v2", body=json.dumps({"inputs": "Hi"}), headers={"content-type": "application/json"}
        )
        resp = handler.lambda_handler(event, LambdaContext())
    finally:
        handler.app.configure(None)
    assert resp["statusCode"] == 200, resp
    assert upstream.received[-1].headers["authorization"] == f"Bearer {TEST_TOKEN}"


def test_deep_health_with_an_unreadable_secret_says_so_and_still_answers(aws):
    # GIVEN HF_TOKEN_SECRET_ARN naming a secret that does not exist
    from shared.routes import health_deep

    health_deep.forget()
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf"
    resp = Client(ProxyApp(Settings(), token_source=source(arn))).get("/api/health?deep=1")
    health_deep.forget()
    # THEN 200, every route unknown with the reason, and nothing was asked of the Hub
    assert resp.status_code == 200
    routes = resp.json["deep"]["routes"]
    assert {r["reason"] for r in routes.values()} == {"hf_credentials_unreadable"}
