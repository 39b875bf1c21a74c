"""The Vercel entry (api/index.py) served by a real WSGI server on loopback, called over HTTP.

werkzeug's threaded server stands in for Vercel's Python runtime (which also calls the module's
``app`` as plain WSGI); the build test runs Vercel's own shim from ``vercel build`` output.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

import shared.app
from shared.app import ProxyApp
from shared.routes.table import ROUTES
from shared.settings import Settings
from tests.conftest import MODEL_PATH, TEST_TOKEN, refused_url
from tests.fakes.http_server import Reply, running

ENTRY = Path(__file__).resolve().parents[3] / "api" / "index.py"


def load_entry():
    spec = importlib.util.spec_from_file_location("vercel_entry_under_test", ENTRY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def entry(monkeypatch, upstream):
    """GIVEN the entry module, its core configured from the environment the way a Vercel project sets it."""
    monkeypatch.setenv("HF_TOKEN", TEST_TOKEN)
    monkeypatch.setenv("HF_INFERENCE_URL", upstream.url + MODEL_PATH)
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://app.example")
    monkeypatch.setenv("REQUEST_DEADLINE_SECONDS", "5")
    module = load_entry()
    shared.app.app.configure(None)  # read the environment again, as a fresh Vercel instance would
    yield module
    shared.app.app.configure(None)


@pytest.fixture
def entry_app(entry) -> ProxyApp:
    """The core app behind the entry (the one the entry's ``app`` hands every request to)."""
    return shared.app.app


@pytest.fixture
def base_url(entry) -> Iterator[str]:
    with running(make_server("127.0.0.1", 0, entry.app, threaded=True)) as url:
        yield url


def test_the_entry_exposes_one_wsgi_app_and_nothing_else():
    module = load_entry()
    assert module.__all__ == ["app"] and callable(module.app)


@pytest.fixture
def via_vercel(entry, monkeypatch):
    """GIVEN one request per client per minute, behind a stand-in for Vercel's runtime bridge."""
    from tests.functions.vercel.bridge import bridge

    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "1")
    shared.app.app.configure(None)
    with running(bridge(entry.app)) as url:

        def call(client: str, *extra: tuple[str, str]) -> requests.Response:
            # what Vercel's edge sends on: its own X-Forwarded-For and X-Real-IP, then the client's headers
            headers = {"X-Forwarded-For": client, "X-Real-IP": client, **dict(extra)}
            return requests.post(f"{url}/api/generate", json={"inputs": "Hi"}, headers=headers, timeout=5)

        yield call


def test_the_client_is_the_address_vercel_saw_not_a_forwarded_header(via_vercel):
    # WHEN one client uses its minute, then tries again, and another client calls
    first, again, other = via_vercel("203.0.113.7"), via_vercel("203.0.113.7"), via_vercel("203.0.113.8")
    # THEN the address Vercel saw is who the client is
    assert first.status_code == 200 and other.status_code == 200
    assert again.status_code == 429 and again.json()["code"] == "rate_limited"


@pytest.mark.parametrize("spelling", ["x_real_ip", "X_Real_Ip", "x_forwarded_for", "x_vercel_forwarded_for"])
def test_a_client_header_spelled_with_underscores_changes_nothing(via_vercel, spelling):
    # GIVEN a client that used its minute
    assert via_vercel("203.0.113.7").status_code == 200
    # WHEN it sends the address headers again, spelled with underscores so the bridge maps them onto
    # HTTP_X_REAL_IP (and friends), after Vercel's own (the later one wins there)
    answers = [via_vercel("203.0.113.7", (spelling, f"198.51.100.{i}")) for i in range(1, 4)]
    # THEN every one is still counted as the address Vercel saw: refused
    assert [a.status_code for a in answers] == [429, 429, 429]
    assert answers[0].json()["code"] == "rate_limited"


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
    ("path", "method"),
    [(path, route.method) for route in ROUTES.routes for path in (*route.paths, *route.openai_paths)],
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
