"""CORS in the core: preflights first, disallowed origins refused, Vary on everything."""

from __future__ import annotations

import pytest

from tests.conftest import client_for, post_json

ALLOWED = "https://app.example"


@pytest.fixture
def strict_client(settings):
    return client_for(settings.with_changes(allowed_origins=(ALLOWED, "http://127.0.0.1:5173")))


def preflight(client, origin, path="/api/generate"):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )


def test_preflight_from_allowed_origin_is_204_with_cors_headers(strict_client):
    resp = preflight(strict_client, ALLOWED)
    assert resp.status_code == 204
    assert resp.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    assert "content-type" in resp.headers["Access-Control-Allow-Headers"].lower()
    assert int(resp.headers["Access-Control-Max-Age"]) > 0
    assert resp.headers["Vary"] == "Origin"
    assert "Access-Control-Allow-Credentials" not in resp.headers


def test_preflight_is_answered_even_where_the_route_would_reject(strict_client):
    # a preflight to a route with no OPTIONS handler and a body that would fail: still 204
    assert preflight(strict_client, ALLOWED, "/api/health").status_code == 204


def test_preflight_from_disallowed_origin_is_403_without_cors_headers(strict_client):
    resp = preflight(strict_client, "https://evil.example")
    assert resp.status_code == 403
    assert resp.json["code"] == "origin_not_allowed"
    assert not [h for h in resp.headers.keys() if h.lower().startswith("access-control-")]
    assert resp.headers["Vary"] == "Origin"


def test_request_from_disallowed_origin_is_403_and_not_forwarded(strict_client, upstream):
    resp = post_json(strict_client, "/api/generate", {"inputs": "Hi"}, headers={"Origin": "https://evil.example"})
    assert resp.status_code == 403 and resp.json["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in resp.headers
    assert upstream.received == []


def test_request_from_allowed_origin_can_read_the_answer(strict_client):
    resp = post_json(strict_client, "/api/generate", {"inputs": "Hi"}, headers={"Origin": ALLOWED})
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Retry-After" in resp.headers["Access-Control-Expose-Headers"]
    assert resp.headers["Vary"] == "Origin"


def test_errors_are_readable_cross_origin_too(strict_client, upstream):
    resp = post_json(strict_client, "/api/generate", {"nope": 1}, headers={"Origin": ALLOWED})
    assert resp.status_code == 400
    assert resp.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_requests_without_origin_are_allowed_and_vary(strict_client):
    resp = post_json(strict_client, "/api/generate", {"inputs": "Hi"})
    assert resp.status_code == 200
    assert "Access-Control-Allow-Origin" not in resp.headers
    assert resp.headers["Vary"] == "Origin"


def test_wildcard_default_answers_star_without_credentials(client):
    resp = post_json(client, "/api/generate", {"inputs": "Hi"}, headers={"Origin": "https://any.example"})
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in resp.headers


def test_origin_list_ignores_trailing_slashes(settings):
    client = client_for(settings.with_changes(allowed_origins=("https://app.example",)))
    assert preflight(client, "https://app.example").status_code == 204
