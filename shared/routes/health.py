"""``GET /api/health``: which upstreams are configured. Never a secret, nothing derived from one.

Plain, it calls nothing (a platform's health probe may hit it every few seconds): each model
route of the table says what it is configured with (``ModelSpec.health``). ``?deep=1`` adds
``deep``: whether each route's model is live now, asked of the Hub and the Space
(:mod:`shared.routes.health_deep`, cached per warm process).
"""

from __future__ import annotations

from shared import __version__
from shared.http import Request, Response
from shared.routes.route import Route
from shared.scope import Scope
from shared.settings import Settings

DEEP_VALUES = ("1", "true", "yes")


def handle(request: Request, scope: Scope) -> Response:
    s = scope.settings
    ready = s.demo_mode or scope.token_source.configured(s)
    upstreams = {}
    assert scope.routes is not None, "the app routes every request by its table"
    for route in scope.routes.model_routes():
        assert route.model is not None
        upstreams[route.name] = route.model.health(s, ready)
    body = {
        "status": "ok" if ready else "misconfigured",
        "version": __version__,
        "mode": "demo" if s.demo_mode else "live",
        "streaming": request.can_stream,  # whether "stream": true can stream on this platform
        "upstreams": upstreams,
        "limits": _limits(s),
        "access": _access(s),
    }
    if request.query.get("deep", "").lower() in DEEP_VALUES:
        from shared.routes import health_deep

        body["deep"] = health_deep.report(scope)
    return Response.json(200, body)


def _limits(s: Settings) -> dict:
    """What the owner configured (docs/limits.md); never a count, which would tell one client
    about the others. Answered from settings alone: health never touches the store."""
    return {
        "requests_per_minute": s.rate_limit_per_minute,  # RATE_LIMIT_PER_MINUTE
        "client_per_day": s.client_daily_tokens,  # CLIENT_DAILY_TOKENS
        "budget_per_day": s.daily_token_budget,  # DAILY_TOKEN_BUDGET
        "store": s.quota_store,
        "fail_open": s.quota_fail_open,
    }


def _access(s: Settings) -> dict:
    """Who may call the model routes (docs/limits.md); the page reads ``turnstile_site_key`` (public
    by design: it is in every page that shows the widget) to show the human check."""
    return {
        "sign_in": ("required" if s.auth_required else "optional") if s.sign_in else "off",
        "human_check": s.turnstile_secret is not None,
        "turnstile_site_key": s.turnstile_site_key,
    }


ROUTE = Route(
    "health",
    paths=("/api/health",),
    handler=handle,
    method="GET",
    summary="Which upstreams are configured; ?deep=1: which routes are live (asks the Hub)",
    query=(("deep", "1: also ask the Hub and the Space which routes are live now (cached a few minutes)"),),
)
