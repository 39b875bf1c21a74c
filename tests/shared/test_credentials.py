"""The core's token source: the environment only, and a clear answer when only an AWS secret ARN is set."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shared.credentials import ENVIRONMENT
from shared.errors import ProxyError
from shared.settings import Settings
from tests.conftest import TEST_TOKEN, client_for, post_json

ROOT = Path(__file__).resolve().parents[2]
ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:hf-AbCdEf"


def test_the_token_comes_from_the_settings():
    """GIVEN HF_TOKEN (and an ARN beside it); THEN the core's source answers HF_TOKEN."""
    assert ENVIRONMENT(Settings(hf_token=TEST_TOKEN)) == TEST_TOKEN
    assert ENVIRONMENT.configured(Settings(hf_token=TEST_TOKEN))


def test_no_token_is_a_500_naming_the_setting():
    """GIVEN no HF_TOKEN; THEN server_misconfigured names what to set (and that only Lambda reads an ARN)."""
    with pytest.raises(ProxyError) as err:
        ENVIRONMENT(Settings())
    assert err.value.status == 500 and err.value.code == "server_misconfigured"
    assert "HF_TOKEN" in err.value.message and "HF_TOKEN_SECRET_ARN" in err.value.message
    assert not ENVIRONMENT.configured(Settings())


def test_the_core_settings_know_no_platform_only_setting():
    """GIVEN the Lambda adapter's own variables in the environment; THEN the core's settings ignore them."""
    assert Settings.from_env({"HF_TOKEN_SECRET_ARN": ARN, "HF_TOKEN_SECRET_MAX_AGE": "9"}) == Settings.from_env({})


def test_an_arn_outside_aws_is_answered_with_the_setting_named(settings, upstream):
    """GIVEN the core app with only HF_TOKEN_SECRET_ARN; WHEN a model route is called
    THEN the JSON error names HF_TOKEN_SECRET_ARN, nothing goes upstream, and health says misconfigured."""
    client = client_for(settings.with_changes(hf_token=None))
    resp = post_json(client, "/api/generate", {"inputs": "Hi"})
    assert resp.status_code == 500 and resp.json["code"] == "server_misconfigured"
    assert "HF_TOKEN_SECRET_ARN" in resp.json["error"] and "HF_TOKEN" in resp.json["error"]
    assert upstream.received == []
    assert client.get("/api/health").json["status"] == "misconfigured"


def test_the_vercel_entry_answers_an_arn_without_powertools():
    """GIVEN Vercel's entry in a process where aws-lambda-powertools and boto3 cannot be imported (its
    bundle has neither) and only HF_TOKEN_SECRET_ARN set; WHEN /api/generate is called
    THEN the answer is the documented server_misconfigured JSON naming the setting, not internal_error."""
    code = """
import json, os, sys
for name in ("aws_lambda_powertools", "boto3", "botocore"):
    sys.modules[name] = None  # import raises ImportError, as in a bundle without them
from werkzeug.test import Client
from api.index import app
resp = Client(app).post("/api/generate", json={"inputs": "Hi"})
print(json.dumps({"status": resp.status_code, "body": resp.json}))
"""
    env = {"PATH": "/usr/bin:/bin", "HF_TOKEN_SECRET_ARN": ARN, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=ROOT)
    answer = json.loads(out.stdout)
    assert answer["status"] == 500 and answer["body"]["code"] == "server_misconfigured", answer
    assert "HF_TOKEN_SECRET_ARN" in answer["body"]["error"]


def test_the_core_never_imports_boto3():
    """GIVEN a token or an ARN; WHEN the core resolves the token; THEN boto3 and powertools stay unimported."""
    code = (
        "import sys; from shared.settings import Settings; from shared.credentials import ENVIRONMENT;"
        "ENVIRONMENT(Settings(hf_token='x'));"
        "print(any(m in sys.modules for m in ('boto3', 'aws_lambda_powertools')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"
