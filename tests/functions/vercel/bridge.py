"""A stand-in for Vercel's Python runtime bridge, for the client-address tests.

Vercel's runtime receives the request from its edge and builds the WSGI environ itself
(packages/python/vc_init.py in vercel/vercel, ``Handler.handle_request``): ``REMOTE_ADDR`` from the
``x-forwarded-for`` header (else ``x-real-ip``) looked up by exact name, and then every header as
``HTTP_`` + its name upper-cased with ``-`` replaced by ``_``, in the order the headers came, a later
one overwriting an earlier one. werkzeug's server, which the other entry tests use, drops header
names with underscores, so it cannot show what that mapping lets through; this one builds the
environ the way the bridge does (our code, after its description).
"""

from __future__ import annotations

import io
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def bridge(wsgi_app) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            path, _, query = self.path.partition("?")
            length = int(self.headers.get("Content-Length", 0))
            environ = {
                "REQUEST_METHOD": self.command,
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "CONTENT_LENGTH": str(length),
                "CONTENT_TYPE": self.headers.get("content-type", ""),
                "REMOTE_ADDR": self.headers.get("x-forwarded-for", self.headers.get("x-real-ip")),
                "SERVER_NAME": "vercel",
                "SERVER_PORT": "443",
                "SERVER_PROTOCOL": "HTTP/1.1",
                "wsgi.input": io.BytesIO(self.rfile.read(length)),
                "wsgi.errors": sys.stderr,
                "wsgi.url_scheme": "https",
                "wsgi.version": (1, 0),
                "wsgi.multithread": True,
                "wsgi.multiprocess": False,
                "wsgi.run_once": False,
            }
            for name, value in self.headers.items():  # every header, underscores and all, last wins
                environ["HTTP_" + name.replace("-", "_").upper()] = value
            sent: list = []

            def start_response(status, headers, exc_info=None):
                sent[:] = [status, headers]

            body = b"".join(wsgi_app(environ, start_response))
            self.send_response(int(sent[0].split()[0]))
            for name, value in sent[1]:
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)
