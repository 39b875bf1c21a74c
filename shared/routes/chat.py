"""``POST /api/chat`` (also ``/api/chat/completions`` and ``/api/v1/chat/completions``): a current
chat model through the router's OpenAI-compatible API.

With ``"stream": true`` the answer is relayed as server-sent events while it is written, when the
adapter can stream (``Request.can_stream``). When it cannot (Lambda behind API Gateway: Python
functions cannot stream, aws-lambda-roadmap #39) the same event stream is collected and answered
in one buffered ``text/event-stream`` body (every chunk, then ``data: [DONE]``) with
``X-HFProxy-Streaming: unavailable``: a streaming client's parser works unchanged and simply
sees every chunk at once.
"""

from __future__ import annotations

from collections.abc import Iterator

from shared.http import Request, Response
from shared.routes.context import Context
from shared.schemas import validate
from shared.schemas.chat import ChatRequest
from shared.schemas.limits import Limits
from shared.upstreams import demo, hf_chat, sse


def handle(request: Request, ctx: Context) -> Response:
    settings = ctx.settings
    body = validate(ChatRequest, request.json(settings.max_body_bytes), Limits.for_chat(settings))
    model = body.model or settings.chat_default_model
    ctx.record.model = model
    ctx.record.prompt_chars = sum(len(m.text) for m in body.messages)
    payload = body.upstream_payload(model, stream=body.stream, default_max_tokens=settings.chat_max_tokens)
    ctx.admit(payload["max_tokens"] * payload.get("n", 1))  # n is only ever 1 (schemas/chat.py)
    if settings.demo_mode:
        return _demo(payload, body, request, ctx)
    ctx.record.upstream = hf_chat.NAME
    token = ctx.token()
    if not body.stream:
        answer = hf_chat.complete(payload, token=token, settings=settings, deadline=ctx.deadline, record=ctx.record)
        return Response.raw_json(200, answer)
    opened = hf_chat.open_stream(payload, token=token, settings=settings, deadline=ctx.deadline, record=ctx.record)
    if isinstance(opened, bytes):  # the upstream answered without streaming: pass that on as it is
        return Response.raw_json(200, opened)
    return Response.event_stream_or_buffered(hf_chat.relay(opened, token=token, record=ctx.record), request)


def _demo(payload: dict, body: ChatRequest, request: Request, ctx: Context) -> Response:
    ctx.record.upstream = demo.NAME
    text = demo.chat_answer(payload["messages"])
    if not body.stream:
        return Response.json(200, demo.chat_completion(payload["model"], text), demo.MODE_HEADER)
    events = _demo_events(payload["model"], text, body.include_usage, ctx, request.can_stream)
    return Response.event_stream_or_buffered(events, request, demo.MODE_HEADER)


def _demo_events(model: str, text: str, usage: bool, ctx: Context, paced: bool) -> Iterator[bytes]:
    ctx.record.stream_end = "client_gone"
    delay = ctx.settings.demo_word_delay if paced else 0.0
    for chunk in demo.chat_chunks(model, text, delay, include_usage=usage):
        yield sse.encode(chunk)
    yield sse.DONE_EVENT
    ctx.record.stream_end = "done"
