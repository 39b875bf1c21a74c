"""Body of ``POST /api/v1/responses`` (and ``/api/responses``): the vetted subset of OpenAI's
Responses API (https://platform.openai.com/docs/api-reference/responses/create), which the default
calls of the Vercel AI SDK 5+, the OpenAI Agents SDK and LangChain's ``use_responses_api`` send.

Forwarded to the router: ``model`` (allowlist or alias), ``input`` (a string, or message items with
roles user/system/developer/assistant and text content, plus the ``function_call`` /
``function_call_output`` items of a tool loop), ``instructions``, ``temperature``, ``top_p``,
``max_output_tokens`` (capped by ``CHAT_MAX_TOKENS``, the cap when absent), ``stream``, function
``tools``, ``tool_choice``, ``parallel_tool_calls``, ``text`` (its ``format``) and ``reasoning``.
Accepted and not forwarded, because a stateless proxy keeps nothing and they change no answer:
``store`` (nothing is stored), ``metadata``, ``user``, ``service_tier``, ``prompt_cache_key``,
``safety_identifier``, ``include``, ``truncation``, ``stream_options``. Refused with a 400 that
names the field: ``previous_response_id``, ``background`` and ``conversation`` (they need state
the proxy does not keep), built-in tools (web search, file search, code interpreter, ...), and
anything unknown.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, ValidationError, ValidationInfo, field_validator

from shared.schemas.base import Number, Strict, StrictBool, StrictInt, StrictStr
from shared.schemas.chat import Function
from shared.schemas.limits import cap_tokens, limits_of, optional_model

STATELESS = "this proxy keeps no state between requests: send the whole conversation in 'input'"
Name = Annotated[StrictStr, Field(min_length=1, max_length=128)]


class TextPart(BaseModel):
    model_config = Strict

    type: Literal["input_text", "output_text", "text"]
    text: StrictStr
    annotations: list[dict[str, Any]] | None = None  # output_text parts echo them back; not forwarded
    logprobs: list[dict[str, Any]] | None = None  # likewise (the router accepts them: responses.js #25)


class MessageItem(BaseModel):
    model_config = Strict

    type: Literal["message"] | None = None
    role: Literal["user", "system", "developer", "assistant"]
    content: StrictStr | list[TextPart]
    id: Name | None = None
    status: StrictStr | None = None

    @property
    def text(self) -> str:
        return self.content if isinstance(self.content, str) else "".join(p.text for p in self.content)

    def upstream(self) -> dict:
        content: Any = self.content
        if not isinstance(content, str):
            content = [{"type": p.type, "text": p.text} for p in content]
        return {"type": "message", "role": self.role, "content": content}


class FunctionCallItem(BaseModel):
    model_config = Strict

    type: Literal["function_call"]
    call_id: Name
    name: Name
    arguments: StrictStr
    id: Name | None = None
    status: StrictStr | None = None

    @property
    def text(self) -> str:
        return self.arguments

    def upstream(self) -> dict:
        return {"type": "function_call", "call_id": self.call_id, "name": self.name, "arguments": self.arguments}


class FunctionCallOutputItem(BaseModel):
    model_config = Strict

    type: Literal["function_call_output"]
    call_id: Name
    output: StrictStr
    id: Name | None = None
    status: StrictStr | None = None

    @property
    def text(self) -> str:
        return self.output

    def upstream(self) -> dict:
        return {"type": "function_call_output", "call_id": self.call_id, "output": self.output}


Item = MessageItem | FunctionCallItem | FunctionCallOutputItem
_ITEMS: dict[str, type[BaseModel]] = {
    "message": MessageItem,
    "function_call": FunctionCallItem,
    "function_call_output": FunctionCallOutputItem,
}
_TEXT_PARTS = ("input_text", "output_text", "text")


def _named(kind: object) -> str:
    return f"'{kind}'" if isinstance(kind, str) else "these"


def _each_item(value: object) -> object:
    """A list of items is checked item by item, by type, so a refusal is one sentence naming the
    item (pydantic's own error for a union of item types lists every member's complaint)."""
    if not isinstance(value, list):
        return value
    items = []
    for index, item in enumerate(value):
        kind = (item.get("type") or "message") if isinstance(item, dict) else None
        model = _ITEMS.get(kind) if isinstance(kind, str) else None
        if model is None or not isinstance(item, dict):
            raise ValueError(
                f"item {index}: {_named(kind)} items are refused; send message, function_call or "
                "function_call_output items"
            )
        content = item.get("content")
        for part_index, part in enumerate(content if kind == "message" and isinstance(content, list) else []):
            part_kind = part.get("type") if isinstance(part, dict) else None
            if part_kind not in _TEXT_PARTS:
                refused = _named(part_kind)
                raise ValueError(
                    f"item {index}, part {part_index}: only text parts are accepted, {refused} parts are refused"
                )
        try:
            items.append(model.model_validate(item))
        except ValidationError as exc:
            found = exc.errors(include_url=False, include_input=False, include_context=False)
            # a content that is neither a string nor parts: the parts' complaint says more
            first = next((e for e in found if "str" not in e["loc"]), found[0])
            where = ".".join(str(p) for p in first["loc"] if not str(p).startswith("list["))
            raise ValueError(f"item {index}: {where}: {first['msg']}") from None
    return items


class FunctionTool(Function):
    """A function tool: chat's function declaration, flat (``{"type": "function", "name", ...}``)."""

    type: Literal["function"]


class TextFormat(BaseModel):
    model_config = Strict

    type: Literal["text", "json_object", "json_schema"]
    name: StrictStr | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    description: StrictStr | None = None
    strict: StrictBool | None = None


class Text(BaseModel):
    model_config = Strict

    format: TextFormat | None = None
    verbosity: Literal["low", "medium", "high"] | None = None


class Reasoning(BaseModel):
    model_config = Strict

    effort: Literal["minimal", "low", "medium", "high"] | None = None
    summary: Literal["auto", "concise", "detailed"] | None = None


class ResponsesRequest(BaseModel):
    model_config = Strict

    model: StrictStr | None = None
    input: Annotated[StrictStr | list[Item], BeforeValidator(_each_item)]
    instructions: StrictStr | None = None
    temperature: Annotated[Number, Field(ge=0, le=2)] | None = None
    top_p: Annotated[Number, Field(ge=0, le=1)] | None = None
    max_output_tokens: Annotated[StrictInt, Field(ge=1)] | None = None
    stream: StrictBool = False
    tools: list[dict[str, Any]] | None = None
    tool_choice: Literal["auto", "none", "required"] | FunctionTool | None = None  # {"type": "function", "name"}
    parallel_tool_calls: StrictBool | None = None
    text: Text | None = None
    reasoning: Reasoning | None = None
    # accepted, never forwarded (they change no answer; nothing is stored)
    store: StrictBool | None = None
    metadata: Annotated[dict[str, Annotated[StrictStr, Field(max_length=512)]], Field(max_length=16)] | None = None
    user: Annotated[StrictStr, Field(max_length=256)] | None = None
    service_tier: StrictStr | None = None
    prompt_cache_key: Annotated[StrictStr, Field(max_length=256)] | None = None
    safety_identifier: Annotated[StrictStr, Field(max_length=256)] | None = None
    include: list[StrictStr] | None = None
    truncation: Literal["auto", "disabled"] | None = None
    stream_options: dict[str, Any] | None = None
    # refused by name: a stateless proxy cannot honour them
    previous_response_id: StrictStr | None = None
    background: StrictBool | None = None
    conversation: Any = None

    @field_validator("previous_response_id", "conversation")
    @classmethod
    def _stateless(cls, value: Any) -> Any:
        if value is not None:
            raise ValueError(f"is not supported: {STATELESS}")
        return value

    @field_validator("background")
    @classmethod
    def _no_background(cls, value: bool | None) -> bool | None:
        if value:
            raise ValueError("is not supported: this proxy answers while the request is open")
        return value

    @field_validator("tools")
    @classmethod
    def _function_tools_only(cls, value: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        for index, tool in enumerate(value or []):
            kind = tool.get("type") if isinstance(tool, dict) else None
            if kind != "function":
                named = f"'{kind}'" if isinstance(kind, str) else "this"
                raise ValueError(f"tool {index}: only function tools are available through this proxy, not {named}")
            FunctionTool.model_validate(tool)
        return value

    @field_validator("input")
    @classmethod
    def _bounded(cls, value: str | list[Item], info: ValidationInfo) -> str | list[Item]:
        limits = limits_of(info)
        texts = [value] if isinstance(value, str) else [item.text for item in value]
        if not texts or not any(t.strip() for t in texts):
            raise ValueError("send some input")
        if not isinstance(value, str) and len(value) > limits.max_messages:
            raise ValueError(f"send at most {limits.max_messages} items on this server")
        if any(len(t) > limits.max_prompt_chars for t in texts):
            raise ValueError(f"each item must be at most {limits.max_prompt_chars} characters on this server")
        return value

    @field_validator("model")
    @classmethod
    def _allowed_model(cls, value: str | None, info: ValidationInfo) -> str | None:
        return optional_model(value, info)

    @field_validator("max_output_tokens")
    @classmethod
    def _cap_tokens(cls, value: int | None, info: ValidationInfo) -> int | None:
        return cap_tokens(value, info)

    @property
    def prompt_chars(self) -> int:
        items = [self.input] if isinstance(self.input, str) else [item.text for item in self.input]
        return sum(len(t) for t in items) + len(self.instructions or "")

    def upstream_payload(self, model: str, max_output_tokens: int) -> dict:
        """What goes to the router: the forwarded fields only, the model's full id, the token cap."""
        payload: dict[str, Any] = {
            "model": model,
            "input": self.input if isinstance(self.input, str) else [item.upstream() for item in self.input],
            "max_output_tokens": self.max_output_tokens or max_output_tokens,
            "stream": self.stream,
        }
        for name in ("instructions", "temperature", "top_p", "tools", "parallel_tool_calls"):
            if getattr(self, name) is not None:
                payload[name] = getattr(self, name)
        for name in ("tool_choice", "text", "reasoning"):
            value = getattr(self, name)
            if isinstance(value, str):
                payload[name] = value
            elif value is not None:
                payload[name] = value.model_dump(exclude_none=True, by_alias=True)
        return payload
