"""``POST /api/generate``: validate, attach the server's token, forward to the text-generation API.

``"stream": true`` relays TGI's token events where the adapter can stream; elsewhere (Lambda) the
same request is answered buffered with ``X-HFProxy-Streaming: unavailable``, like ``/api/chat``.
"""

from __future__ import annotations

from shared.http import STREAMING_UNAVAILABLE, Request, Response
from shared.routes.context import Context
from shared.schemas import validate
from shared.schemas.generate import GenerateRequest
from shared.upstreams import demo, hf_inference


def handle(request: Request, ctx: Context) -> Response:
    settings = ctx.settings
    body = validate(
        GenerateRequest,
        request.json(settings.max_body_bytes),
        {"max_new_tokens": settings.max_new_tokens, "max_prompt_chars": settings.max_prompt_chars},
    )
    ctx.record.prompt_chars = len(body.text)
    ctx.record.model = settings.hf_inference_url.rsplit("/models/", 1)[-1]
    if settings.demo_mode:
        ctx.record.upstream = demo.NAME
        count = (body.parameters.num_return_sequences if body.parameters else None) or 1
        answer = [{"generated_text": f"{body.text} {demo.complete(body.text)}"}] * count
        return Response.json(200, answer, demo.MODE_HEADER)
    ctx.record.upstream = hf_inference.NAME
    token = ctx.token()
    if body.stream and request.can_stream:
        opened = hf_inference.open_stream(
            body.upstream_payload(stream=True), token=token, settings=settings, deadline=ctx.deadline, record=ctx.record
        )
        if isinstance(opened, bytes):  # the model answered without streaming: pass that on as it is
            return Response.raw_json(200, opened)
        return Response.event_stream(hf_inference.relay(opened, token=token, record=ctx.record))
    body_bytes = hf_inference.generate(
        body.upstream_payload(), token=token, settings=settings, deadline=ctx.deadline, record=ctx.record
    )
    return Response.raw_json(200, body_bytes, STREAMING_UNAVAILABLE if body.stream else None)
