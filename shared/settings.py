"""One typed settings object, read from the environment once per warm process.

Each setting is declared once, in :class:`Settings` (variable, default, parser, meaning);
``docs/configuration.md`` lists the same rows. A malformed value raises :class:`ConfigError`
naming the variable (never echoing its value, which may be a secret).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from shared.config import (
    choice,
    choices,
    declared,
    flag,
    items,
    number,
    read,
    setting,
    stripped,
    text,
    trusted_url,
    url,
)
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


def _off_when_empty(env: Mapping[str, str], name: str, default: str) -> str:
    """Absent: the default; set to an empty string: "" (the feature is off)."""
    return env[name].strip() if name in env else default


def _aliases(env: Mapping[str, str], name: str, default: tuple) -> tuple[tuple[str, str], ...]:
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


def _org(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    value = stripped(env, name, default)
    if value is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,95}", value):
        raise ConfigError(f"Setting {name} must be a Hugging Face organization name.")
    return value


def _api_name(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    return (stripped(env, name) or "").strip("/") or default


def _data_order(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    order = items(env, name, default)
    unknown = [item for item in order if item not in LLAMA_PARAMETERS]
    if not order or unknown or len(set(order)) != len(order):
        raise ConfigError(f"Setting {name} must list distinct names among: {', '.join(LLAMA_PARAMETERS)}.")
    return order


@dataclass(frozen=True)
class Settings:
    """Every setting, declared once. Fields without ``env`` metadata are not read from the environment."""

    hf_token: str | None = setting(
        "HF_TOKEN", None, text, "The Hugging Face token (also read from HUGGINGFACE_API_KEY).", secret=True
    )
    hf_inference_url: str = setting(
        "HF_INFERENCE_URL", DEFAULT_INFERENCE_URL, url, "Text-generation endpoint behind /api/generate."
    )
    allowed_origins: tuple[str, ...] = setting(
        "ALLOWED_ORIGINS", ("*",), items, "Comma-separated browser origins allowed; * allows any."
    )
    cors_allow_headers: tuple[str, ...] = setting(
        "CORS_ALLOW_HEADERS",
        ("Content-Type", "Accept", "Authorization", "X-Clearance", "X-Requested-With", "x-stainless-*", "OpenAI-*"),
        items,
        "Request headers a browser may send (preflight); a trailing * matches a prefix.",
    )
    cors_max_age: int = setting("CORS_MAX_AGE", 600, number(int, 0, 86400), "Seconds a browser caches a preflight.")
    max_body_bytes: int = setting(
        "MAX_BODY_BYTES", 16 * 1024, number(int, 256, 4 * 1024 * 1024), "Largest request body accepted (bytes)."
    )
    max_prompt_chars: int = setting(
        "MAX_PROMPT_CHARS", 4000, number(int, 1, 1_000_000), "Longest prompt accepted (characters)."
    )
    max_new_tokens: int = setting(
        "MAX_NEW_TOKENS", 512, number(int, 1, 32768), "Cap on max_new_tokens for /api/generate."
    )
    connect_timeout: float = setting(
        "UPSTREAM_CONNECT_TIMEOUT", 3.05, number(float, 0.05, 60), "Seconds to connect to an upstream."
    )
    read_timeout: float = setting(
        "UPSTREAM_READ_TIMEOUT", 25.0, number(float, 0.05, 900), "Longest silence from an upstream (seconds)."
    )
    request_deadline: float = setting(
        "REQUEST_DEADLINE_SECONDS", 25.0, number(float, 0.1, 900), "Every request is answered within this."
    )
    deadline_margin: float = setting(
        "DEADLINE_MARGIN_SECONDS", 1.0, number(float, 0, 60), "Kept back from a platform's time budget to answer."
    )
    max_upstream_bytes: int = 2 * 1024 * 1024
    demo_mode: bool = setting("DEMO_MODE", False, flag, "Answer locally without Hugging Face (make serve only).")
    llama_space_url: str | None = setting("LLAMA_SPACE_URL", None, url, "The Gradio Space behind /api/predict.")
    llama_space_protocol: str = setting(
        "LLAMA_SPACE_PROTOCOL", "auto", choice(*LLAMA_PROTOCOLS), "How to talk to the Space: auto, contract, gradio."
    )
    llama_space_api_name: str | None = setting(
        "LLAMA_SPACE_API_NAME",
        None,
        _api_name,
        "The Space endpoint's api_name; unset: the one endpoint the Space's /info lists.",
    )
    llama_models: tuple[str, ...] = setting(
        "LLAMA_MODELS", LLAMA_MODELS, items, "Model names /api/predict accepts (the Space's dropdown)."
    )
    llama_data_order: tuple[str, ...] = setting(
        "LLAMA_DATA_ORDER", LLAMA_DATA_ORDER, _data_order, "Argument order of the Space's function."
    )
    llama_max_new_tokens: int = setting(
        "LLAMA_MAX_NEW_TOKENS", 1024, number(int, 10, 1024), "Cap on max_new_tokens for /api/predict."
    )
    hf_hub_url: str = setting(
        "HF_HUB_URL", DEFAULT_HUB_URL, url, "The Hub API GET /api/health?deep=1 asks which providers serve a model."
    )
    hf_chat_url: str = setting("HF_CHAT_URL", DEFAULT_CHAT_URL, url, "OpenAI-compatible chat endpoint (the router).")
    chat_models: tuple[str, ...] = setting(
        "CHAT_MODELS", DEFAULT_CHAT_MODELS, items, "Models /api/chat may use (allowlist)."
    )
    chat_default_model: str = setting(
        "CHAT_DEFAULT_MODEL",
        DEFAULT_CHAT_MODELS[0],
        text,
        "Model used when a chat request names none (first of CHAT_MODELS).",
    )
    generate_fallback_model: str = setting(
        "GENERATE_FALLBACK_MODEL",
        DEFAULT_CHAT_MODELS[0],
        _off_when_empty,
        "Chat model that answers /api/generate when its model is not served (default: CHAT_DEFAULT_MODEL; empty: off).",
    )
    model_aliases: tuple[tuple[str, str], ...] = setting(
        "MODEL_ALIASES",
        (),
        _aliases,
        "Short model names every route accepts and /models lists (short=org/model, comma-separated).",
    )
    hf_bill_to: str | None = setting(
        "HF_BILL_TO",
        None,
        _org,
        "Hugging Face organization that pays for the model calls (sent as X-HF-Bill-To).",
    )
    hf_responses_url: str = setting(
        "HF_RESPONSES_URL", DEFAULT_RESPONSES_URL, url, "OpenAI-compatible Responses endpoint (the router)."
    )
    chat_max_messages: int = setting(
        "CHAT_MAX_MESSAGES", 32, number(int, 1, 1000), "Most messages in one chat request."
    )
    chat_max_content_chars: int = setting(
        "CHAT_MAX_CONTENT_CHARS", 4000, number(int, 1, 1_000_000), "Longest chat message (characters)."
    )
    chat_max_tokens: int = setting("CHAT_MAX_TOKENS", 512, number(int, 1, 32768), "Cap and default for max_tokens.")
    demo_word_delay: float = 0.04  # seconds between demo words when streaming, so `make serve` shows it
    proxy_signature_secret: str | None = setting(
        "PROXY_SIGNATURE_SECRET", None, text, "Netlify: refuse requests the signed rewrite did not sign.", secret=True
    )
    proxy_signature_site_url: str | None = setting(
        "PROXY_SIGNATURE_SITE_URL",
        None,
        url,
        "Netlify: the site's URL (e.g. https://x.netlify.app); signatures naming another site are refused.",
    )

    tracing: str = setting(
        "TRACING", "off", choice("off", "otel"), "otel: a span per model call on OpenTelemetry's global tracer."
    )

    # Spend control (shared/limits/, docs/limits.md): each limit is off unless set.
    rate_limit_per_minute: int | None = setting(
        "RATE_LIMIT_PER_MINUTE", None, number(int, 1, 10**6), "Requests per client per minute on the model routes."
    )
    client_daily_tokens: int | None = setting(
        "CLIENT_DAILY_TOKENS",
        None,
        number(int, 1, 10**12),
        "Tokens one client may use per UTC day (reserved as asked, settled with what was generated).",
    )
    daily_token_budget: int | None = setting(
        "DAILY_TOKEN_BUDGET",
        None,
        number(int, 1, 10**12),
        "Tokens all clients together may use per UTC day (reserved, then settled).",
    )
    quota_store: str = setting(
        "QUOTA_STORE", "memory", choice("memory", "redis", "dynamodb"), "Where counts live (memory: this process only)."
    )
    redis_url: str | None = setting(
        "REDIS_URL", None, text, "QUOTA_STORE=redis: redis:// or rediss:// URL (may hold a password).", secret=True
    )
    quota_table: str | None = setting("QUOTA_TABLE", None, text, "QUOTA_STORE=dynamodb: the table's name.")
    quota_fail_open: bool = setting(
        "QUOTA_FAIL_OPEN", False, flag, "Forward uncounted requests when the store is down (default: 503)."
    )
    quota_store_timeout: float = setting(
        "QUOTA_STORE_TIMEOUT_SECONDS",
        1.0,
        number(float, 0.05, 5),
        "Longest wait for the store, per call (every round trip of it).",
    )

    # Who calls (shared/auth/, docs/limits.md "Who is counted as whom"): signed-in users, a human check.
    auth_jwks_url: str | None = setting(
        "AUTH_JWKS_URL", None, trusted_url, "Sign-in: the identity provider's JWKS (with AUTH_ISSUER, AUTH_AUDIENCE)."
    )
    auth_issuer: str | None = setting("AUTH_ISSUER", None, text, "Sign-in: the iss a user's JWT must carry.")
    auth_audience: str | None = setting("AUTH_AUDIENCE", None, text, "Sign-in: the aud a user's JWT must carry.")
    auth_algorithms: tuple[str, ...] = setting(
        "AUTH_ALGORITHMS",
        ("RS256", "ES256", "EdDSA"),
        choices(*JWT_ALGORITHMS),
        "Sign-in: signature algorithms accepted (never HS*).",
    )
    auth_required: bool = setting("AUTH_REQUIRED", False, flag, "Sign-in: refuse anonymous calls to the model routes.")
    user_rate_limit_per_minute: int | None = setting(
        "USER_RATE_LIMIT_PER_MINUTE",
        None,
        number(int, 1, 10**6),
        "Requests per signed-in user per minute (default: RATE_LIMIT_PER_MINUTE).",
    )
    user_daily_tokens: int | None = setting(
        "USER_DAILY_TOKENS",
        None,
        number(int, 1, 10**12),
        "Tokens one signed-in user may use per UTC day (default: CLIENT_DAILY_TOKENS).",
    )
    turnstile_secret: str | None = setting(
        "TURNSTILE_SECRET",
        None,
        text,
        "Human check: the Turnstile widget's secret key (anonymous calls need a clearance).",
        secret=True,
    )
    turnstile_site_key: str | None = setting(
        "TURNSTILE_SITE_KEY", None, text, "Human check: the widget's site key, shown to the page by /api/health."
    )
    turnstile_verify_url: str = setting(
        "TURNSTILE_VERIFY_URL", DEFAULT_TURNSTILE_VERIFY_URL, trusted_url, "Human check: Cloudflare's siteverify API."
    )
    clearance_secret: str | None = setting(
        "CLEARANCE_SECRET",
        None,
        text,
        "Human check: signs clearance tokens (32+ characters, the same on every instance).",
        secret=True,
    )
    clearance_ttl: int = setting(
        "CLEARANCE_TTL_SECONDS", 3600, number(int, 60, 86400), "Human check: how long a clearance token lasts."
    )

    @classmethod
    def declared(cls) -> list[tuple[str, Any, str]]:
        """(variable, default, meaning) of every setting read from the environment."""
        return declared(cls)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values = read(cls, env)
        values["hf_token"] = next((v for v in (stripped(env, n) for n in TOKEN_VARIABLES) if v), None)
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
        return cls(**values)

    @property
    def sign_in(self) -> bool:
        """Signed-in users are verified (AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE are set)."""
        return self.auth_jwks_url is not None

    def full_model(self, name: str) -> str:
        """A model's full id: an alias (MODEL_ALIASES) resolved, anything else as it is."""
        return dict(self.model_aliases).get(name, name)

    @property
    def allowed_models(self) -> tuple[str, ...]:
        """What the chat and Responses routes accept: CHAT_MODELS and their aliases."""
        return (*self.chat_models, *(short for short, _ in self.model_aliases))

    def origin_allowed(self, origin: str) -> bool:
        return "*" in self.allowed_origins or origin.rstrip("/") in self.allowed_origins

    def with_changes(self, **changes) -> Settings:
        return replace(self, **changes)


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
