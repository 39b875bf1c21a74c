"""``POST /api/predict``: the Llama Space of seed 003, behind its documented contract.

The browser always sends ``{"inputs", "parameters"}`` and always gets ``{"generated_text"}``;
:mod:`shared.upstreams.gradio_space` speaks whichever protocol the Space does.
"""

from __future__ import annotations

from shared.http import Request, Response
from shared.routes.context import Context
from shared.schemas import validate
from shared.schemas.limits import Limits
from shared.schemas.predict import PredictRequest


def handle(request: Request, ctx: Context) -> Response:
    settings = ctx.settings
    body = validate(PredictRequest, request.json(settings.max_body_bytes), Limits.for_predict(settings))
    ctx.record.prompt_chars = len(body.inputs)
    ctx.record.model = body.parameters.model
    ctx.admit(body.parameters.max_new_tokens or settings.llama_max_new_tokens)
    return Response.answer(ctx.upstream.predict(body, ctx.upstream_call(request)), request)
