"""The one pipeline of every model route: validate, plan, count, answer (live or demo).

1. The body is validated against the route's schema under the server's ``Limits``.
2. The route's ``plan`` says what the request asks for: the model (logged), the tokens it is
   charged (``Scope.admit``: rate limit, per-client tokens, daily budget) before anything goes
   upstream, and the upstream payload.
3. The route's live upstream, or its demo twin when ``DEMO_MODE`` is on, answers the plan with a
   JSON body or a stream of events, which :meth:`Response.answer` streams or buffers as the
   adapter allows.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from shared.http import Request, Response
from shared.routes.route import Route
from shared.schemas import validate
from shared.scope import Asked, Scope


def answer(route: Route, request: Request, scope: Scope) -> Response:
    spec, settings = route.model, scope.settings
    assert spec is not None and route.body is not None, "a model route declares its spec and body"
    body = validate(schema(route.body), request.json(settings.max_body_bytes), spec.limits(settings))
    plan = spec.plan(body, settings)
    scope.note(Asked(plan.model, plan.prompt_chars, plan.tokens, spec.operation))
    if plan.announce and plan.model:
        scope.call.answered(model=plan.model)  # a refusal (429, 503) names the model it was for
    scope.admit(plan.tokens)
    upstream = spec.demo if settings.demo_mode else spec.live
    return Response.answer(upstream(plan, scope.call), request)


@cache
def schema(dotted: str) -> Any:
    """The pydantic model named ``"module:Model"`` (imported by the first request that needs it)."""
    module, _, name = dotted.partition(":")
    return getattr(importlib.import_module(module), name)
