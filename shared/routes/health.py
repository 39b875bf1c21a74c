"""``GET /api/health``: which upstreams are configured. Never a secret, nothing derived from one.

Plain, it calls nothing (a platform's health probe may hit it every few seconds). ``?deep=1`` adds
``deep``: whether each route's model is live now, asked of the Hub and the Space
(:mod:`shared.routes.health_deep`, cached per warm process).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from shared import __version__
from shared.http import Request, Response
from shared.routes.context import Context
from shared.settings import Settings

DEEP_VALUES = ("1", "true", "yes")


def handle(request: Request, ctx: Context) -> Response:
    s = ctx.settings
    mode = "demo" if s.demo_mode else "live"
    ready = s.demo_mode or ctx.token_source.configured(s)
    body = {
        "status": "ok" if ready else "misconfigured",
        "version": __version__,
        "mode": mode,
        "streaming": request.can_stream,  # whether "stream": true can stream on this platform
        "upstreams": {
            "generate": {"configured": ready, "host": urlsplit(s.hf_inference_url).hostname},
            "chat": {
                "configured": ready,
                "host": urlsplit(s.hf_chat_url).hostname,
                "models": list(s.chat_models),
                "default_model": s.chat_default_model,
            },
            "predict": {
                "configured": s.demo_mode or (ready and s.llama_space_url is not None),
                "host": urlsplit(s.llama_space_url).hostname if s.llama_space_url else None,
            },
        },
        "limits": _limits(s),
    }
    if request.query.get("deep", "").lower() in DEEP_VALUES:
        from shared.routes import health_deep

        body["deep"] = health_deep.report(ctx)
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
