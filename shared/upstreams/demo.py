"""Offline demo answers (the "test mode" of seed 003): deterministic, clearly marked, no network.

Used when DEMO_MODE is on, or when ``make serve`` starts with no token. Deployed functions never
fall back to it silently: there, no token is the 500 ``server_misconfigured`` error.
Each function answers one route's plan in the shape its live twin (:mod:`shared.upstreams.huggingface`)
does, marked ``X-HFProxy-Mode: demo``; none reads the token.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

from shared.http import json_bytes
from shared.upstreams import sse
from shared.upstreams.call import UpstreamCall
from shared.upstreams.plan import Answer, Plan

NAME = "demo"
MODE_HEADER = {"X-HFProxy-Mode": "demo"}

_CONTINUATIONS = (
    "and the rest of this sentence is demo text, not a model's answer.",
    "which is where a real model would carry on; this is demo mode.",
    "but no model was asked: the proxy is running in offline demo mode.",
)


def generate(plan: Plan, call: UpstreamCall) -> Answer:
    _mark(call, NAME)
    body = plan.body
    if body.stream:
        return (sse.encode(event) for event in generate_events(body.text))
    params = body.parameters
    count = (params.num_return_sequences if params else None) or 1
    return json_bytes(generate_answer(body.text, count, bool(params and params.details)))


def chat(plan: Plan, call: UpstreamCall) -> Answer:
    _mark(call)
    payload = plan.payload or {}
    text = chat_answer(payload["messages"])
    if not plan.stream:
        return json_bytes(chat_completion(payload["model"], text))
    delay = call.settings.demo_word_delay if call.can_stream else 0.0
    return _chat_events(payload["model"], text, plan.body.include_usage, delay, call)


def predict(plan: Plan, call: UpstreamCall) -> Answer:
    _mark(call)
    return json_bytes({"generated_text": complete(plan.body.inputs)})


def _mark(call: UpstreamCall, model: str | None = None) -> None:
    call.answered(NAME, model)
    call.reached = True
    call.headers.update(MODE_HEADER)


def _chat_events(model: str, text: str, usage: bool, delay: float, call: UpstreamCall) -> Iterator[bytes]:
    call.stream_ended("client_gone")
    for chunk in chat_chunks(model, text, delay, include_usage=usage):
        yield sse.encode(chunk)
    yield sse.DONE_EVENT
    call.stream_ended("done")


def complete(prompt: str) -> str:
    """The same prompt always gets the same continuation, so tests and screenshots are stable."""
    index = hashlib.sha256(prompt.encode()).digest()[0] % len(_CONTINUATIONS)
    return f"[demo] {_CONTINUATIONS[index]}"


def chat_answer(messages: list[dict]) -> str:
    """The demo reply to a conversation: keyed on the last message, like :func:`complete`."""
    return demo_reply((messages[-1].get("content") or "") if messages else "")


def demo_reply(prompt: str) -> str:
    return f"{complete(prompt)} Ask a real model by setting HF_TOKEN."


def chat_completion(model: str, text: str) -> dict:
    """The OpenAI non-stream shape, as the router answers it."""
    return {
        "id": "demo",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
    }


def chat_chunks(model: str, text: str, delay: float = 0.0, *, include_usage: bool = False) -> Iterator[dict]:
    """The same answer as OpenAI ``chat.completion.chunk`` objects, one word each, ``delay`` apart.

    With ``include_usage`` a last chunk carries ``usage`` and empty ``choices``, as OpenAI sends
    for ``stream_options.include_usage`` (https://platform.openai.com/docs/api-reference/chat/create).
    """
    words = text.split(" ")
    for index, word in enumerate(words):
        if index and delay:
            time.sleep(delay)  # a human-visible pace in `make serve`; 0 in tests
        content = word if index == 0 else f" {word}"
        yield _chunk(model, {"role": "assistant", "content": content} if index == 0 else {"content": content}, None)
    yield _chunk(model, {}, "stop")
    if include_usage:
        tokens = len(words)
        yield {**_chunk(model, {}, None), "choices": [], "usage": _usage(tokens)}


def _usage(completion_tokens: int) -> dict:
    return {"prompt_tokens": 0, "completion_tokens": completion_tokens, "total_tokens": completion_tokens}


def generate_answer(prompt: str, count: int, details: bool) -> list[dict]:
    """The text-generation answer; with ``details`` TGI's details object (one token per word)."""
    text = f"{prompt} {complete(prompt)}"
    answer: dict = {"generated_text": text}
    if details:
        words = complete(prompt).split(" ")
        answer["details"] = {
            "finish_reason": "length",
            "generated_tokens": len(words),
            "seed": None,
            "prefill": [],
            "tokens": [_token(i, word) for i, word in enumerate(words)],
        }
    return [answer] * count


def generate_events(prompt: str) -> Iterator[dict]:
    """TGI's token events for the demo continuation: one per word, the last with generated_text."""
    words = complete(prompt).split(" ")
    for index, word in enumerate(words):
        last = index == len(words) - 1
        yield {
            "index": index,
            "token": _token(index, word),
            "generated_text": f"{prompt} {complete(prompt)}" if last else None,
            "details": {"finish_reason": "length", "generated_tokens": len(words), "seed": None} if last else None,
        }


def _token(index: int, word: str) -> dict:
    return {"id": index, "text": f" {word}", "logprob": 0.0, "special": False}


def _chunk(model: str, delta: dict, finish_reason: str | None) -> dict:
    return {
        "id": "demo",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


# --- the Responses API (https://platform.openai.com/docs/api-reference/responses-streaming) --------


def respond(plan: Plan, call: UpstreamCall) -> Answer:
    """``POST /api/v1/responses`` offline: a Response object, or its event sequence."""
    _mark(call)
    payload = plan.payload or {}
    given = payload.get("input")
    last = given if isinstance(given, str) else _last_text(given or [])
    text = demo_reply(last)
    if not plan.stream:
        return json_bytes(response_object(payload["model"], text, "completed"))
    delay = call.settings.demo_word_delay if call.can_stream else 0.0
    return _response_events(payload["model"], text, delay, call)


def _last_text(items: list[dict]) -> str:
    for item in reversed(items):
        content = item.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return "".join(part.get("text", "") for part in content)
    return ""


def response_object(model: str, text: str, status: str) -> dict:
    """A Response as the API answers it: one assistant message with one ``output_text`` part."""
    done = status == "completed"
    words = len(text.split(" ")) if done else 0
    return {
        "id": "resp_demo",
        "object": "response",
        "created_at": 0,
        "status": status,
        "model": model,
        "output": [_message(text, status)] if done else [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "temperature": None,
        "top_p": None,
        "usage": {
            "input_tokens": 0,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": words,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": words,
        }
        if done
        else None,
    }


def _message(text: str, status: str) -> dict:
    content = [{"type": "output_text", "text": text, "annotations": []}] if status == "completed" else []
    return {"id": "msg_demo", "type": "message", "status": status, "role": "assistant", "content": content}


def response_events(model: str, text: str, delay: float = 0.0) -> Iterator[tuple[str, dict]]:
    """The Responses stream of one text answer, one word per delta, as (event type, data)."""
    part = {"type": "output_text", "text": "", "annotations": []}
    where = {"item_id": "msg_demo", "output_index": 0, "content_index": 0}
    yield "response.created", {"response": response_object(model, "", "in_progress")}
    yield "response.in_progress", {"response": response_object(model, "", "in_progress")}
    yield "response.output_item.added", {"output_index": 0, "item": _message("", "in_progress")}
    yield "response.content_part.added", {**where, "part": part}
    for index, word in enumerate(text.split(" ")):
        if index and delay:
            time.sleep(delay)  # a human-visible pace in `make serve`; 0 in tests
        yield "response.output_text.delta", {**where, "delta": word if index == 0 else f" {word}"}
    yield "response.output_text.done", {**where, "text": text}
    yield "response.content_part.done", {**where, "part": {**part, "text": text}}
    yield "response.output_item.done", {"output_index": 0, "item": _message(text, "completed")}
    yield "response.completed", {"response": response_object(model, text, "completed")}


def _response_events(model: str, text: str, delay: float, call: UpstreamCall) -> Iterator[bytes]:
    call.stream_ended("client_gone")
    for number, (kind, data) in enumerate(response_events(model, text, delay)):
        yield sse.encode({"type": kind, "sequence_number": number, **data}, event=kind)
    call.stream_ended("done")
