"""The token from AWS Secrets Manager (through moto), cached, and the errors when it is missing."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from shared import credentials
from shared.errors import ProxyError
from shared.settings import Settings
from tests.conftest import TEST_TOKEN, client_for, post_json


@pytest.fixture
def aws(monkeypatch):
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    credentials.clear_cache()
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")
    credentials.clear_cache()


@pytest.mark.parametrize("secret", [TEST_TOKEN, f'{{"HF_TOKEN": "{TEST_TOKEN}"}}', f'{{"token": "{TEST_TOKEN}"}}'])
def test_token_comes_from_the_secret_as_plain_text_or_json(aws, secret):
    arn = aws.create_secret(Name="hfproxy/token", SecretString=secret)["ARN"]
    assert credentials.resolve_token(Settings(hf_token_secret_arn=arn)) == TEST_TOKEN


def test_secret_is_cached_in_process(aws):
    arn = aws.create_secret(Name="hfproxy/token", SecretString="first")["ARN"]
    settings = Settings(hf_token_secret_arn=arn, secret_max_age=300)
    assert credentials.resolve_token(settings) == "first"
    aws.put_secret_value(SecretId=arn, SecretString="second")
    assert credentials.resolve_token(settings) == "first"
    credentials.clear_cache()
    assert credentials.resolve_token(settings) == "second"


def test_missing_secret_is_a_500_naming_the_setting(aws):
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf"
    with pytest.raises(ProxyError) as err:
        credentials.resolve_token(Settings(hf_token_secret_arn=arn))
    assert err.value.status == 500 and "HF_TOKEN_SECRET_ARN" in err.value.message


def test_secret_without_a_token_key_is_a_500(aws):
    arn = aws.create_secret(Name="hfproxy/token", SecretString='{"other": "x"}')["ARN"]
    with pytest.raises(ProxyError, match="server_misconfigured"):
        credentials.resolve_token(Settings(hf_token_secret_arn=arn))


def test_generate_sends_the_secret_token_upstream(aws, settings, upstream):
    arn = aws.create_secret(Name="hfproxy/token", SecretString=TEST_TOKEN)["ARN"]
    client = client_for(settings.with_changes(hf_token=None, hf_token_secret_arn=arn))
    assert post_json(client, "/api/generate", {"inputs": "Hi"}).status_code == 200
    assert upstream.received[-1].headers["authorization"] == f"Bearer {TEST_TOKEN}"


def test_env_token_does_not_import_boto3():
    import subprocess
    import sys

    code = (
        "import sys; from shared.settings import Settings; from shared.credentials import resolve_token;"
        "resolve_token(Settings(hf_token='x')); print('boto3' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_deep_health_with_an_unreadable_secret_says_so_and_still_answers(aws):
    # GIVEN HF_TOKEN_SECRET_ARN naming a secret that does not exist
    from shared.routes import health_deep

    health_deep.forget()
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf"
    resp = client_for(Settings(hf_token_secret_arn=arn)).get("/api/health?deep=1")
    health_deep.forget()
    # THEN 200, every route unknown with the reason, and nothing was asked of the Hub
    assert resp.status_code == 200
    routes = resp.json["deep"]["routes"]
    assert {r["reason"] for r in routes.values()} == {"hf_credentials_unreadable"}
