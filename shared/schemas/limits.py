"""The server's caps, typed, handed to every request model (issue 15: "limits that fail closed").

A route builds one :class:`Limits` from its settings and passes it to :func:`shared.schemas.validate`.
Validators read it through :func:`limits_of`, which refuses anything that is not a ``Limits``: a
forgotten or misspelled cap is a loud error in the tests, never a silently removed cap (the old
``(info.context or {}).get("max_new_tokens")`` lookups returned None and let any value through).
The shared checks (token cap, prompt length, model allowlist) live here once for every schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationInfo

    from shared.settings import Settings


@dataclass(frozen=True)
class Limits:
    max_tokens: int  # cap on max_new_tokens / max_tokens / max_completion_tokens
    max_prompt_chars: int  # one prompt, or one chat message's content
    models: tuple[str, ...] = ()  # the allowlist; empty means the route takes no model field
    max_messages: int = 0  # chat only

    @classmethod
    def for_chat(cls, settings: Settings) -> Limits:
        return cls(
            settings.chat_max_tokens,
            settings.chat_max_content_chars,
            settings.allowed_models,
            settings.chat_max_messages,
        )

    @classmethod
    def for_generate(cls, settings: Settings) -> Limits:
        return cls(settings.max_new_tokens, settings.max_prompt_chars)

    @classmethod
    def for_predict(cls, settings: Settings) -> Limits:
        return cls(settings.llama_max_new_tokens, settings.max_prompt_chars, settings.llama_models)


def limits_of(info: ValidationInfo) -> Limits:
    """The request's limits; a validation without them is a programming error, not an open door."""
    if not isinstance(info.context, Limits):
        raise TypeError("validate() needs a Limits object as its context")
    return info.context


def cap_tokens(value: int | None, info: ValidationInfo) -> int | None:
    cap = limits_of(info).max_tokens
    if value is not None and value > cap:
        raise ValueError(f"must be at most {cap} on this server")
    return value


def check_prompt(text: str, info: ValidationInfo, what: str = "the prompt") -> str:
    if not text.strip():
        raise ValueError(f"{what} must not be empty")
    limit = limits_of(info).max_prompt_chars
    if len(text) > limit:
        raise ValueError(f"{what} must be at most {limit} characters")
    return text


# What a client sends when it names no model, as if it had sent none: huggingface_hub's
# InferenceClient(base_url=...) without a model posts "dummy"
# (https://github.com/huggingface/huggingface_hub/blob/main/src/huggingface_hub/inference/_providers/hf_inference.py,
# HFInferenceConversational._prepare_payload_as_dict).
PLACEHOLDER_MODELS = ("dummy",)


def optional_model(value: str | None, info: ValidationInfo) -> str | None:
    """An allowed model (or alias), or None for none at all (the server's default then answers)."""
    return None if value is None or value in PLACEHOLDER_MODELS else check_model(value, info)


def check_model(value: str, info: ValidationInfo) -> str:
    allowed = limits_of(info).models
    if value not in allowed:
        raise ValueError(f"must be one of: {', '.join(allowed)}")
    return value
