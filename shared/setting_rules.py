"""The project's own setting values: defaults with their sources, parsers for its formats, and
the rules that tie settings together (checked once, when :class:`shared.settings.Settings` is read).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shared.config import items, stripped
from shared.errors import ConfigError

DEFAULT_INFERENCE_URL = "https://router.huggingface.co/hf-inference/models/openai-community/gpt2"
DEFAULT_CHAT_URL = "https://router.huggingface.co/v1/chat/completions"
# The router's Responses API (https://huggingface.co/docs/inference-providers/guides/responses-api).
DEFAULT_RESPONSES_URL = "https://router.huggingface.co/v1/responses"
DEFAULT_HUB_URL = "https://huggingface.co"
# Small open chat models the router serves (docs/chat.md lists the sources). The default is not
# gated, so a fresh token works without accepting a licence first.
DEFAULT_CHAT_MODELS = ("Qwen/Qwen2.5-7B-Instruct", "meta-llama/Llama-3.1-8B-Instruct", "openai/gpt-oss-20b")

# The Llama Space of seed 003: its model dropdown, and its button function's argument order.
LLAMA_MODELS = ("llama-2-7b", "llama-2-13b", "llama-2-7b-chat", "llama-2-13b-chat")
LLAMA_PARAMETERS = ("inputs", "model", "max_new_tokens", "temperature", "top_p", "do_sample")
LLAMA_DATA_ORDER = ("inputs", "model", "max_new_tokens", "temperature")
LLAMA_PROTOCOLS = ("auto", "contract", "gradio")

# Seed 001 names the token HUGGINGFACE_API_KEY; HF_TOKEN is huggingface_hub's own name.
TOKEN_VARIABLES = ("HF_TOKEN", "HUGGINGFACE_API_KEY")

# Signed-in users (shared/auth/, docs/limits.md): the signature algorithms a JWKS's public keys
# verify. Never HS*: a symmetric algorithm with a published key is the algorithm-confusion attack
# (RFC 8725 §2.1, §3.1: https://www.rfc-editor.org/rfc/rfc8725.html#section-3.1).
JWT_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
# Cloudflare's siteverify API (https://developers.cloudflare.com/turnstile/get-started/server-side-validation/).
DEFAULT_TURNSTILE_VERIFY_URL = "https://challenges.cloudflare.com/turnstile/v0/siteverify"
MIN_CLEARANCE_SECRET_CHARS = 32


def off_when_empty(env: Mapping[str, str], name: str, default: str) -> str:
    """Absent: the default; set to an empty string: "" (the feature is off)."""
    return env[name].strip() if name in env else default


def aliases(env: Mapping[str, str], name: str, default: tuple) -> tuple[tuple[str, str], ...]:
    """``short=org/full-id, other=org/id2``: short names for allowed models."""
    raw = stripped(env, name)
    if raw is None:
        return default
    pairs = []
    for item in raw.split(","):
        if not item.strip():
            continue
        short, equals, full = (part.strip() for part in item.partition("="))
        if not equals or not short or not full or "/" in short:
            raise ConfigError(f"Setting {name} must be a comma-separated list of short=org/model pairs.")
        pairs.append((short, full))
    return tuple(pairs)


def org(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    value = stripped(env, name, default)
    if value is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,95}", value):
        raise ConfigError(f"Setting {name} must be a Hugging Face organization name.")
    return value


def api_name(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    return (stripped(env, name) or "").strip("/") or default


def data_order(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    order = items(env, name, default)
    unknown = [item for item in order if item not in LLAMA_PARAMETERS]
    if not order or unknown or len(set(order)) != len(order):
        raise ConfigError(f"Setting {name} must list distinct names among: {', '.join(LLAMA_PARAMETERS)}.")
    return order


def check(values: dict[str, Any], env: Mapping[str, str]) -> None:
    """Settings that only make sense together; defaults that follow another setting."""
    if not values["chat_models"]:
        raise ConfigError("Setting CHAT_MODELS must name at least one model.")
    if stripped(env, "CHAT_DEFAULT_MODEL") is None:
        values["chat_default_model"] = values["chat_models"][0]
    if values["chat_default_model"] not in values["chat_models"]:
        raise ConfigError("Setting CHAT_DEFAULT_MODEL must be one of CHAT_MODELS.")
    if any(full not in values["chat_models"] for _, full in values["model_aliases"]):
        raise ConfigError("Setting MODEL_ALIASES may only name models of CHAT_MODELS.")
    if values["quota_store"] != "memory" and 2 * values["quota_store_timeout"] > values["request_deadline"]:
        # a store call starts only when it can time out before the deadline (shared.limits.store)
        raise ConfigError("Setting QUOTA_STORE_TIMEOUT_SECONDS must be at most half of REQUEST_DEADLINE_SECONDS.")
    if "GENERATE_FALLBACK_MODEL" not in env:
        values["generate_fallback_model"] = values["chat_default_model"]
    _check_access(values)


def _check_access(values: dict[str, Any]) -> None:
    """Sign-in and the human check are on only when complete: half a configuration never opens a door."""
    auth = [values["auth_jwks_url"], values["auth_issuer"], values["auth_audience"]]
    if any(auth) and not all(auth):
        raise ConfigError(
            "Settings AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE turn sign-in on together: set all three."
        )
    if values["auth_required"] and not all(auth):
        raise ConfigError("Setting AUTH_REQUIRED needs sign-in: set AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE.")
    if values["turnstile_site_key"] and not values["turnstile_secret"]:
        raise ConfigError(
            "Setting TURNSTILE_SITE_KEY needs TURNSTILE_SECRET: the proxy must check what the widget hands out."
        )
    secret = values["clearance_secret"]
    if values["turnstile_secret"] and (not secret or len(secret) < MIN_CLEARANCE_SECRET_CHARS):
        raise ConfigError(
            f"Setting CLEARANCE_SECRET ({MIN_CLEARANCE_SECRET_CHARS}+ characters) must be set with TURNSTILE_SECRET."
        )
