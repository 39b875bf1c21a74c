"""What the router's Responses API says when it ends or fails, and how our failure reads to the SDKs.

The router's ``/v1/responses`` is Hugging Face's Responses server on Inference Providers
(huggingface/responses.js, https://github.com/huggingface/responses.js/blob/main/src/routes/responses.ts).
It writes each event as a ``data:`` line only (no ``event:`` line), numbers them from 0
(``sequence_number``), and when the provider fails part-way it ends with ``response.failed``
whose ``response.error`` is ``{"code": "server_error", "message"}``; a plain request runs as the
same stream and is answered 200 with that failed Response. OpenAI's own API may instead send an
``error`` event (``{"type": "error", "code", "message", "param"}``,
https://platform.openai.com/docs/api-reference/responses-streaming/error). Either way our client
gets the proxy's own failure (:func:`failure`, :func:`failed_answer`), written by :func:`error_event`
as the one last event every SDK raises with its message:

- openai-python raises ``APIError(error.message)`` for data with an ``error`` object
  (https://github.com/openai/openai-python/blob/main/src/openai/_streaming.py);
- openai-node throws ``APIError`` built from ``data.error`` (``src/core/streaming.ts``);
- the AI SDK's Responses model (``@ai-sdk/openai``) reads ``{"type": "error", "sequence_number",
  "error": {"type", "code", "message"}}`` as an error part with that message; without
  ``sequence_number`` the event fails its schema and the user sees a TypeValidationError instead
  (``openaiResponsesNestedErrorChunkSchema``, https://github.com/vercel/ai/blob/main/packages/openai/src/responses/openai-responses-api.ts).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared import errors
from shared.upstreams import sse
from shared.upstreams.call import UpstreamCall

# A Responses stream ends with one of these; there is no [DONE]
# (https://platform.openai.com/docs/api-reference/responses-streaming).
FINAL = frozenset({"response.completed", "response.failed", "response.incomplete"})
_FAILED = ("error", "response.failed")


def done(event: sse.Event) -> bool:
    """The stream's last event (its ``event:`` line, or the ``type`` in its data)."""
    if event.event in FINAL:
        return True
    return event.event == "message" and '"type"' in event.data and _type_of(event.json()) in FINAL


def failure(call: UpstreamCall) -> Callable[[sse.Event], errors.ProxyError | None]:
    """The relay's ``error_of`` for a Responses stream: an ``error`` event or a ``response.failed``
    becomes ``upstream_stream_error`` with the router's sentence (made safe)."""

    def error_of(event: sse.Event) -> errors.ProxyError | None:
        if event.event not in _FAILED and '"error"' not in event.data and "response.failed" not in event.data:
            return None
        data = event.json()
        kind = _type_of(data) if event.event == "message" else event.event
        if kind == "response.failed":
            return errors.upstream_stream_error(_said(call, _response_error(data)))
        if kind == "error" or (isinstance(data, dict) and data.get("error")):  # also a chat-style {"error"}
            return errors.upstream_stream_error(
                _said(call, data.get("error") or data if isinstance(data, dict) else None)
            )
        return None

    return error_of


def failed_answer(data: Any, call: UpstreamCall) -> errors.ProxyError | None:
    """A plain answer the router marks failed (200, ``status: "failed"``): our error instead, so the
    SDK raises with the proxy's sentence rather than returning an empty Response."""
    if isinstance(data, dict) and data.get("status") == "failed":
        return errors.upstream_stream_error(_said(call, data.get("error")))
    return None


def error_event(call: UpstreamCall) -> Callable[[errors.ProxyError], bytes]:
    """The relay's last event for a failed Responses stream: OpenAI's error object (what the
    openai SDKs raise) inside the Responses ``error`` event, numbered after the events relayed
    (the upstream numbers from 0 and every event is relayed, so that is the next number)."""

    def encode(error: errors.ProxyError) -> bytes:
        body = error.stream_event_body("openai")
        return sse.encode({**body, "sequence_number": call.relayed}, event="error")

    return encode


def _type_of(data: Any) -> str | None:
    return data.get("type") if isinstance(data, dict) else None


def _response_error(data: Any) -> Any:
    response = data.get("response") if isinstance(data, dict) else None
    return response.get("error") if isinstance(response, dict) else None


def _said(call: UpstreamCall, error: Any) -> str | None:
    """The sentence of an upstream error object (``{"message"}``) or string, safe to show."""
    message = error.get("message") if isinstance(error, dict) else error
    return call.safe_message({"error": message}) if isinstance(message, str) else None
