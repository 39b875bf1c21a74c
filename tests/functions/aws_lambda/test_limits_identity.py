"""Who a client is on Lambda: the source IP in the event's requestContext, never a header."""

from __future__ import annotations

import pytest

from functions.aws_lambda import handler
from tests.functions.aws_lambda.test_handler import SHAPES, invoke, post


@pytest.fixture
def one_a_minute(lambda_env, monkeypatch):
    """GIVEN the function deployed with one request per client per minute (memory store)."""
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "1")
    handler.app.configure(None)
    return lambda_env


@pytest.mark.parametrize("shape", SHAPES)
def test_the_source_ip_is_the_client_and_a_forged_forwarded_header_changes_nothing(one_a_minute, shape):
    # WHEN a client uses its minute, then tries again claiming other addresses in X-Forwarded-For
    first, *_ = invoke(post(shape, {"inputs": "Hi"}, source_ip="203.0.113.7"))
    forged_headers = {"x-forwarded-for": "198.51.100.9", "x-real-ip": "198.51.100.9"}
    forged, headers, body = invoke(post(shape, {"inputs": "Hi"}, source_ip="203.0.113.7", headers=forged_headers))
    # AND another source IP calls
    other, *_ = invoke(post(shape, {"inputs": "Hi"}, source_ip="203.0.113.8"))
    # THEN the forged call is the same client (refused), the other address is a new one
    assert (first, forged, other) == (200, 429, 200), body
    assert '"code": "rate_limited"' in body.replace('":"', '": "')
    assert int(headers["retry-after"]) > 0 and headers["ratelimit-policy"] == '"minute";q=1;w=60'
    assert len(one_a_minute.received) == 2


def test_the_http_api_sourceip_with_a_prefix_length_is_one_address(one_a_minute):
    # GIVEN the HTTP API shape as SAM generates it ("192.168.0.1/32")
    first, *_ = invoke(post("http_api_v2", {"inputs": "Hi"}, source_ip="192.0.2.1/32"))
    again, *_ = invoke(post("http_api_v2", {"inputs": "Hi"}, source_ip="192.0.2.1"))
    assert (first, again) == (200, 429)
