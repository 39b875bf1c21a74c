"""A fake of the router's OpenAI-compatible chat API (``/v1/chat/completions``) and TGI streams.

Bodies follow the HF chat-completion spec (non-stream ``chat.completion``, stream
``chat.completion.chunk`` events ending in ``data: [DONE]``); error bodies are the router's
OpenAI-style objects as huggingface_hub users report them (see docs/chat.md).
"""

from __future__ import annotations

import json
import threading

from tests.fakes.hf_inference import ERROR_ROWS, hf_error
from tests.fakes.http_server import Received, Reply

CHAT_PATH = "/v1/chat/completions"


def completion(content: str, model: str = "Qwen/Qwen2.5-7B-Instruct") -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
    }


def echo_chat(req: Received) -> Reply:
    """Default success: answers with the last message's content, so pass-through is provable.

    Streamed (``"stream": true``) as the router does: one chunk per word, then ``data: [DONE]``.
    """
    body = req.json()
    if body.get("stream"):
        return words_stream(["echo:", f" {body['messages'][-1]['content']}"])
    return Reply(json=completion(f"echo: {body['messages'][-1]['content']}", body.get("model", "")))


def chunk(content: str | None, finish_reason: str | None = None) -> dict:
    delta = {} if content is None else {"content": content}
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "Qwen/Qwen2.5-7B-Instruct",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def event(data: dict | str, spaced: bool = True, newline: bytes = b"\n") -> bytes:
    """One SSE event as the upstream writes it: ``data: {...}`` (OpenAI) or ``data:{...}`` (TGI)."""
    text = data if isinstance(data, str) else json.dumps(data)
    return (("data: " if spaced else "data:") + text).encode() + newline + newline


def words_stream(words: list[str], *, gate_after: int | None = None, done: bool = True, **kwargs) -> Reply:
    """A chat stream of one chunk per word; a gate (threading.Event) after ``gate_after`` pieces."""
    pieces: list = [event(chunk(w)) for w in words] + [event(chunk(None, "stop"))]
    if done:
        pieces.append(event("[DONE]"))
    if gate_after is not None:
        pieces.insert(gate_after, threading.Event())
    return Reply(stream=pieces, content_type="text/event-stream", **kwargs)


def gate_of(reply: Reply) -> threading.Event:
    return next(p for p in reply.stream or [] if isinstance(p, threading.Event))


def tgi_stream(tokens: list[str], *, spaced: bool = False) -> Reply:
    """A TGI ``/generate_stream``-style answer: one event per token, the last with generated_text."""
    pieces = []
    for index, text in enumerate(tokens):
        last = index == len(tokens) - 1
        payload = {
            "index": index + 1,
            "token": {"id": index, "text": text, "logprob": -0.1, "special": False},
            "generated_text": "".join(tokens) if last else None,
            "details": None,
        }
        pieces.append(event(payload, spaced=spaced))
    return Reply(stream=pieces, content_type="text/event-stream")


ROUTER_ERRORS = {
    "model_not_supported_400": hf_error(
        400,
        {
            "message": "The requested model 'x/y' is not supported by any provider you have enabled.",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_supported",
        },
    ),
    # the router answers these as it does for text generation
    "unauthorized_401": ERROR_ROWS["unauthorized_401"],
    "credits_402": ERROR_ROWS["credits_402"],
    "gated_403": hf_error(
        403,
        "You cannot access this model unless the model owner gives you access. You can do so by accepting the terms.",
    ),
    "token_permissions_403": hf_error(
        403,
        "This authentication method does not have sufficient "
        "permissions to call Inference Providers on behalf of user u",
    ),
    "not_found_404": hf_error(404, "Model x/y not found."),
    "rate_limited_429": hf_error(
        429, {"message": "Rate limit reached", "type": "rate_limit"}, headers={"Retry-After": "9"}
    ),
    "server_error_500": hf_error(500, {"message": "internal", "type": "server_error"}),
    "unavailable_503": Reply(503, body=b"<html>Service Temporarily Unavailable</html>", content_type="text/html"),
    "gateway_timeout_504": ERROR_ROWS["gateway_timeout_504"],
    "bad_json_200": ERROR_ROWS["bad_json_200"],
}
