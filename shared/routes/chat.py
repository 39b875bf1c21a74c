"""``POST /api/chat``: a current chat model through the router's OpenAI-compatible API.

With ``"stream": true`` the answer is relayed as server-sent events while it is written, when the
adapter can stream (``Request.can_stream``). When it cannot (Lambda behind API Gateway: Python
functions cannot stream, aws-lambda-roadmap #39) the same request is answered buffered, in the
non-stream shape, with ``X-HFProxy-Streaming: unavailable`` so the page knows why.
"""

from __future__ import annotations

from collections.abc import Iterator

from shared.http import STREAMING_UNAVAILABLE, Request, Response
from shared.routes.context import Context
from shared.schemas import validate
from shared.schemas.chat import ChatRequest
from shared.upstreams import demo, hf_chat, sse


def handle(request: Request, ctx: Context) -> Response:
    settings = ctx.settings
    body = validate(
        ChatRequest,
        request.json(settings.max_body_bytes),
        {
            "models": settings.chat_models,
            "max_messages": settings.chat_max_messages,
            "max_content_chars": settings.chat_max_content_chars,
            "max_tokens": settings.chat_max_tokens,
        },
    )
    model = body.model or settings.chat_default_model
    streaming = body.stream and request.can_stream
    headers = STREAMING_UNAVAILABLE if body.stream and not streaming else {}
    ctx.record.model = model
    ctx.record.prompt_chars = sum(len(m.content) for m in body.messages)
    payload = body.upstream_payload(model, stream=streaming, default_max_tokens=settings.chat_max_tokens)
    if settings.demo_mode:
        return _demo(payload, streaming, headers, ctx)
    ctx.record.upstream = hf_chat.NAME
    token = ctx.token()
    if not streaming:
        answer = hf_chat.complete(payload, token=token, settings=settings, deadline=ctx.deadline, record=ctx.record)
        return Response.raw_json(200, answer, headers)
    opened = hf_chat.open_stream(payload, token=token, settings=settings, deadline=ctx.deadline, record=ctx.record)
    if isinstance(opened, bytes):  # the upstream answered without streaming: pass that on as it is
        return Response.raw_json(200, opened)
    return Response.event_stream(hf_chat.relay(opened, token=token, record=ctx.record))


def _demo(payload: dict, streaming: bool, headers: dict[str, str], ctx: Context) -> Response:
    ctx.record.upstream = demo.NAME
    text = demo.chat_answer(payload["messages"])
    if not streaming:
        return Response.json(200, demo.chat_completion(payload["model"], text), {**demo.MODE_HEADER, **headers})
    return Response.event_stream(_demo_events(payload["model"], text, ctx), demo.MODE_HEADER)


def _demo_events(model: str, text: str, ctx: Context) -> Iterator[bytes]:
    ctx.record.stream_end = "client_gone"
    for chunk in demo.chat_chunks(model, text, ctx.settings.demo_word_delay):
        yield sse.encode(chunk)
    yield sse.DONE_EVENT
    ctx.record.stream_end = "done"
