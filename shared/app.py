"""The WSGI application every platform adapter and the local server wrap: ``shared.app:app``.

Order of work for each request, and why:
1. CORS preflight first: nothing (routing, body checks, auth) may reject a browser's OPTIONS.
2. A disallowed Origin gets 403 and no CORS headers; requests without Origin pass (curl, servers).
3. When PROXY_SIGNATURE_SECRET is set, refuse requests its front proxy did not sign (401).
4. Route, run the handler under the request's deadline; every failure becomes the JSON envelope.
5. Vary: Origin, Allow-Origin and X-Request-Id on every answer; one telemetry record, no content.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable

from shared import adapter, cors, errors
from shared.credentials import ENVIRONMENT, TokenSource
from shared.deadline import Deadline
from shared.http import Request, Response, reason
from shared.limits.identity import client_address
from shared.proxy_signature import require_signed_proxy
from shared.routes import ROUTES, Handler, Route, error_shape
from shared.routes.context import Context
from shared.settings import Settings
from shared.telemetry import LoggingTelemetry, RequestRecord, Telemetry

log = logging.getLogger("hfproxy")


class ProxyApp:
    """A WSGI callable. Settings come from the environment on first use unless given."""

    def __init__(
        self,
        settings: Settings | None = None,
        telemetry: Telemetry | None = None,
        routes: dict[str, Route | dict[str, Handler]] | None = None,
        token_source: TokenSource = ENVIRONMENT,
    ) -> None:
        self._settings = settings
        self.token_source = token_source  # where the token comes from (the AWS adapter adds Secrets Manager)
        self.telemetry = telemetry or LoggingTelemetry()
        given = ROUTES if routes is None else routes  # a bare {method: handler} is an envelope route
        self.routes = {path: r if isinstance(r, Route) else Route(r) for path, r in given.items()}

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.from_env()
        return self._settings

    def configure(self, settings: Settings | None) -> None:
        """Replace the settings (None: read the environment again on the next request)."""
        self._settings = settings

    def __call__(self, environ: dict, start_response) -> Iterable[bytes]:
        started = time.perf_counter()
        request = Request(environ)
        record = RequestRecord(adapter.request_id(environ) or uuid.uuid4().hex, request.method, request.path)
        settings = None
        try:
            settings = self.settings
            response = self._respond(request, settings, record, adapter.time_budget(environ))
        except errors.ConfigError as exc:
            response = Response.from_error(errors.misconfigured(str(exc)))
        if settings is not None:
            cors.decorate(response, request, settings)
        else:
            response.headers["Vary"] = "Origin"
        response.headers["X-Request-Id"] = record.request_id
        response.headers.setdefault("Cache-Control", "no-store")
        record.status = response.status
        record.body_bytes = request.bytes_read

        def finish() -> None:
            record.duration_ms = round((time.perf_counter() - started) * 1000, 2)
            self.telemetry.record(record)

        status_line = f"{response.status} {reason(response.status)}"
        if response.stream is not None:  # no Content-Length: the body ends when the stream does
            start_response(status_line, list(response.headers.items()))
            return StreamBody(response.stream, record, finish)
        response.headers["Content-Length"] = str(len(response.body))
        finish()
        start_response(status_line, list(response.headers.items()))
        return [response.body]

    def _respond(self, request: Request, settings: Settings, record: RequestRecord, budget) -> Response:
        if cors.is_preflight(request):
            return cors.preflight(request, settings)
        ctx: Context | None = None
        try:
            if request.origin is not None and cors.allow_origin_value(settings, request.origin) is None:
                raise errors.origin_not_allowed()
            signed = require_signed_proxy(
                request.headers, settings.proxy_signature_secret, settings.proxy_signature_site_url
            )
            handler = self._route(request)
            deadline = Deadline.for_request(settings.request_deadline, budget, settings.deadline_margin)
            address = client_address(request.environ, request.headers, signed)
            ctx = Context(settings, deadline, record, address, token_source=self.token_source)
            response = handler(request, ctx)
            response.headers.update(ctx.answer_headers)
            return response
        except errors.ProxyError as exc:
            record.code = exc.code
            response = Response.from_error(exc, error_shape(self.routes, request.path))
            if ctx is not None:  # a counted request's RateLimit fields, on its error answer too
                response.headers = {**ctx.answer_headers, **response.headers}
            return response
        except Exception as exc:  # never a traceback, never the exception text (it may quote input)
            log.error("unhandled %s in request %s", type(exc).__name__, record.request_id)
            record.code = "internal_error"
            return Response.from_error(errors.internal_error(), error_shape(self.routes, request.path))

    def _route(self, request: Request) -> Handler:
        route = self.routes.get(request.path)
        if route is None:
            raise errors.not_found(request.path)
        methods = route.methods
        handler = methods.get(request.method)
        if handler is None:
            raise errors.method_not_allowed([*methods, "OPTIONS"])
        return handler


class StreamBody:
    """The WSGI iterable of a streamed response (PEP 3333: servers call ``close()`` when done).

    ``close()`` comes when the stream is exhausted, or early when the client went away (the
    server's write failed): either way the route's stream is closed (which drops the upstream
    connection) and the request's telemetry record is written exactly once.
    """

    def __init__(self, chunks, record: RequestRecord, finish) -> None:
        self._chunks = chunks
        self._iter = iter(chunks)
        self._record = record
        self._finish = finish
        self._exhausted = False
        self._closed = False

    def __iter__(self) -> StreamBody:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._iter)
        except StopIteration:
            self._exhausted = True
            raise
        except Exception as exc:  # the route's stream should end itself with an error event
            log.error("unhandled %s in stream %s", type(exc).__name__, self._record.request_id)
            self._record.code = self._record.code or "internal_error"
            self._exhausted = True
            raise StopIteration from None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if not self._exhausted:
                self._record.stream_end = "client_gone"
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()
        finally:
            self._finish()


app = ProxyApp()
