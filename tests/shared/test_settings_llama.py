"""LLAMA_* settings for POST /api/predict: defaults from seed 003, errors that name the variable."""

from __future__ import annotations

import pytest

from shared.errors import ConfigError
from shared.setting_rules import LLAMA_DATA_ORDER, LLAMA_MODELS
from shared.settings import Settings


def test_defaults_follow_the_seed_space():
    s = Settings.from_env({})
    assert s.llama_space_url is None and s.llama_space_protocol == "auto"
    assert s.llama_space_api_name is None  # discovered from the Space's /info
    assert s.llama_models == LLAMA_MODELS == ("llama-2-7b", "llama-2-13b", "llama-2-7b-chat", "llama-2-13b-chat")
    assert s.llama_data_order == LLAMA_DATA_ORDER == ("inputs", "model", "max_new_tokens", "temperature")
    assert s.llama_max_new_tokens == 1024


def test_values_parse():
    s = Settings.from_env(
        {
            "LLAMA_SPACE_URL": "https://owner-space.hf.space/",
            "LLAMA_SPACE_PROTOCOL": "Gradio",
            "LLAMA_SPACE_API_NAME": "/lambda",
            "LLAMA_MODELS": "llama-2-7b-chat, llama-2-13b-chat",
            "LLAMA_DATA_ORDER": "inputs,model,max_new_tokens,temperature,top_p,do_sample",
            "LLAMA_MAX_NEW_TOKENS": "256",
        }
    )
    assert s.llama_space_url == "https://owner-space.hf.space"
    assert s.llama_space_protocol == "gradio" and s.llama_space_api_name == "lambda"
    assert s.llama_models == ("llama-2-7b-chat", "llama-2-13b-chat")
    assert s.llama_data_order[-2:] == ("top_p", "do_sample") and s.llama_max_new_tokens == 256


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LLAMA_SPACE_URL", "owner-space.hf.space"),
        ("LLAMA_SPACE_PROTOCOL", "websocket"),
        ("LLAMA_DATA_ORDER", "inputs,prompt"),
        ("LLAMA_DATA_ORDER", "inputs,inputs"),
        ("LLAMA_MAX_NEW_TOKENS", "4096"),
    ],
)
def test_malformed_values_name_the_variable(name, value):
    with pytest.raises(ConfigError, match=name) as info:
        Settings.from_env({name: value})
    assert value not in str(info.value)
