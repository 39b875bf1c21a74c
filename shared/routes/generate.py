"""``POST /api/generate``: validate, attach the server's token, forward to the text-generation API.

``"stream": true`` relays TGI's token events where the adapter can stream; elsewhere (Lambda) the
same events are answered in one buffered ``text/event-stream`` body with
``X-HFProxy-Streaming: unavailable``, like ``/api/chat``.

When the text-generation model is not served (502 ``model_not_served``), the same request is
answered once through the router's chat completions by ``GENERATE_FALLBACK_MODEL``
(:mod:`shared.upstreams.generate_fallback`), inside the same deadline and without being counted
again. ``X-HFProxy-Model`` (and the log's ``answered_by``) says which model answered.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from shared import errors
from shared.http import Request, Response
from shared.routes.context import Context
from shared.schemas import validate
from shared.schemas.generate import GenerateRequest
from shared.schemas.limits import Limits
from shared.upstreams import demo, generate_fallback, hf_inference, sse

MODEL_HEADER = "X-HFProxy-Model"


def handle(request: Request, ctx: Context) -> Response:
    settings = ctx.settings
    body = validate(GenerateRequest, request.json(settings.max_body_bytes), Limits.for_generate(settings))
    ctx.record.prompt_chars = len(body.text)
    ctx.record.model = model = configured_model(settings.hf_inference_url)
    _answered_by(ctx, model)
    ctx.admit(requested_tokens(body, settings.max_new_tokens))  # once: the fallback is the same request
    if settings.demo_mode:
        ctx.record.upstream = demo.NAME
        _answered_by(ctx, demo.NAME)
        if body.stream:
            return Response.event_stream_or_buffered(_demo_events(body.text), request, demo.MODE_HEADER)
        params = body.parameters
        count = (params.num_return_sequences if params else None) or 1
        return Response.json(
            200, demo.generate_answer(body.text, count, bool(params and params.details)), demo.MODE_HEADER
        )
    ctx.record.upstream = hf_inference.NAME
    token = ctx.token()
    fallback = settings.generate_fallback_model
    try:
        return _text_generation(request, body, ctx, token, "HF_INFERENCE_URL" if fallback else _NO_FALLBACK)
    except errors.ProxyError as exc:
        if exc.code != "model_not_served" or not fallback:
            raise
    return _fallback(request, body, ctx, token, fallback)


_NO_FALLBACK = "HF_INFERENCE_URL, or set GENERATE_FALLBACK_MODEL to a chat model"


def _text_generation(request: Request, body: GenerateRequest, ctx: Context, token: str, setting: str) -> Response:
    settings, record = ctx.settings, ctx.record
    if not body.stream:
        answer = hf_inference.generate(
            body.upstream_payload(),
            token=token,
            settings=settings,
            deadline=ctx.deadline,
            record=record,
            url_setting=setting,
        )
        return Response.raw_json(200, answer)
    opened = hf_inference.open_stream(
        body.upstream_payload(stream=True),
        token=token,
        settings=settings,
        deadline=ctx.deadline,
        record=record,
        url_setting=setting,
    )
    if isinstance(opened, bytes):  # the model answered without streaming: pass that on as it is
        return Response.raw_json(200, opened)
    return Response.event_stream_or_buffered(hf_inference.relay(opened, token=token, record=record), request)


def _fallback(request: Request, body: GenerateRequest, ctx: Context, token: str, model: str) -> Response:
    """The one fallback of this request; its own failure is answered as it maps."""
    ctx.record.upstream = generate_fallback.NAME
    _answered_by(ctx, model)
    call: dict[str, Any] = {
        "model": model,
        "token": token,
        "settings": ctx.settings,
        "deadline": ctx.deadline,
        "record": ctx.record,
    }
    if not body.stream:
        return Response.raw_json(200, generate_fallback.complete(body, **call))
    opened = generate_fallback.open_stream(body, **call)
    if isinstance(opened, bytes):  # the router answered without streaming
        return Response.raw_json(200, generate_fallback.from_completion(opened, body))
    return Response.event_stream_or_buffered(
        generate_fallback.relay(opened, body, token=token, record=ctx.record), request
    )


def _answered_by(ctx: Context, model: str) -> None:
    ctx.record.answered_by = model
    ctx.answer_headers[MODEL_HEADER] = re.sub(r"[^\x21-\x7e]", "", model)[:200]  # a header value: no CR/LF


def configured_model(url: str) -> str:
    """The model id in a ``.../models/{id}`` URL; a dedicated endpoint's host otherwise (never its path)."""
    if "/models/" in url:
        return url.rsplit("/models/", 1)[-1]
    return urlsplit(url).hostname or "custom"


def _demo_events(prompt: str) -> Iterator[bytes]:
    for event in demo.generate_events(prompt):
        yield sse.encode(event)


def requested_tokens(body: GenerateRequest, cap: int) -> int:
    """What the request may generate: max_new_tokens (the cap when absent) × num_return_sequences."""
    params = body.parameters
    per_sequence = (params.max_new_tokens if params else None) or cap
    return per_sequence * ((params.num_return_sequences if params else None) or 1)
