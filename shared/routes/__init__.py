"""The route table: path -> {method: handler}. Adding an upstream is one module here plus one line.

A handler takes the parsed :class:`~shared.http.Request` and the per-request
:class:`~shared.routes.context.Context`, and returns a :class:`~shared.http.Response` or raises
:class:`~shared.errors.ProxyError`. Handlers import their schemas and clients lazily, so a cold
``/api/health`` never pays for pydantic or requests.
"""

from __future__ import annotations

from collections.abc import Callable

from shared.http import Request, Response
from shared.routes.context import Context

Handler = Callable[[Request, Context], Response]


def _chat(request: Request, ctx: Context) -> Response:
    from shared.routes.chat import handle

    return handle(request, ctx)


def _generate(request: Request, ctx: Context) -> Response:
    from shared.routes.generate import handle

    return handle(request, ctx)


def _health(request: Request, ctx: Context) -> Response:
    from shared.routes.health import handle

    return handle(request, ctx)


ROUTES: dict[str, dict[str, Handler]] = {
    "/api/chat": {"POST": _chat},
    "/api/generate": {"POST": _generate},
    "/api/health": {"GET": _health},
}
