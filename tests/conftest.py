"""Shared fixtures: a real loopback fake of the HF upstream, settings pointing at it, a WSGI client."""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from werkzeug.test import Client

from shared.app import ProxyApp
from shared.settings import Settings
from tests.fakes import hf_inference
from tests.fakes.http_server import FakeServer, served
from tests.fakes.telemetry import Recorder

pytest_plugins = ["tests.fakes.space_fixtures"]  # the Llama Space fakes and the real Gradio server

# Looks like a token to the proxy, but not to secret scanners (no 30+ alphanumeric run).
TEST_TOKEN = "hf_fake-test-token-7Q2x"
MODEL_PATH = "/hf-inference/models/openai-community/gpt2"


@pytest.fixture(scope="session")
def _hf_server() -> Iterator[FakeServer]:
    yield from served(FakeServer(default=hf_inference.echo_generation))


@pytest.fixture
def upstream(_hf_server: FakeServer) -> Iterator[FakeServer]:
    """GIVEN a fake HF upstream on 127.0.0.1, fresh for this test."""
    _hf_server.reset()
    yield _hf_server
    _hf_server.reset()


@pytest.fixture
def settings(upstream: FakeServer) -> Settings:
    """The fake upstream's settings; GENERATE_FALLBACK_MODEL off (its own tests turn it on)."""
    return Settings(
        hf_token=TEST_TOKEN,
        hf_inference_url=upstream.url + MODEL_PATH,
        hf_hub_url=refused_url(""),  # the deep health check's: nothing listens
        request_deadline=5.0,
        deadline_margin=0.2,
        generate_fallback_model="",
    )


@pytest.fixture
def chat_settings(settings: Settings, upstream: FakeServer) -> Iterator[Settings]:
    """GIVEN the fake upstream also answering the router's chat API (echo) at /v1/chat/completions."""
    from tests.fakes import hf_chat

    default, upstream.default = upstream.default, hf_chat.echo_chat
    yield settings.with_changes(hf_chat_url=upstream.url + hf_chat.CHAT_PATH, demo_word_delay=0.0)
    upstream.default = default


@pytest.fixture
def responses_settings(chat_settings: Settings, upstream: FakeServer) -> Iterator[Settings]:
    """GIVEN the fake upstream also answering the router's Responses API (echo) at /v1/responses."""
    from tests.fakes import hf_chat, hf_responses

    def route(req):
        return (hf_responses.echo_responses if req.path == hf_responses.RESPONSES_PATH else hf_chat.echo_chat)(req)

    default, upstream.default = upstream.default, route
    yield chat_settings.with_changes(hf_responses_url=upstream.url + hf_responses.RESPONSES_PATH)
    upstream.default = default


@pytest.fixture
def telemetry() -> Recorder:
    """GIVEN the request records the core writes, kept in memory."""
    return Recorder()


@pytest.fixture
def client(settings: Settings) -> Client:
    return Client(ProxyApp(settings))


def client_for(settings: Settings) -> Client:
    return Client(ProxyApp(settings))


def post_json(client: Client, path: str, payload, **kwargs):
    body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    headers = kwargs.pop("headers", {})
    return client.post(path, data=body, headers={"Content-Type": "application/json", **headers}, **kwargs)


@contextmanager
def function_env(monkeypatch: pytest.MonkeyPatch, **env: str) -> Iterator[None]:
    """The Lambda function's environment for one test (the test token, and ``env``): its app re-reads
    it, as a fresh instance would, and forgets it afterwards."""
    from functions.aws_lambda import handler

    for name, value in {"HF_TOKEN": TEST_TOKEN, **env}.items():
        monkeypatch.setenv(name, value)
    handler.app.configure(None)
    try:
        yield
    finally:
        handler.app.configure(None)


def refused_url(path: str = MODEL_PATH) -> str:
    """A loopback URL where nothing listens: connection refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


@pytest.fixture(scope="session", autouse=True)
def _loopback_only() -> Iterator[None]:
    """Network tests only ever target loopback: in this process a host that is not loopback does not
    resolve, as on a machine without DNS, so a default URL a test leaves in its settings (the Hub's,
    the router's) fails the same way everywhere and never carries the test token to the real host."""
    real = socket.getaddrinfo

    def loopback_getaddrinfo(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in (None, "", "localhost") and not _is_loopback(name):
            raise socket.gaierror(socket.EAI_NONAME, f"tests resolve loopback only, not {name!r}")
        return real(host, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", loopback_getaddrinfo)
        yield


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _a_whole_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """The limits count per UTC minute: a test whose calls straddled a minute's end would see its
    count start again. The limits' clock starts each test at the beginning of the current minute and
    runs at real pace, so every test has a whole minute (and stays in the real minute and day)."""
    from shared.limits import store

    started = time.time()
    monkeypatch.setattr(store, "now", lambda: started - started % 60 + (time.time() - started))


@pytest.fixture(autouse=True)
def _fresh_limit_counts() -> Iterator[None]:
    """Each test starts with no spend counted: the memory store is one per process (as deployed),
    so without this a test's counts would carry into the next one's same UTC minute."""
    from shared.limits import stores

    stores._stores.clear()
    yield
    stores._stores.clear()
