"""``POST /api/clearance``: a Turnstile token in, a clearance token out (docs/limits.md).

The anonymous caller's human check (:mod:`shared.auth.clearance`): 200
``{"clearance", "expires_in", "expires_at", "header"}`` once Cloudflare confirms the Turnstile
token; 403 ``turnstile_failed`` when it does not, 503 ``turnstile_unavailable`` when it cannot be
asked, 404 ``clearance_off`` when no ``TURNSTILE_SECRET`` is set. Never counted by the limits: it
calls no model.
"""

from __future__ import annotations

from shared import errors
from shared.http import Request, Response
from shared.routes.route import Route
from shared.scope import Scope


def handle(request: Request, scope: Scope) -> Response:
    settings = scope.settings
    if not settings.turnstile_secret:
        raise errors.clearance_off()
    from shared.auth import clearance
    from shared.schemas import validate
    from shared.schemas.clearance import ClearanceRequest
    from shared.schemas.limits import Limits

    no_caps = Limits(max_tokens=0, max_prompt_chars=0)  # the body's own bounds are all it has
    body = validate(ClearanceRequest, request.json(settings.max_body_bytes), no_caps)
    clearance.confirm_human(body.token, settings, scope.address, scope.deadline)
    token, expires = clearance.issue(settings, scope.client)
    return Response.json(
        200,
        {"clearance": token, "expires_in": settings.clearance_ttl, "expires_at": expires, "header": "X-Clearance"},
    )


ROUTE = Route(
    "clearance",
    paths=("/api/clearance",),
    handler=handle,
    body="shared.schemas.clearance:ClearanceRequest",
    summary="The human check: a Turnstile token in, a clearance for X-Clearance out",
)
