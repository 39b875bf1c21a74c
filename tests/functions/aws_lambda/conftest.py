"""The function's environment as template.yaml sets it, for the handler tests."""

from __future__ import annotations

import pytest

from tests.conftest import MODEL_PATH, function_env


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
