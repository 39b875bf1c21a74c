"""``POST /api/generate``: validate, attach the server's token, forward to the text-generation API.

``"stream": true`` relays TGI's token events where the adapter can stream; elsewhere (Lambda) the
same events are answered in one buffered ``text/event-stream`` body with
``X-HFProxy-Streaming: unavailable``, like ``/api/chat``.
"""

from __future__ import annotations

from collections.abc import Iterator

from shared.http import Request, Response
from shared.routes.context import Context
from shared.schemas import validate
from shared.schemas.generate import GenerateRequest
from shared.schemas.limits import Limits
from shared.upstreams import demo, hf_inference, sse


def handle(request: Request, ctx: Context) -> Response:
    settings = ctx.settings
    body = validate(GenerateRequest, request.json(settings.max_body_bytes), Limits.for_generate(settings))
    ctx.record.prompt_chars = len(body.text)
    ctx.record.model = settings.hf_inference_url.rsplit("/models/", 1)[-1]
    ctx.admit(requested_tokens(body, settings.max_new_tokens))
    if settings.demo_mode:
        ctx.record.upstream = demo.NAME
        if body.stream:
            return Response.event_stream_or_buffered(_demo_events(body.text), request, demo.MODE_HEADER)
        params = body.parameters
        count = (params.num_return_sequences if params else None) or 1
        return Response.json(
            200, demo.generate_answer(body.text, count, bool(params and params.details)), demo.MODE_HEADER
        )
    ctx.record.upstream = hf_inference.NAME
    token = ctx.token()
    if body.stream:
        opened = hf_inference.open_stream(
            body.upstream_payload(stream=True), token=token, settings=settings, deadline=ctx.deadline, record=ctx.record
        )
        if isinstance(opened, bytes):  # the model answered without streaming: pass that on as it is
            return Response.raw_json(200, opened)
        return Response.event_stream_or_buffered(hf_inference.relay(opened, token=token, record=ctx.record), request)
    body_bytes = hf_inference.generate(
        body.upstream_payload(), token=token, settings=settings, deadline=ctx.deadline, record=ctx.record
    )
    return Response.raw_json(200, body_bytes)


def _demo_events(prompt: str) -> Iterator[bytes]:
    for event in demo.generate_events(prompt):
        yield sse.encode(event)


def requested_tokens(body: GenerateRequest, cap: int) -> int:
    """What the request may generate: max_new_tokens (the cap when absent) × num_return_sequences."""
    params = body.parameters
    per_sequence = (params.max_new_tokens if params else None) or cap
    return per_sequence * ((params.num_return_sequences if params else None) or 1)
