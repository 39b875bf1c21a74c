"""``POST /api/generate``: validate, count, and hand the request to the model upstream.

``"stream": true`` relays TGI's token events where the adapter can stream; elsewhere (Lambda) the
same events are answered in one buffered ``text/event-stream`` body with
``X-HFProxy-Streaming: unavailable``, like ``/api/chat``. A model that is not served is answered
by ``GENERATE_FALLBACK_MODEL`` (:mod:`shared.upstreams.huggingface`); ``X-HFProxy-Model`` says
which model answered, on errors too.
"""

from __future__ import annotations

from shared.http import Request, Response
from shared.routes.context import Context
from shared.schemas import validate
from shared.schemas.generate import GenerateRequest
from shared.schemas.limits import Limits
from shared.upstreams.huggingface import configured_model
from shared.upstreams.model_upstream import answered_by


def handle(request: Request, ctx: Context) -> Response:
    settings = ctx.settings
    body = validate(GenerateRequest, request.json(settings.max_body_bytes), Limits.for_generate(settings))
    ctx.record.prompt_chars = len(body.text)
    call = ctx.upstream_call(request)
    ctx.record.model = model = configured_model(settings.hf_inference_url)
    answered_by(call, model)  # a refusal (429, 503) names the model it was for
    ctx.admit(requested_tokens(body, settings.max_new_tokens))  # once: the fallback is the same request
    return Response.answer(ctx.upstream.generate(body, call), request)


def requested_tokens(body: GenerateRequest, cap: int) -> int:
    """What the request may generate: max_new_tokens (the cap when absent) × num_return_sequences."""
    params = body.parameters
    per_sequence = (params.max_new_tokens if params else None) or cap
    return per_sequence * ((params.num_return_sequences if params else None) or 1)
