"""CORS as a real browser meets it: Chromium on one loopback origin, the proxy on another.

Each test calls the proxy with ``fetch`` POST JSON (``Content-Type: application/json`` makes it a
non-simple request, so Chromium sends a preflight first: https://fetch.spec.whatwg.org/#cors-preflight-fetch).
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import TEST_TOKEN
from tests.fakes.hf_inference import ERROR_ROWS
from tests.fakes.http_server import Reply


@pytest.fixture
def proxy(proxy_for, settings, page_origin):
    """GIVEN the proxy with only the page's origin allowed, pointing at the fake HF upstream."""
    return proxy_for(settings.with_changes(allowed_origins=(page_origin,)))


def post_from_page(page, url: str, payload) -> dict:
    body = payload if isinstance(payload, str) else json.dumps(payload)
    return page.evaluate("([url, body]) => postJson(url, body)", [url, body])


def test_allowed_origin_preflight_succeeds_and_the_answer_is_readable(page, proxy, upstream):
    # WHEN the page POSTs JSON to the proxy on another origin
    result = post_from_page(page, f"{proxy.url}/api/generate", {"inputs": "My knee hurts when"})
    # THEN the browser let the page read the model's answer and the exposed request id
    assert result["ok"], result
    assert result["status"] == 200
    assert json.loads(result["text"]) == [{"generated_text": "My knee hurts when ... and the fake model continues."}]
    assert result["headers"]["x-request-id"]
    # AND a preflight reached the proxy and succeeded before the POST
    assert proxy.telemetry.seen() == [("OPTIONS", "/api/generate", 204), ("POST", "/api/generate", 200)]
    # AND the upstream got the token from the server, not from the page
    assert upstream.received[-1].headers["authorization"] == f"Bearer {TEST_TOKEN}"


def test_disallowed_origin_is_blocked_by_the_browser(page, proxy_for, settings, upstream):
    # GIVEN a proxy that allows some other origin only
    proxy = proxy_for(settings.with_changes(allowed_origins=("https://health-app.example",)))
    # WHEN the page calls it
    result = post_from_page(page, f"{proxy.url}/api/generate", {"inputs": "My knee hurts when"})
    # THEN fetch rejects with a TypeError: the page learns nothing, not even the status
    assert result == {"ok": False, "error": "TypeError", "message": "Failed to fetch"}
    # AND the browser stopped at the preflight (403): the POST was never sent, nothing went upstream
    assert proxy.telemetry.seen() == [("OPTIONS", "/api/generate", 403)]
    assert upstream.received == []


def test_4xx_error_envelope_is_readable_by_the_page(page, proxy, upstream):
    # WHEN the page sends a prompt of the wrong type
    result = post_from_page(page, f"{proxy.url}/api/generate", {"inputs": 42})
    # THEN the page can read the 400 envelope and act on it
    assert result["ok"] and result["status"] == 400
    envelope = json.loads(result["text"])
    assert envelope["code"] == "validation_error"
    assert envelope["details"][0]["field"] == "inputs"
    assert result["headers"]["content-type"] == "application/json"
    assert upstream.received == []


def test_invalid_json_from_the_page_is_a_readable_400(page, proxy):
    result = post_from_page(page, f"{proxy.url}/api/generate", '{"inputs": "unterminated')
    assert result["ok"] and result["status"] == 400
    assert json.loads(result["text"])["code"] == "invalid_json"


def test_502_error_envelope_is_readable_by_the_page(page, proxy, upstream):
    # GIVEN Hugging Face rejects the server's token
    upstream.enqueue(ERROR_ROWS["unauthorized_401"])
    result = post_from_page(page, f"{proxy.url}/api/generate", {"inputs": "Hello"})
    # THEN the page reads a 502 envelope that says whose problem it is
    assert result["ok"] and result["status"] == 502
    envelope = json.loads(result["text"])
    assert envelope["code"] == "upstream_auth_failed"
    assert "HF_TOKEN" in envelope["error"]
    assert TEST_TOKEN not in result["text"]


def test_429_retry_after_is_exposed_to_the_page(page, proxy, upstream):
    upstream.enqueue(ERROR_ROWS["rate_limited_429"])
    result = post_from_page(page, f"{proxy.url}/api/generate", {"inputs": "Hello"})
    assert result["ok"] and result["status"] == 429
    assert json.loads(result["text"])["code"] == "upstream_rate_limited"
    # Retry-After is not a CORS-safelisted response header: readable only because the proxy exposes it
    assert result["headers"]["retry-after"] == "7"


def test_the_proxys_own_limit_fields_are_readable_from_another_origin(page, proxy_for, settings):
    # GIVEN a proxy on another origin that lets a client ask once a minute
    proxy = proxy_for(settings.with_changes(rate_limit_per_minute=1))
    post_from_page(page, f"{proxy.url}/api/generate", {"inputs": "Hello"})
    # WHEN the page asks again
    result = post_from_page(page, f"{proxy.url}/api/generate", {"inputs": "Hello"})
    # THEN it reads the 429 envelope, Retry-After and the RateLimit fields through CORS
    assert result["ok"] and result["status"] == 429
    assert json.loads(result["text"])["code"] == "rate_limited"
    assert 1 <= int(result["headers"]["retry-after"]) <= 60
    assert result["headers"]["ratelimit-policy"] == '"minute";q=1;w=60'
    assert result["headers"]["ratelimit"].startswith('"minute";r=0;t=')


def test_wildcard_default_lets_any_page_read_the_answer(page, proxy_for, settings, upstream):
    # GIVEN the one-click default ALLOWED_ORIGINS="*"
    proxy = proxy_for(settings.with_changes(allowed_origins=("*",)))
    upstream.enqueue(Reply(json=[{"generated_text": "ok"}]))
    result = post_from_page(page, f"{proxy.url}/api/generate", {"inputs": "Hello"})
    assert result["ok"] and result["status"] == 200
    assert json.loads(result["text"]) == [{"generated_text": "ok"}]
