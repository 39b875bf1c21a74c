"""CORS decided in the core, so every platform answers browsers the same way.

``*`` is the one-click default and is never combined with credentials (we never send
``Access-Control-Allow-Credentials``). Every response varies on Origin, so a cache never hands
one origin's answer to another. Spec: https://fetch.spec.whatwg.org/#http-cors-protocol
"""

from __future__ import annotations

from shared import errors
from shared.http import Request, Response
from shared.settings import Settings

ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS"  # HEAD: every GET route (shared/app.py)
EXPOSED_HEADERS = (
    "Retry-After, RateLimit, RateLimit-Policy, X-Request-Id, X-HFProxy-Mode, X-HFProxy-Streaming, X-HFProxy-Model"
)


def allow_origin_value(settings: Settings, origin: str | None) -> str | None:
    """The Access-Control-Allow-Origin value for this origin, or None if it is not allowed."""
    if origin is None:
        return None
    if "*" in settings.allowed_origins:
        return "*"
    return origin if settings.origin_allowed(origin) else None


def is_preflight(request: Request) -> bool:
    return request.method == "OPTIONS"


def preflight(request: Request, settings: Settings) -> Response:
    """Answer OPTIONS before anything else (auth, routing, body checks) can reject it."""
    origin = request.origin
    if origin is None:  # not a browser preflight: a plain OPTIONS
        return Response(204, headers={"Allow": ALLOWED_METHODS})
    allowed = allow_origin_value(settings, origin)
    if allowed is None:
        return Response.from_error(errors.origin_not_allowed())
    return Response(
        204,
        headers={
            "Access-Control-Allow-Origin": allowed,
            "Access-Control-Allow-Methods": ALLOWED_METHODS,
            "Access-Control-Allow-Headers": allow_headers_value(
                settings.cors_allow_headers, request.headers.get("access-control-request-headers")
            ),
            "Access-Control-Max-Age": str(settings.cors_max_age),
        },
    )


def allow_headers_value(allowed: tuple[str, ...], requested: str | None) -> str:
    """The Access-Control-Allow-Headers answer: the requested headers that match the allowed names.

    An allowed entry ending in ``*`` matches a prefix (``x-stainless-*``: the SDK adds new ones
    over time). The answer names each header: the Fetch standard's wildcard ``*`` never covers
    ``Authorization`` (https://fetch.spec.whatwg.org/#http-access-control-allow-headers), and the
    OpenAI SDKs send it. Without a request list, the plain names are listed.
    """
    exact = {a.lower() for a in allowed if not a.endswith("*")}
    prefixes = tuple(a[:-1].lower() for a in allowed if a.endswith("*"))
    if not requested:
        return ", ".join(a for a in allowed if not a.endswith("*"))
    names = [h.strip().lower() for h in requested.split(",") if h.strip()]
    return ", ".join(h for h in names if h in exact or (prefixes and h.startswith(prefixes)))


def decorate(response: Response, request: Request, settings: Settings) -> Response:
    """Add the headers every response carries: Vary always, Allow-Origin when the origin may read it."""
    response.headers["Vary"] = "Origin"
    allowed = allow_origin_value(settings, request.origin)
    if allowed is not None and "Access-Control-Allow-Origin" not in response.headers:
        response.headers["Access-Control-Allow-Origin"] = allowed
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response
