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

from shared.http import Request, Response
from shared.routes.context import Context
from shared.schemas import validate
from shared.schemas.chat import ChatRequest
from shared.schemas.limits import Limits


def handle(request: Request, ctx: Context) -> Response:
    settings = ctx.settings
    body = validate(ChatRequest, request.json(settings.max_body_bytes), Limits.for_chat(settings))
    model = body.model or settings.chat_default_model
    ctx.record.model = model
    ctx.record.prompt_chars = sum(len(m.text) for m in body.messages)
    payload = body.upstream_payload(model, stream=body.stream, default_max_tokens=settings.chat_max_tokens)
    ctx.admit(payload["max_tokens"] * payload.get("n", 1))  # n is only ever 1 (schemas/chat.py)
    return Response.answer(ctx.upstream.chat(body, payload, ctx.upstream_call(request)), request)
