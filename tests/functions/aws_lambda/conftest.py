"""The function's environment as template.yaml sets it, for the handler tests."""

from __future__ import annotations

import pytest

from functions.aws_lambda import handler
from tests.conftest import MODEL_PATH, TEST_TOKEN


@pytest.fixture
def lambda_env(monkeypatch, upstream):
    """GIVEN the function's environment as template.yaml sets it, pointing at the fake upstream."""
    for name, value in {
        "HF_TOKEN": TEST_TOKEN,
        "HF_INFERENCE_URL": upstream.url + MODEL_PATH,
        "ALLOWED_ORIGINS": "https://app.example",
        "REQUEST_DEADLINE_SECONDS": "25",
    }.items():
        monkeypatch.setenv(name, value)
    handler.app.configure(None)  # re-read the environment, as a fresh instance would
    yield upstream
    handler.app.configure(None)
