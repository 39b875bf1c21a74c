"""Servers the real client packages talk to: the local server (live against the fake router, or
demo mode) and the Lambda handler behind a loopback bridge that turns each HTTP request into a
real API Gateway HTTP API (v2) event, so the clients read exactly what Lambda would answer."""

from __future__ import annotations

import base64
import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from werkzeug.serving import make_server

import shared.app
from functions.aws_lambda import handler
from functions.local.server import serve
from shared.app import ProxyApp
from shared.settings import Settings
from tests.conftest import TEST_TOKEN
from tests.fakes.http_server import running
from tests.fakes.lambda_context import LambdaContext
from tests.functions.aws_lambda import events

ROOT = Path(__file__).resolve().parents[2]


class _LambdaBridge(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:
        pass

    def _invoke(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else None
        path, _, query = self.path.partition("?")
        event = events.load(
            "http_api_v2", method=self.command, path=path, body=body, headers=dict(self.headers.items())
        )
        event["rawQueryString"] = query
        resp = handler.lambda_handler(event, LambdaContext())
        raw = resp.get("body") or ""
        out = base64.b64decode(raw) if resp.get("isBase64Encoded") else raw.encode()
        self.send_response(resp["statusCode"])
        for name, value in (resp.get("headers") or {}).items():
            if name.lower() != "content-length":
                self.send_header(name, value)
        for cookie in resp.get("cookies") or []:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_OPTIONS = _invoke


@pytest.fixture
def live_local(chat_settings) -> Iterator[str]:
    with running(serve(ProxyApp(chat_settings), port=0)) as url:
        yield url


@pytest.fixture
def demo_local() -> Iterator[str]:
    with running(serve(ProxyApp(Settings(demo_mode=True, demo_word_delay=0.0)), port=0)) as url:
        yield url


@pytest.fixture
def lambda_bridge(monkeypatch, chat_settings) -> Iterator[str]:
    """GIVEN the Lambda function's environment pointing at the fake router, behind the bridge."""
    for name, value in {
        "HF_TOKEN": TEST_TOKEN,
        "HF_CHAT_URL": chat_settings.hf_chat_url,
        "HF_INFERENCE_URL": chat_settings.hf_inference_url,
    }.items():
        monkeypatch.setenv(name, value)
    handler.app.configure(None)
    with running(ThreadingHTTPServer(("127.0.0.1", 0), _LambdaBridge)) as url:
        yield url
    handler.app.configure(None)


@pytest.fixture(params=["live_local", "demo_local", "lambda_bridge"])
def proxy(request) -> tuple[str, str]:
    """(kind, base URL) for each way the proxy runs."""
    return request.param, request.getfixturevalue(request.param)


def _env(monkeypatch, settings: Settings) -> None:
    """The deployed function's environment for ``settings``' upstreams and aliases."""
    for name, value in {
        "HF_TOKEN": TEST_TOKEN,
        "HF_CHAT_URL": settings.hf_chat_url,
        "HF_RESPONSES_URL": settings.hf_responses_url,
        "MODEL_ALIASES": ",".join(f"{short}={full}" for short, full in settings.model_aliases),
    }.items():
        monkeypatch.setenv(name, value)


@contextmanager
def serving(kind: str, settings: Settings, monkeypatch) -> Iterator[str]:
    """The proxy's /api/v1 base URL, run as ``kind``: the local server (live or demo), the Lambda
    handler behind its bridge (buffered streams), or the Vercel entry (api/index.py)."""
    if kind in ("live", "demo"):
        served = settings if kind == "live" else Settings(demo_mode=True, demo_word_delay=0.0)
        with running(serve(ProxyApp(served), port=0)) as url:
            yield url + "/api/v1"
        return
    _env(monkeypatch, settings)
    if kind == "lambda":
        handler.app.configure(None)
        with running(ThreadingHTTPServer(("127.0.0.1", 0), _LambdaBridge)) as url:
            yield url + "/api/v1"
        handler.app.configure(None)
        return
    spec = importlib.util.spec_from_file_location("vercel_entry_responses", ROOT / "api" / "index.py")
    entry = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(entry)
    shared.app.app.configure(None)
    with running(make_server("127.0.0.1", 0, entry.app, threaded=True)) as url:
        yield url + "/api/v1"
    shared.app.app.configure(None)
