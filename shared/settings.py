"""One typed settings object, read from the environment once per warm process.

Names follow the README's configuration table. A malformed value raises :class:`ConfigError`
naming the variable (never echoing its value, which may be a secret).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from shared.errors import ConfigError

DEFAULT_INFERENCE_URL = "https://router.huggingface.co/hf-inference/models/openai-community/gpt2"
DEFAULT_CHAT_URL = "https://router.huggingface.co/v1/chat/completions"
# Small open chat models the router serves (README "Chat" lists the sources). The default is not
# gated, so a fresh token works without accepting a licence first.
DEFAULT_CHAT_MODELS = ("Qwen/Qwen2.5-7B-Instruct", "meta-llama/Llama-3.1-8B-Instruct", "openai/gpt-oss-20b")

# Seed 001 names the token HUGGINGFACE_API_KEY; HF_TOKEN is huggingface_hub's own name.
TOKEN_VARIABLES = ("HF_TOKEN", "HUGGINGFACE_API_KEY")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _text(env: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    value = env.get(name, "").strip()
    return value or default


def _number(env: Mapping[str, str], name: str, default: float, cast: type, low: float, high: float):
    raw = _text(env, name)
    if raw is None:
        return default
    try:
        value = cast(raw)
    except ValueError:
        raise ConfigError(f"Setting {name} must be a {'whole ' if cast is int else ''}number.") from None
    if not low <= value <= high:
        raise ConfigError(f"Setting {name} must be between {low} and {high}.")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"Setting {name} must be true or false.")


def _url(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    value = _text(env, name, default)
    if value is not None and not value.startswith(("https://", "http://")):
        raise ConfigError(f"Setting {name} must be an http(s) URL.")
    return value.rstrip("/") if value else value


def _list(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = _text(env, name)
    if raw is None:
        return default
    return tuple(item.strip().rstrip("/") for item in raw.split(",") if item.strip())


def _chat_settings(env: Mapping[str, str]) -> dict:
    models = _list(env, "CHAT_MODELS", DEFAULT_CHAT_MODELS)
    if not models:
        raise ConfigError("Setting CHAT_MODELS must name at least one model.")
    default = _text(env, "CHAT_DEFAULT_MODEL", models[0])
    if default not in models:
        raise ConfigError("Setting CHAT_DEFAULT_MODEL must be one of CHAT_MODELS.")
    return {
        "hf_chat_url": _url(env, "HF_CHAT_URL", DEFAULT_CHAT_URL),
        "chat_models": models,
        "chat_default_model": default,
        "chat_max_messages": _number(env, "CHAT_MAX_MESSAGES", 32, int, 1, 1000),
        "chat_max_content_chars": _number(env, "CHAT_MAX_CONTENT_CHARS", 4000, int, 1, 1_000_000),
        "chat_max_tokens": _number(env, "CHAT_MAX_TOKENS", 512, int, 1, 32768),
    }


@dataclass(frozen=True)
class Settings:
    hf_token: str | None = field(default=None, repr=False)
    hf_token_secret_arn: str | None = None
    secret_max_age: int = 300
    hf_inference_url: str = DEFAULT_INFERENCE_URL
    allowed_origins: tuple[str, ...] = ("*",)
    cors_allow_headers: tuple[str, ...] = ("Content-Type", "Accept", "X-Requested-With")
    cors_max_age: int = 600
    max_body_bytes: int = 16 * 1024
    max_prompt_chars: int = 4000
    max_new_tokens: int = 512
    connect_timeout: float = 3.05
    read_timeout: float = 25.0
    request_deadline: float = 25.0
    deadline_margin: float = 1.0
    max_upstream_bytes: int = 2 * 1024 * 1024
    demo_mode: bool = False
    hf_chat_url: str = DEFAULT_CHAT_URL
    chat_models: tuple[str, ...] = DEFAULT_CHAT_MODELS
    chat_default_model: str = DEFAULT_CHAT_MODELS[0]
    chat_max_messages: int = 32
    chat_max_content_chars: int = 4000
    chat_max_tokens: int = 512
    demo_word_delay: float = 0.04  # seconds between demo words when streaming, so `make serve` shows it
    proxy_signature_secret: str | None = field(default=None, repr=False)  # shared/proxy_signature.py

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        token = next((v for v in (_text(env, n) for n in TOKEN_VARIABLES) if v), None)
        return cls(
            hf_token=token,
            hf_token_secret_arn=_text(env, "HF_TOKEN_SECRET_ARN"),
            secret_max_age=_number(env, "HF_TOKEN_SECRET_MAX_AGE", 300, int, 0, 86400),
            hf_inference_url=_url(env, "HF_INFERENCE_URL", DEFAULT_INFERENCE_URL),
            allowed_origins=_list(env, "ALLOWED_ORIGINS", ("*",)),
            cors_allow_headers=_list(env, "CORS_ALLOW_HEADERS", cls.cors_allow_headers),
            cors_max_age=_number(env, "CORS_MAX_AGE", 600, int, 0, 86400),
            max_body_bytes=_number(env, "MAX_BODY_BYTES", 16 * 1024, int, 256, 4 * 1024 * 1024),
            max_prompt_chars=_number(env, "MAX_PROMPT_CHARS", 4000, int, 1, 1_000_000),
            max_new_tokens=_number(env, "MAX_NEW_TOKENS", 512, int, 1, 32768),
            connect_timeout=_number(env, "UPSTREAM_CONNECT_TIMEOUT", 3.05, float, 0.05, 60),
            read_timeout=_number(env, "UPSTREAM_READ_TIMEOUT", 25.0, float, 0.05, 900),
            request_deadline=_number(env, "REQUEST_DEADLINE_SECONDS", 25.0, float, 0.1, 900),
            deadline_margin=_number(env, "DEADLINE_MARGIN_SECONDS", 1.0, float, 0, 60),
            demo_mode=_flag(env, "DEMO_MODE"),
            proxy_signature_secret=_text(env, "PROXY_SIGNATURE_SECRET"),
            **_chat_settings(env),
        )

    @property
    def has_credentials(self) -> bool:
        return bool(self.hf_token or self.hf_token_secret_arn)

    def origin_allowed(self, origin: str) -> bool:
        return "*" in self.allowed_origins or origin.rstrip("/") in self.allowed_origins

    def with_changes(self, **changes) -> Settings:
        return replace(self, **changes)
