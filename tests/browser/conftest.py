"""Real headless Chromium (Debian's /usr/bin/chromium) calling the proxy across two loopback origins.

The page is served by a stdlib HTTP server on 127.0.0.1:<A>; the proxy runs in the same local
server `make serve` runs (``functions.local.server.serve``) on 127.0.0.1:<B>: two ports, two
origins, so every ``fetch`` is cross-origin and the browser enforces CORS for real.
Flags: the machine is closed and we run as root (Chromium's background networking and sandbox cannot work here).
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from functions.local.server import serve
from shared.adapter import CAN_STREAM_KEY
from shared.app import ProxyApp
from shared.settings import Settings
from tests.fakes.telemetry import Recorder

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = Path(__file__).resolve().parent / "pages"


@pytest.fixture(scope="session")
def browser():
    """GIVEN Debian's Chromium, headless. Missing Chromium is a failure, never a skip."""
    assert os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} is missing: `apt-get install chromium` (what .ci/run does)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _start(server) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


@contextmanager
def static_origin(directory: Path) -> Iterator[str]:
    """Serve a directory's files on their own loopback origin (http://127.0.0.1:<A>)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietFiles, directory=str(directory)))
    _start(server)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def page_origin() -> Iterator[str]:
    """GIVEN a static page on its own loopback origin (http://127.0.0.1:<A>)."""
    with static_origin(PAGES) as origin:
        yield origin


def like_lambda(app):
    """What the Lambda adapter does (functions/aws_lambda/handler.py): mark the platform as unable to stream."""

    def wsgi(environ, start_response):
        environ[CAN_STREAM_KEY] = False
        return app(environ, start_response)

    return wsgi


@dataclass
class RunningProxy:
    url: str
    telemetry: Recorder


@pytest.fixture
def proxy_for() -> Iterator[Callable[..., RunningProxy]]:
    """Start the `make serve` server (functions.local.server.serve) with the given settings (optionally as on Lambda)."""
    servers = []

    def start(settings: Settings, can_stream: bool = True) -> RunningProxy:
        telemetry = Recorder()
        proxy = ProxyApp(settings, telemetry=telemetry)
        server = serve(proxy if can_stream else like_lambda(proxy), "127.0.0.1", 0)
        _start(server)
        servers.append(server)
        return RunningProxy(f"http://127.0.0.1:{server.server_port}", telemetry)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def page(browser, page_origin):
    """A fresh browser context (no cached preflights) with the calling page open."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{page_origin}/caller.html")
    yield page
    context.close()


@pytest.fixture
def demo_site() -> Iterator[Callable[..., str]]:
    """Start the `make serve` server with the demo page (public/) beside the given WSGI app: one origin."""
    servers = []

    def start(app) -> str:
        server = serve(app, port=0, static=True)
        _start(server)
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def demo_page(browser):
    """A fresh context on the session's Chromium; any script error or CSP violation fails the test."""
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # an API error status is logged by Chromium as a failed resource; that is the page working
    expected = "Failed to load resource: the server responded with a status of"
    page.on(
        "console", lambda msg: errors.append(msg.text) if msg.type == "error" and expected not in msg.text else None
    )
    yield page
    context.close()
    assert errors == []
