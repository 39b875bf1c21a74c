"""Local server for ``make serve`` and the browser/load tests: ``python -m functions.local.server``.

Standard library only: a threaded wsgiref server. Each response goes out in one write with
TCP_NODELAY set; headers and body in two small sends stall keep-alive clients ~40 ms (Nagle +
delayed ACK, https://datatracker.ietf.org/doc/html/rfc1122#section-4.2.3.2). Reads ``.env`` with
python-dotenv (never overriding the real environment) and falls back to the offline demo mode
when no token is configured, saying so on start.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from functions.local.static import StaticFiles
from shared.app import ProxyApp, app
from shared.settings import Settings


class _Handler(WSGIRequestHandler):
    # Buffer the status line, headers and body; wsgiref flushes after each body chunk it writes
    # (BaseHandler.write -> _flush), so a plain response leaves in one write and a streamed one
    # (server-sent events) leaves chunk by chunk, headers together with the first event.
    wbufsize = 64 * 1024
    timeout = 30  # seconds a silent client may hold a thread

    def setup(self) -> None:
        self.connection = self.request
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()

    def log_message(self, format: str, *args) -> None:  # the app logs one structured line instead
        pass

    def finish(self) -> None:
        """A client that hung up mid-stream is normal: wsgiref already closed the response (which
        dropped the upstream); flushing what is left in the buffer would only print a traceback."""
        try:
            super().finish()
        except (BrokenPipeError, ConnectionResetError):
            pass


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128


def local_settings(env_file: str | None = ".env") -> Settings:
    """Settings for a local run: .env loaded, demo mode when no token is configured."""
    if env_file:
        from dotenv import load_dotenv

        load_dotenv(env_file, override=False)
    settings = Settings.from_env()
    if not settings.has_credentials and not settings.demo_mode:
        settings = settings.with_changes(demo_mode=True)
    return settings


def serve(proxy: ProxyApp, host: str = "127.0.0.1", port: int = 8000, static: bool = False) -> ThreadingWSGIServer:
    """A threaded loopback server for the app; ``static=True`` also serves the demo page from public/."""
    wsgi_app = StaticFiles(proxy) if static else proxy
    return make_server(host, port, wsgi_app, server_class=ThreadingWSGIServer, handler_class=_Handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run hfproxy locally.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--env-file", default=".env")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    app.configure(local_settings(args.env_file))
    server = serve(app, args.host, args.port, static=True)
    mode = "DEMO MODE (no HF token configured: answers are canned)" if app.settings.demo_mode else "live"
    print(f"hfproxy on http://{args.host}:{server.server_port} - {mode} - demo page at /", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
