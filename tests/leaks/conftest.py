"""Fixtures for the leak tests: the Lambda function's environment, and every log line."""

from __future__ import annotations

import json
import logging

import pytest

from tests.conftest import MODEL_PATH, function_env


@pytest.fixture
def lambda_env(monkeypatch, upstream):
    """GIVEN the Lambda function configured for the fake upstream (generate and chat)."""
    from tests.fakes import hf_chat

    with function_env(
        monkeypatch,
        HF_INFERENCE_URL=upstream.url + MODEL_PATH,
        HF_CHAT_URL=upstream.url + hf_chat.CHAT_PATH,
    ):
        yield


@pytest.fixture
def all_logs(caplog, capsys):
    """Every log line from every logger (urllib3's DEBUG lines too) and everything printed."""
    caplog.set_level(logging.DEBUG)

    def collect() -> str:
        printed = capsys.readouterr()
        records = [json.dumps(r.__dict__, default=str) + r.getMessage() for r in caplog.records]
        return "\n".join([*records, printed.out, printed.err])

    return collect
