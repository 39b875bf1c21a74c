"""The transport: only our headers, decoding, no redirects, repeated headers joined, TLS verified
against certifi's bundle, and a connection left half-read is never handed to the next request."""

from __future__ import annotations

import gzip
import json
import ssl

import certifi
import pytest
import trustme

from shared.upstreams import transport
from tests.conftest import MODEL_PATH, TEST_TOKEN, client_for, post_json
from tests.fakes.http_server import FakeServer, Reply


def test_upstream_receives_only_the_headers_we_build(client, upstream):
    # WHEN a browser request with cookies and its own Authorization goes through the proxy
    resp = post_json(
        client, "/api/generate", {"inputs": "Hi"}, headers={"Authorization": "Bearer caller", "Cookie": "s=1"}
    )
    assert resp.status_code == 200
    sent = upstream.received[-1]
    # THEN upstream sees our token, our agent, JSON, gzip allowed, and nothing of the caller's
    assert sent.headers["authorization"] == f"Bearer {TEST_TOKEN}"
    assert sent.headers["user-agent"].startswith("hfproxy/")
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["accept-encoding"] == "gzip, deflate"
    assert "cookie" not in sent.headers
    assert sent.json() == {"inputs": "Hi", "parameters": {"max_new_tokens": 512}}


def test_gzip_answer_is_decoded(client, upstream):
    # GIVEN an upstream that compresses its answer
    answer = [{"generated_text": "Hi there"}]
    upstream.enqueue(Reply(body=gzip.compress(json.dumps(answer).encode()), headers={"Content-Encoding": "gzip"}))
    resp = post_json(client, "/api/generate", {"inputs": "Hi"})
    # THEN the browser gets the plain JSON
    assert resp.status_code == 200 and resp.json == answer


def test_redirect_is_not_followed(client, upstream):
    # GIVEN an upstream answering 302 to another place
    upstream.enqueue(Reply(302, body=b"", headers={"Location": upstream.url + "/elsewhere"}))
    resp = post_json(client, "/api/generate", {"inputs": "Hi"})
    # THEN the proxy reports an upstream error and made one request only
    assert resp.status_code == 502 and resp.json["code"] == "upstream_error"
    assert [r.path for r in upstream.received] == ["/hf-inference/models/openai-community/gpt2"]


def test_repeated_retry_after_headers_are_joined_not_dropped(client, upstream):
    # GIVEN a 429 with Retry-After twice (the first is the one a retry honours)
    upstream.enqueue(Reply(429, json={"error": "busy"}, headers={"Retry-After": "9", "retry-after": "30"}))
    resp = post_json(client, "/api/generate", {"inputs": "Hi"})
    # THEN "9, 30" is not a number: the documented default applies, as with requests' joined value
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "20"


def test_too_large_answer_is_502_and_the_half_read_connection_is_not_reused(settings, upstream):
    # GIVEN a fresh pool, a proxy that accepts at most 1 KiB from upstream and an answer of 200 KiB
    transport.reset_pools()
    client = client_for(settings.with_changes(max_upstream_bytes=1024))
    upstream.enqueue(Reply(json=[{"generated_text": "x" * 200_000}]))
    resp = post_json(client, "/api/generate", {"inputs": "Hi"})
    assert resp.status_code == 502 and resp.json["code"] == "upstream_too_large"
    # THEN the next call gets a clean answer over a new connection, not the rest of the old body
    resp = post_json(client, "/api/generate", {"inputs": "again"})
    assert resp.status_code == 200 and resp.json == [{"generated_text": "again ... and the fake model continues."}]
    assert upstream.connections == 2


@pytest.fixture
def tls_upstream():
    """An HTTPS fake upstream on loopback, its certificate issued by a throwaway CA (trustme)."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = FakeServer(tls=context).start()
    transport.reset_pools()
    yield server, ca
    transport.reset_pools()
    server.stop()


def test_an_upstream_certificate_outside_the_ca_bundle_is_refused_before_the_token_leaves(settings, tls_upstream):
    # GIVEN an HTTPS upstream whose CA is not in the bundle the proxy verifies against (certifi's)
    server, _ = tls_upstream
    client = client_for(settings.with_changes(hf_inference_url=server.url + MODEL_PATH))
    # WHEN a request goes through the proxy
    resp = post_json(client, "/api/generate", {"inputs": "Hi"})
    # THEN the handshake fails: 502 upstream_unreachable, and no request (no token) reached the server
    assert resp.status_code == 502 and resp.json["code"] == "upstream_unreachable"
    assert server.received == []


def test_a_trusted_https_upstream_is_verified_and_its_connection_kept(settings, tls_upstream, monkeypatch):
    # GIVEN the upstream's CA in the bundle the transport verifies against (certifi's file when deployed)
    server, ca = tls_upstream
    with ca.cert_pem.tempfile() as bundle:
        monkeypatch.setattr(certifi, "where", lambda: bundle)
        client = client_for(settings.with_changes(hf_inference_url=server.url + MODEL_PATH))
        # WHEN three requests go through the proxy
        answers = [post_json(client, "/api/generate", {"inputs": "Hi"}) for _ in range(3)]
    # THEN all are answered over one verified TLS connection, carrying our token
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert server.connections == 1
    assert server.received[-1].headers["authorization"] == f"Bearer {TEST_TOKEN}"
