"""The local server's request handler: one connection's requests, read and answered in turn.

A plain response (it has a Content-Length) leaves in one write with TCP_NODELAY set; headers and
body in two small sends stall keep-alive clients ~40 ms (Nagle + delayed ACK,
https://datatracker.ietf.org/doc/html/rfc1122#section-4.2.3.2). A stream (server-sent events, no
Content-Length) is sent chunked to an HTTP/1.1 client, each event one chunk in one write (headers
with the first), so the connection stays open for the client's next request; an HTTP/1.0 client
gets it close-delimited (RFC 9112 sections 7.1 and 6.3). The request body is read whole and
bounded before the app runs, and a request line or header block that is not HTTP/1.1's exact
grammar is refused (:mod:`functions.local.head`); every refusal is built by the core (``ProxyApp.refusal``).
"""

from __future__ import annotations

import email.utils
import io
import logging
import socket
import sys
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from functions.local import head, wire
from shared import errors
from shared.adapter import CLIENT_IP_KEY  # the socket peer, for per-client limits
from shared.app import ProxyApp

log = logging.getLogger("hfproxy")
DEFAULT_BODY_LIMIT = 1024 * 1024


def _core(wsgi_app) -> ProxyApp:
    """The ProxyApp this server runs (StaticFiles wraps it)."""
    return getattr(wsgi_app, "app", wsgi_app)


def refusal(wsgi_app, error: errors.ProxyError, origin: str | None = None, path: str = "", method: str = "") -> bytes:
    """The server's own refusals are built by the core like every answer (envelope, CORS, X-Request-Id)."""
    return wire.error_bytes(_core(wsgi_app).refusal(error, origin, path=path, method=method))


def body_limit(wsgi_app) -> int:
    """The app's own body cap, read per request."""
    settings = getattr(_core(wsgi_app), "settings", None)
    return int(getattr(settings, "max_body_bytes", DEFAULT_BODY_LIMIT))


class Handler(WSGIRequestHandler):
    """One connection: requests read whole and bounded, run through the app, answered in one write each."""

    server: WSGIServer
    protocol_version = "HTTP/1.1"
    rbufsize = 64 * 1024
    timeout = 15  # seconds an idle keep-alive connection (or a slow request line) may hold a thread
    body_timeout = 5.0  # seconds the whole declared body may take to arrive
    minor = 1  # the request's HTTP/1.x minor version (set by parse_request)

    def setup(self) -> None:
        self.connection = self.request
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()

    def log_message(self, format: str, *args) -> None:  # the app logs one structured line instead
        pass

    def handle(self) -> None:
        """Requests one after another on the connection until either side closes it."""
        self.close_connection = True
        try:
            self.handle_one_request()
            while not self.close_connection:
                self.handle_one_request()
        except (TimeoutError, ConnectionError):
            self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (bad request line, 414, 431, 505) as the JSON envelope."""
        self._refuse(wire.error_for_status(code))

    def _refuse(self, error: errors.ProxyError) -> None:
        self.close_connection = True
        headers = getattr(self, "headers", None)
        origin = headers.get("Origin") if headers is not None else None
        try:
            method = getattr(self, "command", "") or ""
            self.wfile.write(refusal(self.server.get_app(), error, origin, getattr(self, "path", ""), method))
        except OSError:
            pass

    def handle_one_request(self) -> None:
        self.headers = None  # type: ignore[assignment]  # a refusal must not see the previous request's
        self.raw_requestline = self.rfile.readline(65537)
        if self.raw_requestline == b"\r\n":  # one empty line before a request is ignored (RFC 9112 section 2.2)
            self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.requestline, self.request_version, self.command = "", "", ""
            self.send_error(414)
            return
        if not self.parse_request():  # it has answered
            return
        try:
            environ = self._environ()
        except wire.Refusal as refusal:
            self._refuse(refusal.error)
            return
        self._run(environ)

    def parse_request(self) -> bool:
        """The request line and header block, strictly (:mod:`functions.local.head`), never
        http.server's lenient email-parser reading; False when refused (answered, connection closing)."""
        self.command, self.close_connection = "", True
        try:
            line = head.request_line(self.raw_requestline)
            self.command, self.path, self.request_version = line.method, line.target, line.version
            self.headers = head.message(head.read_fields(self.rfile))
            head.check_host(self.headers, line)  # a refusal for it still sees the Origin
        except wire.Refusal as refusal:
            self._refuse(refusal.error)
            return False
        self.requestline, self.minor = self.raw_requestline[:-2].decode("ascii"), line.minor
        if self.path.startswith("//"):  # as http.server does (gh-87389): "//x" is a path, not a host
            self.path = "/" + self.path.lstrip("/")
        self.close_connection = not head.keeps_alive(line, self.headers)
        return True

    def _environ(self) -> dict:
        environ = self.get_environ()
        environ.update(
            {
                "wsgi.version": (1, 0),
                "wsgi.url_scheme": "http",
                "wsgi.errors": sys.stderr,
                "wsgi.multithread": True,
                "wsgi.multiprocess": False,
                "wsgi.run_once": False,
                "SERVER_PROTOCOL": self.request_version,
                CLIENT_IP_KEY: self.client_address[0],
            }
        )
        length = wire.declared_length(self.headers.get_all("Content-Length") or [])
        codings = [c.strip().lower() for v in self.headers.get_all("Transfer-Encoding") or [] for c in v.split(",")]
        limit = body_limit(self.server.get_app())
        body_input = wire.Deadline(self.rfile, self.connection, self.body_timeout)
        expects = (self.headers.get("Expect") or "").strip().lower() == "100-continue"
        framed = codings == ["chunked"] if codings else (length or 0) > 0 and (length or 0) <= limit
        if expects and self.minor >= 1 and framed and not (codings and length is not None):
            self.wfile.write(wire.CONTINUE)  # only once the body will be read (RFC 9110 section 10.1.1)
        if codings:
            if self.minor == 0:  # RFC 9112 section 6.1: Transfer-Encoding in HTTP/1.0 is faulty framing
                self.close_connection = True
            if length is not None:
                raise wire.bad_length("Send Content-Length or Transfer-Encoding, not both.")
            if codings != ["chunked"]:
                raise wire.Refusal(
                    errors.ProxyError(501, "not_implemented", "Only chunked Transfer-Encoding is supported.")
                )
            body = wire.read_chunked(body_input, limit)
        elif length is not None and length > limit:
            raise wire.Refusal(errors.body_too_large(limit))
        else:
            body = wire.read_exact(body_input, length or 0)
        self.connection.settimeout(self.timeout)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["CONTENT_LENGTH"] = str(len(body)) if body or length is not None else ""
        environ["wsgi.input"] = io.BytesIO(body)
        return environ

    def _run(self, environ: dict) -> None:
        sent: list[tuple[str, list[tuple[str, str]]]] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info=None):
            if exc_info and sent:
                raise exc_info[1].with_traceback(exc_info[2])
            sent[:] = [(status, list(headers))]
            return lambda data: pending.append(data)  # the legacy write(): buffered with the body

        pending: list[bytes] = []
        head_only = environ["REQUEST_METHOD"] == "HEAD"
        wsgi_app = self.server.get_app()
        assert wsgi_app is not None, "serve() sets the app before serving"
        try:
            result = wsgi_app(environ, start_response)
        except Exception:
            log.exception("local server: the app failed")
            self._refuse(errors.internal_error())
            return
        try:
            status, headers = sent[0]
            code = int(status.split(" ", 1)[0])
            framed = wire.has_header(headers, "content-length") or isinstance(result, (list, tuple))
            if not framed:
                self._stream(code, headers, pending, result)
                return
            body = b"".join([*pending, *result])
            if not wire.has_header(headers, "content-length"):
                headers.append(("Content-Length", str(len(body))))
            self.wfile.write(wire.encode(code, headers + self._connection_headers(), b"" if head_only else body))
        except OSError:  # the client went away
            self.close_connection = True
        except Exception:
            log.exception("local server: the response failed")
            self._refuse(errors.internal_error())
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    def _connection_headers(self) -> list[tuple[str, str]]:
        headers = [("Date", email.utils.formatdate(usegmt=True))]
        if self.close_connection:
            headers.append(("Connection", "close"))
        elif self.request_version == "HTTP/1.0":
            headers.append(("Connection", "keep-alive"))
        return headers

    def _stream(self, code: int, headers: list[tuple[str, str]], pending: list[bytes], result) -> None:
        """Each chunk as the app yields it, in one write (the headers with the first). HTTP/1.1:
        chunked (RFC 9112 section 7.1), so the connection stays open for the client's next request;
        HTTP/1.0 has no chunked coding: the body ends when the connection closes."""
        chunked = self.minor >= 1
        if chunked:
            headers = [*headers, ("Transfer-Encoding", "chunked")]
        else:
            self.close_connection = True
        head = wire.encode(code, headers + self._connection_headers())
        for chunk in result:
            data = b"".join([*pending, chunk])
            if not data:
                continue
            self.wfile.write(head + (wire.chunk(data) if chunked else data))
            head, pending = b"", []
        rest = b"".join(pending)
        end = ((wire.chunk(rest) if rest else b"") + wire.LAST_CHUNK) if chunked else rest
        self.wfile.write(head + end)

    def finish(self) -> None:
        """A client that hung up mid-stream is normal: the response is already closed (which
        dropped the upstream); flushing what is left would only print a traceback."""
        try:
            super().finish()
        except (BrokenPipeError, ConnectionResetError):
            pass
