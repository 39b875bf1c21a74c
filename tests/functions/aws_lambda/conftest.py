"""The function's environment as template.yaml sets it, for the handler tests."""

from __future__ import annotations

import pytest
from samtranslator.yaml_helper import yaml_parse

from tests.conftest import MODEL_PATH, function_env
from tests.functions.aws_lambda import template_tools


@pytest.fixture
def lambda_env(monkeypatch, upstream):
    """GIVEN the function's environment as template.yaml sets it, pointing at the fake upstream."""
    with function_env(
        monkeypatch,
        HF_INFERENCE_URL=upstream.url + MODEL_PATH,
        ALLOWED_ORIGINS="https://app.example",
        REQUEST_DEADLINE_SECONDS="25",
    ):
        yield upstream


@pytest.fixture(scope="module")
def sam() -> dict:
    return yaml_parse(template_tools.TEMPLATE.read_text())


@pytest.fixture(scope="module")
def cfn(sam) -> dict:
    return template_tools.translate(sam)


@pytest.fixture(scope="module")
def function(sam) -> dict:
    return sam["Resources"]["HfProxyFunction"]["Properties"]
