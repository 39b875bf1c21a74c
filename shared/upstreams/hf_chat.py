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

from collections.abc import Iterator

from shared.deadline import Deadline
from shared.settings import Settings
from shared.telemetry import RequestRecord
from shared.upstreams import hf_inference, hf_status, sse, transport

NAME = "hf-router-chat"
URL_SETTING = "HF_CHAT_URL or CHAT_MODELS"


def complete(
    payload: dict,
    *,
    token: str,
    settings: Settings,
    deadline: Deadline,
    record: RequestRecord,
    url_setting: str = URL_SETTING,
) -> bytes:
    """POST a non-streamed chat request; return the upstream's JSON unchanged (token redacted).
    ``url_setting`` names what the operator changes when the model is not served."""
    record.upstream_attempts += 1
    resp = transport.request(
        "POST", settings.hf_chat_url, token=token, settings=settings, deadline=deadline, json_body=payload
    )
    record.upstream_status, record.upstream_ms = resp.status, round(resp.elapsed_ms, 1)
    if resp.status != 200:
        raise hf_status.map_error(resp, token, url_setting=url_setting)
    return transport.without_token(resp.body, resp.json(), token)


def open_stream(
    payload: dict,
    *,
    token: str,
    settings: Settings,
    deadline: Deadline,
    record: RequestRecord,
    url_setting: str = URL_SETTING,
) -> sse.UpstreamStream | bytes:
    """Start a streamed chat request: the text-generation stream opener, on the chat URL."""
    return hf_inference.open_stream(
        payload,
        token=token,
        settings=settings,
        deadline=deadline,
        record=record,
        url=settings.hf_chat_url,
        url_setting=url_setting,
    )


def relay(stream: sse.UpstreamStream, *, token: str, record: RequestRecord) -> Iterator[bytes]:
    def error_of(event: sse.Event):
        return hf_status.stream_error(event, token)

    return sse.relay(stream, token=token, is_final=_is_done, error_of=error_of, record=record)


def _is_done(event: sse.Event) -> bool:
    return event.data.strip() == sse.DONE
