"""Spend limits through the WSGI core: what a client sees, what the upstream never sees."""

from __future__ import annotations

import json
import time

import pytest

from shared.app import ProxyApp
from shared.limits import policy, store
from shared.proxy_signature import HEADER
from shared.settings import Settings
from tests.conftest import client_for, post_json
from tests.fakes import hf_chat
from tests.fakes.http_server import Reply

GENERATE = {"inputs": "Hello", "parameters": {"max_new_tokens": 10}}


def from_address(address: str, **headers) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}, "headers": headers}


def generate(client, address="203.0.113.7", payload=GENERATE, **headers):
    return post_json(client, "/api/generate", payload, environ_base={"REMOTE_ADDR": address}, headers=headers)


def test_over_the_rate_limit_a_client_gets_429_with_retry_after_and_the_upstream_is_not_called(settings, upstream):
    # GIVEN 2 requests a minute per client
    client = client_for(settings.with_changes(rate_limit_per_minute=2))
    # WHEN one client sends 3
    answers = [generate(client) for _ in range(3)]
    # THEN two reach the upstream, the third is the documented 429
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert len(upstream.received) == 2
    refused = answers[2]
    assert refused.get_json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # AND every counted answer says where the client stands (IETF RateLimit fields)
    assert answers[0].headers["RateLimit-Policy"] == '"minute";q=2;w=60'
    assert answers[0].headers["RateLimit"].startswith('"minute";r=1;t=')
    assert refused.headers["RateLimit"].startswith('"minute";r=0;t=')


def test_the_limit_fields_are_exposed_to_browsers(settings, upstream):
    client = client_for(settings.with_changes(rate_limit_per_minute=1))
    generate(client)
    refused = generate(client, Origin="https://app.example")
    exposed = [h.strip() for h in refused.headers["Access-Control-Expose-Headers"].split(",")]
    assert {"Retry-After", "RateLimit", "RateLimit-Policy"} <= set(exposed)


def test_a_forged_x_forwarded_for_never_changes_who_is_counted(settings, upstream):
    client = client_for(settings.with_changes(rate_limit_per_minute=1))
    assert generate(client, "198.51.100.1").status_code == 200
    # WHEN the same socket address claims to be someone else
    forged = generate(client, "198.51.100.1", **{"X-Forwarded-For": "192.0.2.99", "X-Real-IP": "192.0.2.98"})
    # THEN it is still the same client
    assert forged.status_code == 429
    # AND another address is a different client
    assert generate(client, "198.51.100.2").status_code == 200


def test_ipv6_clients_are_counted_per_64(settings, upstream):
    client = client_for(settings.with_changes(rate_limit_per_minute=1))
    assert generate(client, "2001:db8:1:2::1").status_code == 200
    assert generate(client, "2001:db8:1:2:ffff::9").status_code == 429  # same /64
    assert generate(client, "2001:db8:1:3::1").status_code == 200  # next /64


def test_client_tokens_count_what_is_asked_num_return_sequences_included(settings, upstream):
    # GIVEN 100 tokens a day per client
    client = client_for(settings.with_changes(client_daily_tokens=100))
    asks_60 = {"inputs": "Hi", "parameters": {"max_new_tokens": 20, "num_return_sequences": 3}}
    assert generate(client, payload=asks_60).status_code == 200
    # WHEN the client asks for 2 × 25 = 50 more (only 40 remain)
    over = generate(client, payload={"inputs": "Hi", "parameters": {"max_new_tokens": 25, "num_return_sequences": 2}})
    # THEN it is refused with the client's quota code, and the fields count tokens
    assert over.status_code == 429 and over.get_json()["code"] == "client_quota_exceeded"
    assert over.headers["RateLimit-Policy"] == '"day";q=100;w=86400;qu="tokens"'
    assert over.headers["RateLimit"].startswith('"day";r=40;t=')
    assert len(upstream.received) == 1
    # AND the Retry-After points at the next UTC midnight
    at = store.now()  # the limits' clock (tests/conftest.py starts it at the minute's beginning)
    midnight = (at // 86_400 + 1) * 86_400
    assert abs(int(over.headers["Retry-After"]) - (midnight - at)) <= 2


def test_without_max_new_tokens_the_route_cap_is_counted(settings, upstream):
    client = client_for(settings.with_changes(client_daily_tokens=settings.max_new_tokens))
    assert generate(client, payload={"inputs": "Hi"}).status_code == 200
    assert generate(client, payload={"inputs": "Hi", "parameters": {"max_new_tokens": 1}}).status_code == 429


def test_chat_max_tokens_is_counted_as_asked(chat_settings, upstream):
    client = client_for(chat_settings.with_changes(client_daily_tokens=300))
    body = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 200}
    used_all = hf_chat.completion("Hi")
    used_all["usage"] = {"prompt_tokens": 1, "completion_tokens": 200, "total_tokens": 201}
    upstream.enqueue(Reply(json=used_all))  # the model used every token it was allowed
    first = post_json(client, "/api/chat", body, environ_base={"REMOTE_ADDR": "192.0.2.1"})
    again = post_json(client, "/api/v1/chat/completions", body, environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert first.status_code == 200
    # THEN the second 200-token request does not fit in the remaining 100, on the OpenAI path too
    assert again.status_code == 429
    assert again.get_json()["error"]["code"] == "client_quota_exceeded"
    assert again.get_json()["error"]["type"] == "rate_limit_error"
    assert [r.path for r in upstream.received] == [hf_chat.CHAT_PATH]


def test_the_daily_budget_stops_everyone_with_503(settings, upstream):
    # GIVEN a 25-token budget over all clients, and no per-client limit
    client = client_for(settings.with_changes(daily_token_budget=25))
    assert generate(client, "192.0.2.1").status_code == 200  # 10
    assert generate(client, "192.0.2.2").status_code == 200  # 20
    # WHEN a third client asks for 10
    refused = generate(client, "192.0.2.3")
    # THEN the owner's kill switch answers 503 (not the client's fault), with Retry-After
    assert refused.status_code == 503 and refused.get_json()["code"] == "budget_exhausted"
    assert int(refused.headers["Retry-After"]) > 0
    # AND the remaining budget is never advertised (it reflects other clients)
    assert "RateLimit" not in refused.headers and "RateLimit-Policy" not in refused.headers


@pytest.mark.parametrize("path", ["/api/health", "/api/models", "/api/openapi.json"])
def test_health_and_other_free_routes_are_never_counted_or_refused(settings, path):
    client = client_for(settings.with_changes(rate_limit_per_minute=1, daily_token_budget=1))
    answers = [client.get(path, environ_base={"REMOTE_ADDR": "192.0.2.1"}) for _ in range(5)]
    assert {a.status_code for a in answers} == {200}
    assert all("RateLimit" not in a.headers for a in answers)


def test_preflights_are_never_counted(settings, upstream):
    client = client_for(settings.with_changes(rate_limit_per_minute=1))
    for _ in range(3):
        pre = client.options(
            "/api/generate", headers={"Origin": "https://a.example", "Access-Control-Request-Method": "POST"}
        )
        assert pre.status_code == 204
    assert generate(client).status_code == 200


def test_an_invalid_body_is_refused_before_it_is_counted(settings, upstream):
    client = client_for(settings.with_changes(rate_limit_per_minute=1))
    assert generate(client, payload={"inputs": ""}).status_code == 400
    assert generate(client).status_code == 200


def test_demo_mode_counts_too_so_an_owner_can_try_the_limits_offline():
    client = client_for(Settings(demo_mode=True, rate_limit_per_minute=1))
    assert post_json(client, "/api/predict", {"inputs": "Hi"}).status_code == 200
    assert post_json(client, "/api/predict", {"inputs": "Hi"}).status_code == 429


def test_an_upstream_error_on_a_counted_request_still_carries_the_fields(settings, upstream):
    from tests.fakes.http_server import Reply

    upstream.enqueue(Reply(status=400, json={"error": "Input is too long"}))
    answer = generate(client_for(settings.with_changes(rate_limit_per_minute=5)))
    assert answer.status_code >= 400
    assert answer.headers["RateLimit"].startswith('"minute";r=4;')


def test_the_refusing_limit_is_one_log_field(settings, upstream, caplog):
    client = client_for(settings.with_changes(rate_limit_per_minute=1))
    generate(client)
    with caplog.at_level("INFO", logger="hfproxy"):
        generate(client, "203.0.113.7")
    records = [
        json.loads(r.getMessage().split(" ", 1)[1]) for r in caplog.records if r.getMessage().startswith("request ")
    ]
    assert records[-1]["limit"] == "rate" and records[-1]["code"] == "rate_limited"
    assert "203.0.113.7" not in caplog.text  # the address is not logged


def test_behind_the_signed_netlify_rewrite_the_netlify_client_ip_is_honoured_only_when_signed(settings, upstream):
    from tests.shared.test_proxy_signature import SECRET, netlify_token

    signed_settings = settings.with_changes(rate_limit_per_minute=1, proxy_signature_secret=SECRET)
    client = client_for(signed_settings)
    netlify_edge = "198.51.100.50"  # every proxied request arrives from Netlify's address

    def via_netlify(visitor: str, second: int):
        token = netlify_token(iat=time.time() - second)  # Netlify signs each request, iat in whole seconds
        return generate(client, netlify_edge, **{HEADER: token, "X-Nf-Client-Connection-Ip": visitor})

    # WHEN two visitors come through the signed rewrite, THEN each is its own client
    assert via_netlify("192.0.2.10", 3).status_code == 200
    assert via_netlify("192.0.2.11", 2).status_code == 200
    assert via_netlify("192.0.2.10", 1).status_code == 429
    # AND without a verified signature the header is never trusted (no secret: the socket counts)
    unsigned = client_for(settings.with_changes(rate_limit_per_minute=1))
    assert generate(unsigned, netlify_edge, **{"X-Nf-Client-Connection-Ip": "192.0.2.20"}).status_code == 200
    assert generate(unsigned, netlify_edge, **{"X-Nf-Client-Connection-Ip": "192.0.2.21"}).status_code == 429


def test_no_model_call_can_get_the_token_without_being_admitted(settings):
    # GIVEN a route that forgets to count before forwarding
    from shared.http import Response
    from shared.routes.route import Route

    def careless(request, scope):
        scope.call.request("POST", settings.hf_inference_url, {"inputs": "x"})
        return Response.json(200, {})

    app = ProxyApp(settings, routes=[Route("careless", ("/api/careless",), careless)])
    # THEN it never gets the token: a 500 without the token, not an uncounted upstream call
    answer = post_json(client_for_app(app), "/api/careless", {})
    assert answer.status_code == 500 and answer.get_json()["code"] == "internal_error"


def client_for_app(app):
    from werkzeug.test import Client

    return Client(app)


def test_windows_are_utc_minutes_and_days():
    charges = policy.charges_for(
        Settings(rate_limit_per_minute=1, client_daily_tokens=1, daily_token_budget=1), "c", 1, 86_400 * 3 + 61.5
    )
    assert [(c.limit_name, c.resets_at) for c in charges] == [
        ("rate", 86_400 * 3 + 120),
        ("client_tokens", 86_400 * 4),
        ("budget", 86_400 * 4),
    ]


def test_health_shows_the_configured_limits_and_store_but_no_counts(settings, upstream):
    # GIVEN limits (fail open), and a client that has used some of them
    limited = settings.with_changes(
        rate_limit_per_minute=5, client_daily_tokens=100, quota_store="memory", quota_fail_open=True
    )
    client = client_for(limited)
    generate(client)
    # WHEN anyone asks /api/health
    health = client.get("/api/health").get_json()
    # THEN it shows what the owner configured, never a count, and health itself is not counted
    assert health["limits"] == {
        "requests_per_minute": 5,
        "client_per_day": 100,
        "budget_per_day": None,
        "store": "memory",
        "fail_open": True,
    }
    assert "RateLimit" not in client.get("/api/health").headers


@pytest.mark.parametrize("limit", ["rate", "tokens"])
def test_a_replayed_netlify_signature_shares_one_allowance_whatever_address_it_names(settings, upstream, limit):
    # GIVEN the signed rewrite, and one signature captured off the wire (valid for its five minutes)
    from tests.shared.test_proxy_signature import SECRET, netlify_token

    limits = {"rate_limit_per_minute": 2} if limit == "rate" else {"client_daily_tokens": 20}
    client = client_for(settings.with_changes(proxy_signature_secret=SECRET, **limits))
    signed_at = int(time.time())  # whole seconds, so "another second" below is one for sure
    captured = netlify_token(iat=signed_at)

    def replay(address: str):
        return generate(client, "198.51.100.50", **{HEADER: captured, "X-Nf-Client-Connection-Ip": address})

    # WHEN it is replayed with a fresh client address each time (each address has its full allowance)
    answers = [replay(f"192.0.2.{i}") for i in range(1, 6)]
    # THEN the signature's own allowance stops it: as much as one client, no more
    assert [a.status_code for a in answers] == [200, 200, 429, 429, 429]
    assert answers[2].get_json()["code"] == ("rate_limited" if limit == "rate" else "client_quota_exceeded")
    # AND a visitor signed in another second is not held back by it
    fresh = generate(
        client,
        "198.51.100.50",
        **{HEADER: netlify_token(iat=signed_at - 1), "X-Nf-Client-Connection-Ip": "192.0.2.99"},
    )
    assert fresh.status_code == 200
