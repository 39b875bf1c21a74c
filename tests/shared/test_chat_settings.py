"""Chat settings from the environment: the allowlist, its default, the caps."""

from __future__ import annotations

import pytest

from shared.errors import ConfigError
from shared.setting_rules import DEFAULT_CHAT_MODELS, DEFAULT_CHAT_URL
from shared.settings import Settings


def test_defaults_point_at_the_router_with_a_small_open_model_list():
    settings = Settings.from_env({})
    assert settings.hf_chat_url == DEFAULT_CHAT_URL == "https://router.huggingface.co/v1/chat/completions"
    assert settings.chat_models == DEFAULT_CHAT_MODELS
    assert settings.chat_default_model == DEFAULT_CHAT_MODELS[0]
    assert (settings.chat_max_messages, settings.chat_max_content_chars, settings.chat_max_tokens) == (32, 4000, 512)


def test_the_operator_sets_the_list_the_default_and_the_caps():
    settings = Settings.from_env(
        {
            "HF_CHAT_URL": "https://my-endpoint.example/v1/chat/completions/",
            "CHAT_MODELS": " a/one , b/two ,",
            "CHAT_DEFAULT_MODEL": "b/two",
            "CHAT_MAX_MESSAGES": "4",
            "CHAT_MAX_CONTENT_CHARS": "100",
            "CHAT_MAX_TOKENS": "64",
        }
    )
    assert settings.hf_chat_url == "https://my-endpoint.example/v1/chat/completions"
    assert settings.chat_models == ("a/one", "b/two")
    assert settings.chat_default_model == "b/two"
    assert (settings.chat_max_messages, settings.chat_max_content_chars, settings.chat_max_tokens) == (4, 100, 64)


def test_the_default_model_is_the_first_listed_when_not_set():
    assert Settings.from_env({"CHAT_MODELS": "x/y,z/w"}).chat_default_model == "x/y"


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"CHAT_MODELS": "a/b", "CHAT_DEFAULT_MODEL": "c/d"}, "CHAT_DEFAULT_MODEL"),
        ({"CHAT_MODELS": " , "}, "CHAT_MODELS"),
        ({"HF_CHAT_URL": "router.huggingface.co"}, "HF_CHAT_URL"),
        ({"CHAT_MAX_TOKENS": "0"}, "CHAT_MAX_TOKENS"),
        ({"CHAT_MAX_MESSAGES": "many"}, "CHAT_MAX_MESSAGES"),
        ({"CHAT_MAX_CONTENT_CHARS": "-1"}, "CHAT_MAX_CONTENT_CHARS"),
    ],
)
def test_bad_values_name_the_setting(env, names):
    with pytest.raises(ConfigError) as exc:
        Settings.from_env(env)
    assert names in str(exc.value)


@pytest.mark.parametrize(
    ("env", "fallback"),
    [
        ({}, DEFAULT_CHAT_MODELS[0]),
        ({"CHAT_MODELS": "x/y,z/w", "CHAT_DEFAULT_MODEL": "z/w"}, "z/w"),
        ({"GENERATE_FALLBACK_MODEL": " acme/chat "}, "acme/chat"),
        ({"GENERATE_FALLBACK_MODEL": ""}, ""),
        ({"GENERATE_FALLBACK_MODEL": "  "}, ""),
    ],
)
def test_the_generate_fallback_follows_the_chat_default_and_empty_turns_it_off(env, fallback):
    # GIVEN this environment  THEN /api/generate falls back to this chat model ("" = never)
    assert Settings.from_env(env).generate_fallback_model == fallback
