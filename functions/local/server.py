"""Local server for ``make serve`` and the browser/load tests: ``python -m functions.local.server``.

Standard library only: a threaded HTTP/1.1 server with keep-alive, one thread per connection, in
one or more worker processes (:mod:`functions.local.workers`);
what a connection's requests go through (framing, bounds, one write per answer) is
:mod:`functions.local.handler`. Concurrent connections are capped (503 ``server_busy`` beyond).
Reads ``.env`` with python-dotenv (never overriding the real environment) and falls back to the
offline demo mode when no token is configured, saying so on start.

Why not werkzeug's server (3.1, installed through serverless-wsgi): it speaks HTTP/1.1 when
threaded, but answers malformed requests with http.server's HTML error page, hands the socket
to the app as ``wsgi.input`` (a short body ties the thread until the socket timeout), writes
headers and body in separate sends, and has no connection cap
(https://github.com/pallets/werkzeug/blob/main/src/werkzeug/serving.py). Each of those is what
issue 11 asks us to fix, so this module and its handler are cheaper than patching werkzeug's.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIServer, make_server

from functions.local import workers
from functions.local.handler import Handler, refusal
from functions.local.static import StaticFiles
from shared import errors
from shared.app import ProxyApp, app
from shared.settings import Settings


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """One thread per connection, at most ``max_connections`` at once (503 ``server_busy`` beyond)."""

    daemon_threads = True
    request_queue_size = 128
    max_connections = 64
    _slots: threading.BoundedSemaphore | None = None

    def process_request(self, request, client_address) -> None:
        # Made on the first connection (serve_forever accepts on one thread), so a caller may set
        # max_connections after construction.
        if self._slots is None:
            self._slots = threading.BoundedSemaphore(self.max_connections)
        if not self._slots.acquire(blocking=False):
            try:
                request.sendall(refusal(self.get_app(), errors.server_busy()))
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            assert self._slots is not None
            self._slots.release()


def local_settings(env_file: str | None = ".env") -> Settings:
    """Settings for a local run: .env loaded, demo mode when no token is configured."""
    if env_file:
        from dotenv import load_dotenv

        load_dotenv(env_file, override=False)
    settings = Settings.from_env()
    if not settings.hf_token and not settings.demo_mode:
        settings = settings.with_changes(demo_mode=True)
    return settings


def serve(proxy: ProxyApp, host: str = "127.0.0.1", port: int = 8000, static: bool = False) -> ThreadingWSGIServer:
    """A threaded loopback server for the app; ``static=True`` also serves the demo page from public/."""
    wsgi_app = StaticFiles(proxy) if static else proxy
    return make_server(host, port, wsgi_app, server_class=ThreadingWSGIServer, handler_class=Handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run hfproxy locally.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--env-file", default=".env")
    parser.add_argument("--workers", type=int, help="processes (default: one per core, at most 4; see workers.py)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    app.configure(local_settings(args.env_file))
    count = workers.default_count(app.settings) if args.workers is None else args.workers
    why = workers.refusal(app.settings, count) if count >= 1 else "--workers must be at least 1"
    if why:
        parser.error(why)
    server = serve(app, args.host, args.port, static=True)
    mode = "DEMO MODE (no HF token configured: answers are canned)" if app.settings.demo_mode else "live"
    processes = f" - {count} worker processes" if count > 1 else ""
    banner = f"hfproxy on http://{args.host}:{server.server_port} - {mode} - demo page at /{processes}"
    try:
        workers.serve(server, count, ready=lambda: print(banner, flush=True))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
