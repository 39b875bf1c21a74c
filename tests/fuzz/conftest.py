"""Fixtures for the fuzz tests: the proxy with small limits, so limits are easy to hit."""

from __future__ import annotations

import pytest

from tests.fuzz.strategies import ALLOWED_ORIGIN, MAX_BODY, MAX_PROMPT


@pytest.fixture
def fuzz_settings(settings):
    return settings.with_changes(
        allowed_origins=(ALLOWED_ORIGIN,), max_prompt_chars=MAX_PROMPT, max_body_bytes=MAX_BODY, max_new_tokens=50
    )
