"""Settings from the environment: names, defaults, and errors that name the variable, never the value."""

from __future__ import annotations

import pytest

from shared.errors import ConfigError
from shared.setting_rules import DEFAULT_INFERENCE_URL
from shared.settings import Settings


def test_defaults_point_at_the_router_not_the_retired_host():
    settings = Settings.from_env({})
    assert settings.hf_inference_url == DEFAULT_INFERENCE_URL
    assert settings.hf_inference_url.startswith("https://router.huggingface.co/")
    assert settings.allowed_origins == ("*",)
    assert settings.max_body_bytes == 16 * 1024
    assert settings.demo_mode is False and settings.hf_token is None


@pytest.mark.parametrize("name", ["HF_TOKEN", "HUGGINGFACE_API_KEY"])
def test_token_is_read_from_either_name(name):
    assert Settings.from_env({name: "hf_x"}).hf_token == "hf_x"


def test_hf_token_wins_over_the_seed_name():
    assert Settings.from_env({"HF_TOKEN": "a", "HUGGINGFACE_API_KEY": "b"}).hf_token == "a"


def test_token_is_not_in_the_repr():
    assert "hf_secret" not in repr(Settings.from_env({"HF_TOKEN": "hf_secret"}))


def test_lists_numbers_and_flags_parse():
    s = Settings.from_env(
        {
            "ALLOWED_ORIGINS": "https://a.example, https://b.example/ ,",
            "MAX_BODY_BYTES": "2048",
            "UPSTREAM_READ_TIMEOUT": "2.5",
            "DEMO_MODE": "yes",
            "HF_INFERENCE_URL": "http://x/y/",
        }
    )
    assert s.allowed_origins == ("https://a.example", "https://b.example")
    assert (s.max_body_bytes, s.read_timeout, s.demo_mode, s.hf_inference_url) == (2048, 2.5, True, "http://x/y")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MAX_BODY_BYTES": "big"}, "MAX_BODY_BYTES must be a whole number"),
        ({"MAX_BODY_BYTES": "10"}, "MAX_BODY_BYTES must be between"),
        ({"UPSTREAM_READ_TIMEOUT": "soon"}, "UPSTREAM_READ_TIMEOUT must be a number"),
        ({"DEMO_MODE": "maybe"}, "DEMO_MODE must be true or false"),
        ({"HF_INFERENCE_URL": "api-inference.huggingface.co/models/gpt2"}, "HF_INFERENCE_URL must be an http(s) URL"),
    ],
)
def test_malformed_values_name_the_variable(env, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env(env)
