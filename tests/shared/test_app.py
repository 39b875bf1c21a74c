"""The HTTP surface of the core: routing, body limits, content types, JSON strictness, health."""

from __future__ import annotations

import json

import pytest
from werkzeug.test import Client

from shared.app import ProxyApp
from shared.http import Response
from shared.routes.route import Route
from shared.settings import Settings
from tests.conftest import TEST_TOKEN, client_for, post_json


def test_unknown_route_is_404_envelope(client):
    resp = client.get("/api/nope")
    assert resp.status_code == 404
    assert resp.json["code"] == "not_found"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/generate"), ("PUT", "/api/generate"), ("POST", "/api/health"), ("DELETE", "/api/health")],
)
def test_wrong_method_is_405_with_allow(client, method, path):
    resp = client.open(path, method=method)
    assert resp.status_code == 405
    assert resp.json["code"] == "method_not_allowed"
    assert "OPTIONS" in resp.headers["Allow"]


def test_head_is_get_without_the_body(client):
    # GIVEN a GET route
    got = client.get("/api/health")
    # WHEN it is asked for with HEAD (RFC 9110 section 9.1: every server supports GET and HEAD)
    head = client.head("/api/health")
    # THEN the GET's status and headers, its length announced, and no body
    assert head.status_code == got.status_code == 200
    assert head.data == b"" and head.headers["Content-Length"] == str(len(got.data))
    assert head.headers["Content-Type"] == got.headers["Content-Type"]


def test_head_on_a_post_only_route_is_405_and_allow_names_head_only_beside_get(client):
    # WHEN HEAD asks for a POST-only route, and PUT for a GET route
    post_only, get_route = client.head("/api/generate"), client.put("/api/health")
    # THEN 405s whose Allow lists HEAD exactly where GET is allowed
    assert post_only.status_code == get_route.status_code == 405
    assert "HEAD" not in post_only.headers["Allow"]
    assert [m.strip() for m in get_route.headers["Allow"].split(",")] == ["GET", "HEAD", "OPTIONS"]


def test_trailing_slash_reaches_the_same_route(client):
    assert post_json(client, "/api/generate/", {"inputs": "Hi"}).status_code == 200


def test_body_over_the_limit_is_413_before_parsing(settings, upstream):
    client = client_for(settings.with_changes(max_body_bytes=1024))
    body = json.dumps({"inputs": "x" * 2000})
    resp = post_json(client, "/api/generate", body)
    assert resp.status_code == 413 and resp.json["code"] == "body_too_large"
    assert upstream.received == []


def test_default_body_limit_is_16_kib(client, upstream):
    fits = json.dumps({"inputs": "x"}).encode()
    assert post_json(client, "/api/generate", fits).status_code == 200
    resp = post_json(client, "/api/generate", b'{"inputs": "' + b"x" * 16 * 1024 + b'"}')
    assert resp.status_code == 413


def test_body_without_content_length_is_still_capped(settings, upstream):
    # GIVEN a server behind which the body arrives without a Content-Length (chunked upstream of WSGI)
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    from shared.app import ProxyApp

    environ = EnvironBuilder(
        path="/api/generate", method="POST", data=b'{"inputs": "' + b"x" * 4096 + b'"}', content_type="application/json"
    ).get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True  # what servers that de-chunk bodies set
    # WHEN it is sent
    _, status, _ = run_wsgi_app(ProxyApp(settings.with_changes(max_body_bytes=1024)), environ, buffered=True)
    # THEN the cap holds while reading
    assert status.startswith("413")
    assert upstream.received == []


def test_body_without_length_or_termination_is_not_read(settings, upstream):
    # GIVEN a body the server did not delimit (no Content-Length, no wsgi.input_terminated)
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    from shared.app import ProxyApp

    environ = EnvironBuilder(
        path="/api/generate", method="POST", data=b'{"inputs": "Hi"}', content_type="application/json"
    ).get_environ()
    del environ["CONTENT_LENGTH"]
    # WHEN it is sent, THEN the app does not block reading it, and says the body is empty
    app_iter, status, _ = run_wsgi_app(ProxyApp(settings), environ, buffered=True)
    assert status.startswith("400") and b"empty" in b"".join(app_iter)


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
)
def test_non_json_content_type_is_415(client, upstream, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    resp = client.post("/api/generate", data=b'{"inputs": "Hi"}', headers=headers)
    assert resp.status_code == 415 and resp.json["code"] == "unsupported_media_type"
    assert upstream.received == []


def test_json_with_charset_is_accepted(client):
    resp = client.post(
        "/api/generate", data=b'{"inputs": "Hi"}', headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert resp.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"not json",
        b'{"inputs": NaN}',
        b'{"inputs": "a", "parameters": {"temperature": Infinity}}',
        b'{"inputs": "a", "inputs": "b"}',
        b"\xff\xfe{}",
        b"[" * 5000 + b"]" * 5000,
        b'{"inputs": ' + b"9" * 5000 + b"}",
    ],
    ids=["empty", "truncated", "text", "nan", "infinity", "duplicate-key", "not-utf8", "deep", "huge-int"],
)
def test_malformed_json_is_400_invalid_json(client, upstream, body):
    resp = post_json(client, "/api/generate", body)
    assert resp.status_code == 400
    assert resp.json["code"] in {"invalid_json", "validation_error"}
    assert upstream.received == []


def test_health_says_which_upstreams_are_configured_without_secrets(client, settings):
    resp = client.get("/api/health")
    assert resp.status_code == 200
    assert resp.json["status"] == "ok" and resp.json["mode"] == "live"
    assert resp.json["upstreams"]["generate"] == {"configured": True, "host": "127.0.0.1"}
    assert TEST_TOKEN not in resp.text and "token" not in resp.text.lower()


def test_health_reports_missing_credentials(settings):
    resp = client_for(settings.with_changes(hf_token=None)).get("/api/health")
    assert resp.status_code == 200
    assert resp.json["upstreams"]["generate"]["configured"] is False


def test_every_response_has_a_request_id_and_no_store(client):
    resp = client.get("/api/health")
    assert len(resp.headers["X-Request-Id"]) == 32
    assert resp.headers["Cache-Control"] == "no-store"


def test_malformed_setting_is_a_500_naming_it(monkeypatch):
    from werkzeug.test import Client

    from shared.app import ProxyApp

    monkeypatch.setenv("MAX_BODY_BYTES", "lots")
    resp = Client(ProxyApp()).get("/api/health")
    assert resp.status_code == 500
    assert resp.json == {"error": "Setting MAX_BODY_BYTES must be a whole number.", "code": "server_misconfigured"}


@pytest.mark.parametrize(
    ("status", "line"), [(200, "200 OK"), (404, "404 Not Found"), (413, "413 Content Too Large"), (599, "599 Unknown")]
)
def test_status_lines_carry_the_standard_reason_phrase(status, line):
    """GIVEN a route answering ``status``; THEN the WSGI status line has http.HTTPStatus's phrase
    (RFC 9110's name for 413), and an unregistered status says Unknown."""
    seen: list[str] = []
    route = Route("x", ("/x",), lambda request, scope: Response.json(status, {}), method="GET")
    app = ProxyApp(Settings(), routes=[route])
    app({"REQUEST_METHOD": "GET", "PATH_INFO": "/x", "wsgi.input": None}, lambda s, h, e=None: seen.append(s))
    assert seen == [line]


def test_the_record_counts_the_body_bytes_a_route_read(settings):
    """GIVEN a request whose body the route read; THEN the telemetry record has its size."""
    records: list = []

    class Keep:
        def record(self, record) -> None:
            records.append(record)

    Client(ProxyApp(settings, telemetry=Keep())).post("/api/generate", json={"inputs": "Hi"})
    assert records[-1].body_bytes == len(b'{"inputs": "Hi"}')
