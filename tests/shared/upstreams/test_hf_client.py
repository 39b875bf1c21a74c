"""Every row of the status map: an upstream fault becomes its documented status and code.

The fake upstream answers each status the way Hugging Face does (docs/upstreams.md, status map).
"""

from __future__ import annotations

import time

import pytest

from shared.upstreams import hf_client
from tests.conftest import TEST_TOKEN, client_for, post_json, refused_url
from tests.fakes.hf_inference import ERROR_ROWS, loading
from tests.fakes.http_server import Reply


@pytest.mark.parametrize(
    ("row", "status", "code", "says"),
    [
        ("invalid_token_400", 502, "upstream_auth_failed", "server's token"),
        ("unauthorized_401", 502, "upstream_auth_failed", "server's token"),
        ("credits_402", 502, "upstream_quota_exceeded", "credits"),
        ("not_found_404", 502, "model_not_served", "HF_INFERENCE_URL"),
        ("retired_410", 502, "model_not_served", "Please use https://router.huggingface.co/ instead"),
        ("validation_422", 400, "upstream_rejected_request", "must be <= 1024"),
        ("rate_limited_429", 429, "upstream_rate_limited", "retry in 7 s"),
        ("server_error_500", 502, "upstream_error", "HTTP 500"),
        ("unavailable_503", 503, "upstream_unavailable", "retry in"),
        ("gateway_timeout_504", 504, "upstream_timeout", "did not answer in time"),
        ("bad_json_200", 502, "upstream_bad_response", "not valid JSON"),
    ],
)
def test_upstream_status_maps_to_documented_error(client, upstream, row, status, code, says):
    # GIVEN an upstream that answers this row of the table
    upstream.enqueue(ERROR_ROWS[row])
    # WHEN a valid request goes through
    resp = post_json(client, "/api/generate", {"inputs": "Hi"})
    # THEN the proxy answers the documented status with the envelope and an actionable sentence
    assert resp.status_code == status
    assert resp.json["code"] == code
    assert says in resp.json["error"]
    assert set(resp.json) == {"error", "code"}


def test_rate_limit_passes_retry_after(client, upstream):
    upstream.enqueue(ERROR_ROWS["rate_limited_429"])
    resp = post_json(client, "/api/generate", {"inputs": "Hi"})
    assert resp.headers["Retry-After"] == "7"


def test_unavailable_503_without_estimate_carries_retry_after(client, upstream):
    upstream.enqueue(ERROR_ROWS["unavailable_503"])
    resp = post_json(client, "/api/generate", {"inputs": "Hi"})
    assert int(resp.headers["Retry-After"]) >= 1


def test_loading_model_is_retried_within_the_deadline(client, upstream):
    # GIVEN a model that says it is loading (estimated 0.2 s), then answers
    upstream.enqueue(loading(0.2), loading(0.2))
    resp = post_json(client, "/api/generate", {"inputs": "Hi"})
    # THEN the proxy waited and retried inside the request, and the client sees the answer
    assert resp.status_code == 200, resp.text
    assert len(upstream.received) == 3


def test_a_model_that_keeps_loading_is_asked_three_times_at_most_a_second_apart(settings, upstream, monkeypatch):
    # GIVEN a model that answers "loading, 0.1 s" forever (one request once made 82 calls in 8.5 s)
    calls: list[float] = []

    def still_loading(received):
        calls.append(time.monotonic())
        return loading(0.1)

    monkeypatch.setattr(upstream, "default", still_loading)
    client = client_for(settings.with_changes(request_deadline=8.0))
    # WHEN one request goes through
    resp = post_json(client, "/api/generate", {"inputs": "Hi"})
    # THEN the upstream was asked at most MAX_ATTEMPTS times, never sooner than the floor apart,
    # and the client is told the model is loading, with when to come back
    assert resp.status_code == 503 and resp.json["code"] == "model_loading"
    assert int(resp.headers["Retry-After"]) >= 1
    assert len(calls) == hf_client.MAX_ATTEMPTS
    gaps = [later - earlier for earlier, later in zip(calls, calls[1:], strict=False)]
    assert min(gaps) >= hf_client.MIN_RETRY_WAIT * 0.95


def test_loading_longer_than_the_deadline_is_503_with_retry_after(settings, upstream):
    client = client_for(settings.with_changes(request_deadline=1.0))
    upstream.enqueue(loading(20.0))
    started = time.monotonic()
    resp = post_json(client, "/api/generate", {"inputs": "Hi"})
    assert time.monotonic() - started < 1.0
    assert resp.status_code == 503
    assert resp.json["code"] == "model_loading"
    assert resp.headers["Retry-After"] == "20"
    assert len(upstream.received) == 1


def test_slow_upstream_is_504_before_the_deadline(settings, upstream):
    client = client_for(settings.with_changes(request_deadline=0.5))
    upstream.enqueue(Reply(json=[{"generated_text": "late"}], delay=3.0))
    started = time.monotonic()
    resp = post_json(client, "/api/generate", {"inputs": "Hi"})
    elapsed = time.monotonic() - started
    assert resp.status_code == 504 and resp.json["code"] == "upstream_timeout"
    assert elapsed < 0.5 + 1.0  # the deadline plus generous slack; a missed deadline answers at 3 s


def test_refused_connection_is_502_unreachable(settings):
    client = client_for(settings.with_changes(hf_inference_url=refused_url()))
    resp = post_json(client, "/api/generate", {"inputs": "Hi"})
    assert resp.status_code == 502 and resp.json["code"] == "upstream_unreachable"


@pytest.mark.parametrize("fault", [Reply(drop=True), Reply(json=[{"generated_text": "x" * 200}], truncate=True)])
def test_dropped_or_truncated_answer_is_502_and_the_next_call_works(client, upstream, fault):
    upstream.enqueue(fault)
    resp = post_json(client, "/api/generate", {"inputs": "Hi"})
    assert resp.status_code == 502 and resp.json["code"] == "upstream_unreachable"
    assert post_json(client, "/api/generate", {"inputs": "Hi"}).status_code == 200


def test_upstream_error_message_never_carries_the_token(client, upstream):
    # GIVEN an upstream that quotes our Authorization header back in its error
    upstream.enqueue(Reply(422, json={"error": f"bad request from Bearer {TEST_TOKEN}"}))
    resp = post_json(client, "/api/generate", {"inputs": "Hi"})
    assert resp.status_code == 400
    assert TEST_TOKEN not in resp.text and "[redacted]" in resp.text


def test_success_body_that_echoes_the_token_is_redacted(client, upstream):
    upstream.enqueue(Reply(json=[{"generated_text": f"Authorization: Bearer {TEST_TOKEN}"}]))
    resp = post_json(client, "/api/generate", {"inputs": "Hi"})
    assert resp.status_code == 200
    assert TEST_TOKEN not in resp.text


def test_warm_requests_reuse_one_upstream_connection(client, upstream):
    from shared.upstreams import transport

    transport.reset_pools()
    for _ in range(5):
        assert post_json(client, "/api/generate", {"inputs": "Hi"}).status_code == 200
    assert upstream.connections == 1
