"""One typed settings object, read from the environment once per warm process.

Each setting is declared once, in :class:`Settings` (variable, default, parser, meaning);
``docs/configuration.md`` lists the same rows. A malformed value raises :class:`ConfigError`
naming the variable (never echoing its value, which may be a secret).
"""

from __future__ import annotations

import os
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
from shared.setting_rules import (
    DEFAULT_CHAT_MODELS,
    DEFAULT_CHAT_URL,
    DEFAULT_HUB_URL,
    DEFAULT_INFERENCE_URL,
    DEFAULT_RESPONSES_URL,
    DEFAULT_TURNSTILE_VERIFY_URL,
    JWT_ALGORITHMS,
    LLAMA_DATA_ORDER,
    LLAMA_MODELS,
    LLAMA_PROTOCOLS,
    TOKEN_VARIABLES,
    aliases,
    api_name,
    check,
    data_order,
    off_when_empty,
    org,
)


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
        api_name,
        "The Space endpoint's api_name; unset: the one endpoint the Space's /info lists.",
    )
    llama_models: tuple[str, ...] = setting(
        "LLAMA_MODELS", LLAMA_MODELS, items, "Model names /api/predict accepts (the Space's dropdown)."
    )
    llama_data_order: tuple[str, ...] = setting(
        "LLAMA_DATA_ORDER", LLAMA_DATA_ORDER, data_order, "Argument order of the Space's function."
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
        off_when_empty,
        "Chat model that answers /api/generate when its model is not served (default: CHAT_DEFAULT_MODEL; empty: off).",
    )
    model_aliases: tuple[tuple[str, str], ...] = setting(
        "MODEL_ALIASES",
        (),
        aliases,
        "Short model names every route accepts and /models lists (short=org/model, comma-separated).",
    )
    hf_bill_to: str | None = setting(
        "HF_BILL_TO",
        None,
        org,
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
        check(values, env)
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
