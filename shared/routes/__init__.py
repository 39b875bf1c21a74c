"""The route table: path -> :class:`Route`. Adding an upstream is one module here plus one line.

The table is the one place that says what a route is: its handlers by method, which error shape
it answers in (our envelope, or OpenAI's ``{"error": {message, type, code, param}}`` on the
OpenAI-compatible paths, rendered by :meth:`shared.errors.ProxyError.body_for`), and whether it
calls a paid model. ``/api/chat/completions`` and ``/api/v1/chat/completions`` are ``/api/chat``
under the paths the OpenAI SDKs and huggingface_hub's InferenceClient post to for a ``base_url``
of ``.../api`` or ``.../api/v1``.

A handler takes the parsed :class:`~shared.http.Request` and the per-request
:class:`~shared.routes.context.Context`, and returns a :class:`~shared.http.Response` or raises
:class:`~shared.errors.ProxyError`. Handlers import their schemas and clients lazily, so a cold
``/api/health`` never pays for pydantic or requests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from shared.http import Request, Response
from shared.routes.context import Context

Handler = Callable[[Request, Context], Response]
ErrorShape = Literal["envelope", "openai"]
OPENAI_PREFIX = "/api/v1/"  # unknown paths under it still answer in OpenAI's shape


@dataclass(frozen=True)
class Route:
    methods: dict[str, Handler]
    errors: ErrorShape = "envelope"
    model: bool = False  # calls a (paid) model upstream
    body: str | None = None  # "module:Model" of the request body, for the OpenAPI description
    summary: str = ""
    query: tuple[tuple[str, str], ...] = ()  # (name, meaning) of each query parameter, for the OpenAPI description


def error_shape(routes: dict[str, Route], path: str) -> ErrorShape:
    """The error shape for a path, known or not."""
    route = routes.get(path)
    if route is not None:
        return route.errors
    return "openai" if path.startswith(OPENAI_PREFIX) else "envelope"


def _chat(request: Request, ctx: Context) -> Response:
    from shared.routes.chat import handle

    return handle(request, ctx)


def _generate(request: Request, ctx: Context) -> Response:
    from shared.routes.generate import handle

    return handle(request, ctx)


def _predict(request: Request, ctx: Context) -> Response:
    from shared.routes.predict import handle

    return handle(request, ctx)


def _models(request: Request, ctx: Context) -> Response:
    from shared.routes.models import handle

    return handle(request, ctx)


def _openapi(request: Request, ctx: Context) -> Response:
    from shared.openapi import handle

    return handle(request, ctx)


def _health(request: Request, ctx: Context) -> Response:
    from shared.routes.health import handle

    return handle(request, ctx)


_CHAT = "shared.schemas.chat:ChatRequest"
ROUTES: dict[str, Route] = {
    "/api/chat": Route({"POST": _chat}, model=True, body=_CHAT, summary="Chat (OpenAI shape)"),
    "/api/chat/completions": Route(
        {"POST": _chat}, errors="openai", model=True, body=_CHAT, summary="Chat, OpenAI path"
    ),
    "/api/v1/chat/completions": Route(
        {"POST": _chat}, errors="openai", model=True, body=_CHAT, summary="Chat, OpenAI /v1 path"
    ),
    "/api/models": Route({"GET": _models}, errors="openai", summary="The chat allowlist (OpenAI list)"),
    "/api/v1/models": Route({"GET": _models}, errors="openai", summary="The chat allowlist (OpenAI list)"),
    "/api/generate": Route(
        {"POST": _generate}, model=True, body="shared.schemas.generate:GenerateRequest", summary="Text generation"
    ),
    "/api/health": Route(
        {"GET": _health},
        summary="Which upstreams are configured; ?deep=1: which routes are live (asks the Hub)",
        query=(("deep", "1: also ask the Hub and the Space which routes are live now (cached a few minutes)"),),
    ),
    "/api/openapi.json": Route({"GET": _openapi}, summary="This description"),
    "/api/predict": Route(
        {"POST": _predict}, model=True, body="shared.schemas.predict:PredictRequest", summary="The Llama Space"
    ),
}
