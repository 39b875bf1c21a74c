"""What a route is: one declaration, :class:`Route`, which the app and every table reader use.

A route names its paths (and the OpenAI paths that answer the same in OpenAI's error shape), its
method, its handler, its request model (for OpenAPI), and, when it calls a paid model, a
:class:`ModelSpec`: how its body is limited and planned (what it asks for and is charged), the
upstream that answers it live and the one that answers it offline (demo mode), what plain health
says of it, and how the deep health check probes it. The app routes by the table
(:class:`RouteTable`); health, deep health, OpenAPI, the spend limits and demo mode read the same
declarations, so adding a route is its module, one line in :mod:`shared.routes.table`, its tests
and its doc (docs/architecture.md, "Adding a route").

Handlers and upstreams are named as ``"module:function"`` strings and imported on first use
(:func:`lazy`), so a cold ``/api/health`` never pays for pydantic or an upstream client.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from shared.http import Request, Response
    from shared.schemas.limits import Limits
    from shared.scope import Scope
    from shared.settings import Settings
    from shared.upstreams.call import UpstreamCall
    from shared.upstreams.plan import Answer, Plan

Handler = Callable[["Request", "Scope"], "Response"]
ErrorShape = Literal["envelope", "openai"]
OPENAI_PREFIX = "/api/v1/"  # unknown paths under it still answer in OpenAI's shape
Probe = Callable[["UpstreamCall"], dict]  # one deep-health check: asks the Hub or the Space, returns a state


class lazy:  # noqa: N801 - reads as a function in declarations
    """A ``"module:attr"`` reference imported on its first call."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._resolved: Callable[..., Any] | None = None

    def __call__(self, *args: Any) -> Any:
        if self._resolved is None:
            module, _, attr = self.target.partition(":")
            self._resolved = getattr(importlib.import_module(module), attr)
        return self._resolved(*args)

    def __repr__(self) -> str:
        return f"lazy({self.target!r})"


@dataclass(frozen=True)
class ModelSpec:
    """What a model route declares beyond its paths (read by the model pipeline, health, deep health)."""

    limits: Callable[[Settings], Limits]  # the server's caps its schema validates under
    plan: Callable[[Any, Settings], Plan]  # the validated body -> what it asks for, is charged, sends
    live: Callable[[Plan, UpstreamCall], Answer]  # the Hugging Face answer
    demo: Callable[[Plan, UpstreamCall], Answer]  # the offline answer (DEMO_MODE)
    health: Callable[[Settings, bool], dict]  # GET /api/health's entry, given whether a token is there
    probes: Callable[[Settings], dict[str, Probe]] = lambda settings: {}  # ?deep=1: the checks to run
    verdict: Callable[[Settings, dict[str, dict]], dict] | None = None  # the checks' results -> the route's state
    operation: str = "chat"  # OpenTelemetry's gen_ai.operation.name: "chat" or "text_completion"


@dataclass(frozen=True)
class Route:
    name: str  # names the route in health, deep health and logs ("chat", "generate", ...)
    paths: tuple[str, ...]
    handler: Handler | None = None  # None on a model route: the model pipeline answers (shared.routes.model)
    method: str = "POST"
    openai_paths: tuple[str, ...] = ()  # the same route, answering errors in OpenAI's shape
    body: str | None = None  # "module:Model" of the request body (validation and OpenAPI)
    summary: str = ""
    query: tuple[tuple[str, str], ...] = ()  # (name, meaning) of each query parameter, for OpenAPI
    model: ModelSpec | None = None  # set on routes that call a (paid) model
    prefix: bool = False  # its paths are prefixes: "/api/v1/models/" serves "/api/v1/models/{id}"

    def shape(self, path: str) -> ErrorShape:
        if self.prefix:
            return "openai" if any(path.startswith(p) for p in self.openai_paths) else "envelope"
        return "openai" if path in self.openai_paths else "envelope"


@dataclass(frozen=True, eq=False)
class RouteTable:
    """The routes by path and method: what the app dispatches on and what health and OpenAPI list."""

    routes: tuple[Route, ...]
    _by_path: dict[str, dict[str, Route]] = field(init=False, repr=False)
    _by_prefix: tuple[tuple[str, Route], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_path: dict[str, dict[str, Route]] = {}
        prefixes = tuple((p, r) for r in self.routes if r.prefix for p in (*r.paths, *r.openai_paths))
        object.__setattr__(self, "_by_prefix", prefixes)
        for route in self.routes:
            if route.prefix:
                continue
            for path in (*route.paths, *route.openai_paths):
                methods = by_path.setdefault(path, {})
                if route.method in methods:
                    raise ValueError(f"two routes declare {route.method} {path}")
                methods[route.method] = route
        object.__setattr__(self, "_by_path", by_path)

    @classmethod
    def of(cls, routes: Iterable[Route]) -> RouteTable:
        return cls(tuple(routes))

    def methods(self, path: str) -> dict[str, Route]:
        """The routes at ``path`` by method (empty: no such path); exact paths before prefixes."""
        found = self._by_path.get(path)
        if found is not None:
            return found
        return {r.method: r for p, r in self._by_prefix if path.startswith(p) and len(path) > len(p)}

    def error_shape(self, path: str) -> ErrorShape:
        """The error shape for a path, known or not."""
        for route in self.methods(path).values():
            return route.shape(path)
        return "openai" if path.startswith(OPENAI_PREFIX) else "envelope"

    def model_routes(self) -> list[Route]:
        return [r for r in self.routes if r.model is not None]
