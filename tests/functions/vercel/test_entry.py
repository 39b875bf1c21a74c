"""The Vercel entry (api/index.py) served by a real WSGI server on loopback, called over HTTP.

werkzeug's threaded server stands in for Vercel's Python runtime (which also calls the module's
``app`` as plain WSGI); the build test runs Vercel's own shim from ``vercel build`` output.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

import shared.app
from shared.app import ProxyApp
from shared.routes import ROUTES
from shared.settings import Settings
from tests.conftest import MODEL_PATH, TEST_TOKEN, refused_url
from tests.fakes.http_server import Reply

ENTRY = Path(__file__).resolve().parents[3] / "api" / "index.py"


def load_entry():
    spec = importlib.util.spec_from_file_location("vercel_entry_under_test", ENTRY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def entry_app(monkeypatch, upstream) -> Iterator[ProxyApp]:
    """GIVEN the entry's app, configured from the environment the way a Vercel project sets it."""
    monkeypatch.setenv("HF_TOKEN", TEST_TOKEN)
    monkeypatch.setenv("HF_INFERENCE_URL", upstream.url + MODEL_PATH)
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://app.example")
    monkeypatch.setenv("REQUEST_DEADLINE_SECONDS", "5")
    app = load_entry().app
    app.configure(None)  # read the environment again, as a fresh Vercel instance would
    yield app
    app.configure(None)


@pytest.fixture
def base_url(entry_app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, entry_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    thread.join(timeout=5)


def test_the_entry_exposes_the_cores_app_and_nothing_else():
    module = load_entry()
    public = {name for name in vars(module) if not name.startswith("_")}
    assert public == {"app"}
    assert module.app is shared.app.app and isinstance(module.app, ProxyApp)


def test_generate_over_http_forwards_with_the_server_token(base_url, upstream):
    resp = requests.post(
        f"{base_url}/api/generate", json={"inputs": "Hi"}, headers={"Origin": "https://app.example"}, timeout=5
    )
    assert resp.status_code == 200
    assert resp.json() == [{"generated_text": "Hi ... and the fake model continues."}]
    assert resp.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert upstream.received[0].headers["authorization"] == f"Bearer {TEST_TOKEN}"
    assert TEST_TOKEN not in resp.text and TEST_TOKEN not in str(resp.headers)


def test_health_over_http(base_url):
    resp = requests.get(f"{base_url}/api/health", timeout=5)
    assert resp.status_code == 200
    assert resp.json()["status"] == "ok" and resp.json()["mode"] == "live"
    assert resp.headers["X-Request-Id"]


def test_cors_preflight_and_disallowed_origin_over_http(base_url):
    pre = requests.options(
        f"{base_url}/api/generate",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
        timeout=5,
    )
    assert pre.status_code == 204
    assert pre.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    denied = requests.post(
        f"{base_url}/api/generate", json={"inputs": "Hi"}, headers={"Origin": "https://evil.example"}, timeout=5
    )
    assert denied.status_code == 403 and denied.json()["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in denied.headers


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        (
            "POST",
            "/api/generate",
            {"data": b"{not json", "headers": {"Content-Type": "application/json"}},
            400,
            "invalid_json",
        ),
        ("POST", "/api/generate", {"json": {"inputs": ""}}, 400, "validation_error"),
        (
            "POST",
            "/api/generate",
            {"data": b"x", "headers": {"Content-Type": "text/plain"}},
            415,
            "unsupported_media_type",
        ),
        ("GET", "/api/generate", {}, 405, "method_not_allowed"),
        ("GET", "/api/nowhere", {}, 404, "not_found"),
    ],
)
def test_client_errors_over_http_are_json_envelopes(base_url, method, path, kwargs, status, code):
    resp = requests.request(method, f"{base_url}{path}", timeout=5, **kwargs)
    assert resp.status_code == status
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.json()["code"] == code and resp.json()["error"]


def test_upstream_faults_over_http(base_url, upstream, entry_app):
    upstream.enqueue(Reply(503, json={"error": "Model is currently loading", "estimated_time": 600.0}))
    loading = requests.post(f"{base_url}/api/generate", json={"inputs": "Hi"}, timeout=10)
    assert loading.status_code == 503 and loading.json()["code"] == "model_loading"
    assert int(loading.headers["Retry-After"]) > 0
    entry_app.configure(Settings(hf_token=TEST_TOKEN, hf_inference_url=refused_url(), request_deadline=5))
    refused = requests.post(f"{base_url}/api/generate", json={"inputs": "Hi"}, timeout=10)
    assert refused.status_code == 502 and refused.json()["code"] == "upstream_unreachable"


def test_without_a_token_the_deployed_entry_says_so_instead_of_pretending(monkeypatch, base_url, entry_app):
    # GIVEN a Vercel project deployed without HF_TOKEN (no silent demo mode when deployed)
    monkeypatch.delenv("HF_TOKEN")
    entry_app.configure(None)
    resp = requests.post(f"{base_url}/api/generate", json={"inputs": "Hi"}, timeout=5)
    assert resp.status_code == 500 and resp.json()["code"] == "server_misconfigured"
    assert "HF_TOKEN" in resp.json()["error"]
    assert requests.get(f"{base_url}/api/health", timeout=5).json()["status"] == "misconfigured"


@pytest.mark.parametrize(
    ("path", "method"), [(path, method) for path, route in ROUTES.items() for method in route.methods]
)
def test_every_route_in_the_table_is_served_through_the_entry(base_url, path, method):
    # GIVEN each route the core knows (new ones included), WHEN called over HTTP with an empty body
    resp = requests.request(method, f"{base_url}{path}", json={} if method == "POST" else None, timeout=10)
    # THEN the route itself answered (success or its own validation error), not routing's 404/405
    assert resp.headers["X-Request-Id"]
    if resp.headers["Content-Type"].startswith("application/json") and resp.status_code >= 400:
        body = resp.json()
        code = body["error"]["code"] if isinstance(body["error"], dict) else body["code"]  # OpenAI or ours
        assert code not in {"not_found", "method_not_allowed"}, body
