"""Client for the router's OpenAI-compatible chat API (``router.huggingface.co/v1/chat/completions``).

One URL for every model; the model id travels in the body
(https://huggingface.co/docs/inference-providers/tasks/chat-completion). Errors use the status
map of :mod:`shared.upstreams.hf_status` (the router answers OpenAI-style bodies such as
``{"error": {"message", "type": "invalid_request_error", "param": "model", "code":
"model_not_supported"}}``). Streams are OpenAI ``chat.completion.chunk`` events ending in
``data: [DONE]``; an error inside a 200 stream arrives as ``data: {"error": ...}``
(huggingface_hub PR #2558).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from shared.upstreams import hf_status, sse, transport
from shared.upstreams.call import UpstreamCall

NAME = "hf-router-chat"
URL_SETTING = "HF_CHAT_URL or CHAT_MODELS"


def complete(payload: dict, call: UpstreamCall, *, url_setting: str = URL_SETTING) -> bytes:
    """POST a non-streamed chat request; return the upstream's JSON unchanged (token redacted).
    ``url_setting`` names what the operator changes when the model is not served."""
    return hf_status.post(call, call.settings.hf_chat_url, payload, url_setting=url_setting)


def open_stream(payload: dict, call: UpstreamCall, *, url_setting: str = URL_SETTING) -> transport.Exchange | bytes:
    """Start a streamed chat request: the open stream, or the JSON of a router that did not stream."""
    return hf_status.open_stream(call, call.settings.hf_chat_url, payload, url_setting=url_setting)


def relay(
    stream: transport.Exchange, call: UpstreamCall, convert: Callable[[sse.Event], Iterable[Any]] | None = None
) -> Iterator[bytes]:
    """Chat chunks to our client as they come, until ``[DONE]`` (``convert``: re-shaped on the way)."""
    return hf_status.relay(stream, call, is_final=is_done, convert=convert)


def is_done(event: sse.Event) -> bool:
    return event.data.strip() == sse.DONE
