"""Body of ``POST /api/chat``: a subset of the OpenAI chat-completion request.

Only what a chat page needs goes upstream with our token: text messages, the model (from the
operator's allowlist, so a public deploy cannot run arbitrary paid models), ``max_tokens``,
``temperature``, ``top_p`` and ``stream``. Ranges follow the HF chat-completion spec
(https://huggingface.co/docs/inference-providers/tasks/chat-completion): temperature 0-2, top_p
0-1. Message count, content length and max_tokens are capped by the server's settings.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
)

from shared.schemas.base import Strict


class Message(BaseModel):
    model_config = Strict

    role: Literal["system", "user", "assistant"]
    content: StrictStr

    @field_validator("content")
    @classmethod
    def _cap_content(cls, value: str, info: ValidationInfo) -> str:
        limit = (info.context or {}).get("max_content_chars")
        if limit is not None and len(value) > limit:
            raise ValueError(f"must be at most {limit} characters on this server")
        return value


class ChatRequest(BaseModel):
    model_config = Strict

    messages: list[Message]
    model: StrictStr | None = None
    max_tokens: Annotated[StrictInt, Field(ge=1)] | None = None
    temperature: Annotated[StrictFloat, Field(ge=0, le=2)] | None = None
    top_p: Annotated[StrictFloat, Field(ge=0, le=1)] | None = None
    stream: StrictBool = False

    @field_validator("messages")
    @classmethod
    def _cap_messages(cls, value: list[Message], info: ValidationInfo) -> list[Message]:
        if not value:
            raise ValueError("send at least one message")
        limit = (info.context or {}).get("max_messages")
        if limit is not None and len(value) > limit:
            raise ValueError(f"send at most {limit} messages on this server")
        if not any(m.content.strip() for m in value):
            raise ValueError("at least one message must have content")
        return value

    @field_validator("model")
    @classmethod
    def _allowed_model(cls, value: str | None, info: ValidationInfo) -> str | None:
        allowed = (info.context or {}).get("models")
        if value is not None and allowed is not None and value not in allowed:
            raise ValueError(f"must be one of: {', '.join(allowed)}")
        return value

    @field_validator("max_tokens")
    @classmethod
    def _cap_tokens(cls, value: int | None, info: ValidationInfo) -> int | None:
        cap = (info.context or {}).get("max_tokens")
        if value is not None and cap is not None and value > cap:
            raise ValueError(f"must be at most {cap} on this server")
        return value

    def upstream_payload(self, model: str, *, stream: bool, default_max_tokens: int) -> dict:
        """What goes to the router: OpenAI shape, only the fields we vetted."""
        payload: dict = {
            "model": model,
            "messages": [m.model_dump() for m in self.messages],
            "max_tokens": self.max_tokens or default_max_tokens,
            "stream": stream,
        }
        for name in ("temperature", "top_p"):
            value = getattr(self, name)
            if value is not None:
                payload[name] = value
        return payload
