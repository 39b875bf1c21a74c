"""The WSGI application every platform adapter and the local server wrap: ``shared.app:app``.

Order of work for each request, and why:
1. CORS preflight first: nothing (routing, body checks, auth) may reject a browser's OPTIONS.
2. A disallowed Origin gets 403 and no CORS headers; requests without Origin pass (curl, servers).
3. When PROXY_SIGNATURE_SECRET is set, refuse requests its front proxy did not sign (401).
4. Route by the table, and run the route with the request's :class:`~shared.scope.Scope` under
   its deadline; every failure becomes the JSON envelope (OpenAI's error object on OpenAI paths).
5. Vary: Origin, Allow-Origin and X-Request-Id on every answer, an adapter's own refusals
   included (:meth:`ProxyApp.refusal`); one telemetry record, no content.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Sequence

from shared import adapter, cors, errors, log_redaction
from shared.credentials import ENVIRONMENT, TokenSource
from shared.deadline import Deadline
from shared.http import Request, Response, reason
from shared.limits.identity import client_address
from shared.proxy_signature import HEADER, require_signed_proxy
from shared.routes.route import Route, RouteTable
from shared.routes.table import ROUTES
from shared.scope import Scope
from shared.settings import Settings
from shared.telemetry import LoggingTelemetry, RequestRecord, Telemetry

log = logging.getLogger("hfproxy")


class ProxyApp:
    """A WSGI callable. Settings come from the environment on first use unless given."""

    def __init__(
        self,
        settings: Settings | None = None,
        telemetry: Telemetry | None = None,
        routes: RouteTable | Sequence[Route] | None = None,
        token_source: TokenSource = ENVIRONMENT,
    ) -> None:
        log_redaction.install()  # no secret in any log line of this process, whoever writes it
        self._settings: Settings | None = None
        self.configure(settings)
        self.token_source = token_source  # where the token comes from (the AWS adapter adds Secrets Manager)
        self.telemetry = telemetry or LoggingTelemetry()
        self.routes = ROUTES if routes is None else routes if isinstance(routes, RouteTable) else RouteTable.of(routes)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self.configure(Settings.from_env())
            assert self._settings is not None
        return self._settings

    def configure(self, settings: Settings | None) -> None:
        """Replace the settings (None: read the environment again on the next request)."""
        if settings is not None:
            log_redaction.register(
                settings.hf_token,
                settings.redis_url,
                settings.proxy_signature_secret,
                settings.turnstile_secret,
                settings.clearance_secret,
            )
        self._settings = settings

    def __call__(self, environ: dict, start_response) -> Iterable[bytes]:
        started = time.perf_counter()
        request = Request(environ)
        record = RequestRecord(adapter.request_id(environ) or uuid.uuid4().hex, request.method, request.path)
        scope: Scope | None = None
        try:
            settings = self.settings
            scope = Scope(
                record.request_id,
                settings,
                Deadline.for_request(settings.request_deadline, adapter.time_budget(environ), settings.deadline_margin),
                request.can_stream,
                token_source=self.token_source,
                routes=self.routes,
                error_shape=self.routes.error_shape(request.path),
            )
            response = self._respond(request, scope, record)
        except errors.ConfigError as exc:
            response = Response.from_error(errors.misconfigured(str(exc)))
        self._finish_headers(response, request, record.request_id)
        record.status = response.status
        record.body_bytes = request.bytes_read

        def finish(outcome: str | None = None) -> None:
            if scope is not None:
                scope.settle(response.status)
                scope.fill(record)
            if outcome == "client_gone":
                record.stream_end = record.stream_end or outcome
            elif outcome == "internal_error":
                record.code = record.code or outcome
            record.duration_ms = round((time.perf_counter() - started) * 1000, 2)
            self.telemetry.record(record)
            if scope is not None and scope.settings.tracing == "otel":
                from shared import tracing  # never imported (nor opentelemetry) with tracing off

                tracing.record_span(record)

        status_line = f"{response.status} {reason(response.status)}"
        if response.stream is not None:  # no Content-Length: the body ends when the stream does
            start_response(status_line, list(response.headers.items()))
            return StreamBody(response.stream, record.request_id, finish)
        _sized(response, request.environ.get("REQUEST_METHOD", ""))
        finish()
        start_response(status_line, list(response.headers.items()))
        return [response.body]

    def refusal(
        self,
        error: errors.ProxyError,
        origin: str | None,
        request_id: str | None = None,
        path: str = "",
        method: str = "",
    ) -> Response:
        """An adapter's own refusal (a Lambda event it cannot read, a body the local server refuses),
        built as every other answer is: the path's error shape, CORS, ``X-Request-Id``, one record,
        and no body for a HEAD."""
        request_id = request_id or uuid.uuid4().hex
        response = Response.from_error(error, self.routes.error_shape(path.split("?", 1)[0].rstrip("/")))
        request = Request({"HTTP_ORIGIN": origin} if origin else {})
        self._finish_headers(response, request, request_id)
        _sized(response, method)
        self.telemetry.record(RequestRecord(request_id, method, path, status=error.status, code=error.code))
        return response

    def _finish_headers(self, response: Response, request: Request, request_id: str) -> None:
        try:
            cors.decorate(response, request, self.settings)
        except errors.ConfigError:
            response.headers["Vary"] = "Origin"
        response.headers["X-Request-Id"] = request_id
        response.headers.setdefault("Cache-Control", "no-store")

    def _respond(self, request: Request, scope: Scope, record: RequestRecord) -> Response:
        settings = scope.settings
        if cors.is_preflight(request):
            return cors.preflight(request, settings)
        routed = False
        try:
            if request.origin is not None and cors.allow_origin_value(settings, request.origin) is None:
                raise errors.origin_not_allowed()
            signed = require_signed_proxy(
                request.headers, settings.proxy_signature_secret, settings.proxy_signature_site_url
            )
            route = self._route(request)
            scope.address = client_address(request.environ, request.headers, signed)
            if signed:  # what the signature covers, counted too: a replayed one cannot buy fresh allowances
                scope.vouched_by = request.headers.get(HEADER)
            if route.model is not None:  # a paid call: a signed-in user, or an (if asked, cleared) address
                from shared.auth import who  # imported by the first model request, not by a cold health check

                scope.caller = who(request, settings, scope.address, scope.deadline)
            routed = True
            response = self._run(route, request, scope)
            response.headers.update(scope.answer_headers)
            return response
        except errors.ProxyError as exc:
            record.code = exc.code
            response = Response.from_error(exc, self.routes.error_shape(request.path))
            if routed:  # a counted request's RateLimit fields, on its error answer too
                response.headers = {**scope.answer_headers, **response.headers}
            return response
        except Exception as exc:  # never a traceback, never the exception text (it may quote input)
            log.error("unhandled %s in request %s", type(exc).__name__, record.request_id)
            record.code = "internal_error"
            return Response.from_error(errors.internal_error(), self.routes.error_shape(request.path))

    @staticmethod
    def _run(route: Route, request: Request, scope: Scope) -> Response:
        if route.model is not None:
            from shared.routes import model

            return model.answer(route, request, scope)
        assert route.handler is not None, f"route {route.name} declares no handler"
        return route.handler(request, scope)

    def _route(self, request: Request) -> Route:
        methods = self.routes.methods(request.path)
        if not methods:
            raise errors.not_found(request.path)
        # HEAD is GET without the body: "all general-purpose servers MUST support the methods GET
        # and HEAD" (RFC 9110 section 9.1, https://www.rfc-editor.org/rfc/rfc9110#section-9.3.2).
        route = methods.get("GET" if request.method == "HEAD" else request.method)
        if route is None:
            raise errors.method_not_allowed([*methods, *(["HEAD"] if "GET" in methods else []), "OPTIONS"])
        return route


def _sized(response: Response, method: str) -> None:
    """``Content-Length`` for a whole body, and no body for a HEAD: the GET's length announced, not
    sent (RFC 9110 section 9.3.2). Exactly ``HEAD``, what servers drop the body for: methods are
    case-sensitive (section 9.1), and a "head" keeps its body."""
    response.headers["Content-Length"] = str(len(response.body))
    if method == "HEAD":
        response.body = b""


class StreamBody:
    """The WSGI iterable of a streamed response (PEP 3333: servers call ``close()`` when done).

    ``close()`` comes when the stream is exhausted, or early when the client went away (the
    server's write failed): either way the route's stream is closed (which drops the upstream
    connection) and the request's telemetry record is written exactly once, with how it ended.
    """

    def __init__(self, chunks, request_id: str, finish) -> None:
        self._chunks = chunks
        self._iter = iter(chunks)
        self._request_id = request_id
        self._finish = finish
        self._outcome: str | None = "client_gone"  # until the stream is read to its end
        self._closed = False

    def __iter__(self) -> StreamBody:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._iter)
        except StopIteration:
            self._outcome = None
            raise
        except Exception as exc:  # the route's stream should end itself with an error event
            log.error("unhandled %s in stream %s", type(exc).__name__, self._request_id)
            self._outcome = "internal_error"
            self._iter = iter(())
            raise StopIteration from None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()
        finally:
            self._finish(self._outcome)


app = ProxyApp()
