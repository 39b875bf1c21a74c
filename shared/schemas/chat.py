"""Body of ``POST /api/chat`` (and its OpenAI paths): the vetted subset of the OpenAI chat request.

Only what a chat page needs goes upstream with our token. Accepted, with bounds: text messages
(roles system/developer/user/assistant/tool; ``developer`` is sent as ``system``, which the
router's models know; content as a string or a list of text parts, joined; an assistant's
``tool_calls`` and a tool's ``tool_call_id``), ``model`` (from the operator's allowlist or its
aliases), ``max_tokens`` / ``max_completion_tokens`` (the same cap), ``temperature`` 0-2,
``top_p`` 0-1, ``frequency_penalty`` / ``presence_penalty`` -2..2, ``seed``, ``stop`` (at most 4
strings, as OpenAI documents), ``n`` (only 1), ``stream`` and ``stream_options.include_usage``,
function ``tools``, ``tool_choice``, ``parallel_tool_calls``, ``response_format`` (text, JSON
object, JSON schema) and ``reasoning_effort``, all forwarded. Accepted and dropped, because they
change no answer (SDKs send some by default): ``store``, ``metadata``, ``service_tier``,
``prompt_cache_key``, ``safety_identifier``, ``logprobs: false``, and ``user`` (an end-user id is
not ours to hand to a provider). Everything else (images, audio, ``logprobs: true``) is refused
with a 400 naming the field, because unknown keys are rejected. Ranges: the HF chat-completion spec
(https://huggingface.co/docs/inference-providers/tasks/chat-completion) and OpenAI's reference
(https://platform.openai.com/docs/api-reference/chat/create).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from shared.schemas.base import Number, Strict, StrictBool, StrictInt, StrictStr
from shared.schemas.limits import cap_tokens, limits_of, optional_model

StopWord = Annotated[StrictStr, Field(min_length=1, max_length=64)]


def _join_text_parts(value: object) -> object:
    """Content as a list of parts becomes one string; any part but ``text`` is refused by name."""
    if not isinstance(value, list):
        return value
    texts = []
    for index, part in enumerate(value):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind != "text":
            refused = f"'{kind}'" if isinstance(kind, str) else "this"
            raise ValueError(f"part {index}: only text parts are accepted, {refused} parts are refused")
        if set(part) != {"type", "text"} or not isinstance(part["text"], str):
            raise ValueError(f"part {index}: a text part is {{'type': 'text', 'text': str}}")
        texts.append(part["text"])
    return "".join(texts)


class FunctionCall(BaseModel):
    model_config = Strict

    name: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    arguments: StrictStr


class ToolCall(BaseModel):
    model_config = Strict

    id: Annotated[StrictStr, Field(min_length=1, max_length=128)]
    type: Literal["function"]
    function: FunctionCall


class Message(BaseModel):
    model_config = Strict

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: Annotated[StrictStr, BeforeValidator(_join_text_parts)] | None = None
    name: Annotated[StrictStr, Field(max_length=64)] | None = None  # accepted, not forwarded
    tool_calls: list[ToolCall] | None = None  # an assistant's calls of the client's functions
    tool_call_id: Annotated[StrictStr, Field(min_length=1, max_length=128)] | None = None  # a tool's answer

    @property
    def text(self) -> str:
        return self.content or ""

    @model_validator(mode="after")
    def _cap_content(self, info: ValidationInfo) -> Message:
        limit = limits_of(info).max_prompt_chars
        if len(self.text) > limit:
            raise ValueError(f"content must be at most {limit} characters on this server")
        return self

    @model_validator(mode="after")
    def _shape(self) -> Message:
        if self.content is None and not self.tool_calls:
            raise ValueError("content is required (only an assistant message with tool_calls may omit it)")
        if (self.role == "tool") != (self.tool_call_id is not None):
            raise ValueError("a tool message, and only one, carries tool_call_id")
        if self.tool_calls and self.role != "assistant":
            raise ValueError("only an assistant message carries tool_calls")
        return self

    def upstream(self) -> dict:
        out: dict = {"role": "system" if self.role == "developer" else self.role, "content": self.content}
        if self.tool_calls:
            out["tool_calls"] = [call.model_dump() for call in self.tool_calls]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        return out


class Function(BaseModel):
    model_config = Strict

    name: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    description: StrictStr | None = None
    parameters: dict[str, Any] | None = None
    strict: StrictBool | None = None


class Tool(BaseModel):
    model_config = Strict

    type: Literal["function"]
    function: Function


class NamedTool(BaseModel):
    model_config = Strict

    type: Literal["function"]
    function: dict[Literal["name"], StrictStr]


class ResponseFormat(BaseModel):
    model_config = Strict

    type: Literal["text", "json_object", "json_schema"]
    json_schema: dict[str, Any] | None = None


class StreamOptions(BaseModel):
    model_config = Strict

    include_usage: StrictBool | None = None


class ChatRequest(BaseModel):
    model_config = Strict

    messages: list[Message]
    model: StrictStr | None = None
    max_tokens: Annotated[StrictInt, Field(ge=1)] | None = None
    max_completion_tokens: Annotated[StrictInt, Field(ge=1)] | None = None
    temperature: Annotated[Number, Field(ge=0, le=2)] | None = None
    top_p: Annotated[Number, Field(ge=0, le=1)] | None = None
    frequency_penalty: Annotated[Number, Field(ge=-2, le=2)] | None = None
    presence_penalty: Annotated[Number, Field(ge=-2, le=2)] | None = None
    seed: Annotated[StrictInt, Field(ge=0, le=2**63 - 1)] | None = None
    stop: StopWord | Annotated[list[StopWord], Field(max_length=4)] | None = None
    n: Annotated[StrictInt, Field(ge=1, le=1)] | None = None
    user: Annotated[StrictStr, Field(max_length=256)] | None = None  # accepted, never forwarded
    stream: StrictBool = False
    stream_options: StreamOptions | None = None
    tools: list[Tool] | None = None
    tool_choice: Literal["auto", "none", "required"] | NamedTool | None = None
    parallel_tool_calls: StrictBool | None = None
    response_format: ResponseFormat | None = None
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None
    # accepted, never forwarded: they change no answer (SDKs send some by default)
    store: StrictBool | None = None
    metadata: Annotated[dict[str, Annotated[StrictStr, Field(max_length=512)]], Field(max_length=16)] | None = None
    service_tier: StrictStr | None = None
    prompt_cache_key: Annotated[StrictStr, Field(max_length=256)] | None = None
    safety_identifier: Annotated[StrictStr, Field(max_length=256)] | None = None
    logprobs: Literal[False] | None = None  # false only: log probabilities are not relayed

    @field_validator("messages")
    @classmethod
    def _cap_messages(cls, value: list[Message], info: ValidationInfo) -> list[Message]:
        if not value:
            raise ValueError("send at least one message")
        limit = limits_of(info).max_messages
        if len(value) > limit:
            raise ValueError(f"send at most {limit} messages on this server")
        if not any(m.text.strip() for m in value):
            raise ValueError("at least one message must have content")
        return value

    @field_validator("model")
    @classmethod
    def _allowed_model(cls, value: str | None, info: ValidationInfo) -> str | None:
        return optional_model(value, info)

    @field_validator("max_tokens", "max_completion_tokens")
    @classmethod
    def _cap_tokens(cls, value: int | None, info: ValidationInfo) -> int | None:
        return cap_tokens(value, info)

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)

    def upstream_payload(self, model: str, *, stream: bool, default_max_tokens: int) -> dict:
        """What goes to the router: OpenAI shape, only the fields we vetted."""
        payload: dict = {
            "model": model,
            "messages": [m.upstream() for m in self.messages],
            "max_tokens": self.max_completion_tokens or self.max_tokens or default_max_tokens,
            "stream": stream,
        }
        for name in ("temperature", "top_p", "frequency_penalty", "presence_penalty", "seed", "stop"):
            value = getattr(self, name)
            if value is not None:
                payload[name] = value
        for name in ("tools", "tool_choice", "parallel_tool_calls", "response_format", "reasoning_effort"):
            value = getattr(self, name)
            if isinstance(value, list):
                payload[name] = [item.model_dump(exclude_none=True) for item in value]
            elif isinstance(value, BaseModel):
                payload[name] = value.model_dump(exclude_none=True)
            elif value is not None:
                payload[name] = value
        if stream and self.include_usage:
            payload["stream_options"] = {"include_usage": True}
        return payload
