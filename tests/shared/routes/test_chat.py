"""POST /api/chat: allowlist and limits, the router's errors, health (streaming: test_chat_stream.py)."""

from __future__ import annotations

import pytest
from werkzeug.test import Client

from shared.adapter import CAN_STREAM_KEY
from shared.app import ProxyApp
from tests.conftest import TEST_TOKEN, post_json
from tests.fakes import hf_chat
from tests.fakes.http_server import Reply

HELLO = {"messages": [{"role": "user", "content": "Hello"}]}


def stream_post(client, payload, environ=None):
    return client.post("/api/chat", json=payload, buffered=False, environ_overrides=environ or {})


def parse(raw: bytes) -> list[tuple[str, str]]:
    from shared.upstreams import sse

    return [(e.event, e.data) for e in sse.iter_events([raw])]


# --- non-streamed ---------------------------------------------------------------------------------


def test_a_chat_is_forwarded_in_the_openai_shape_with_the_servers_token(chat, upstream):
    # WHEN a browser sends a conversation with sampling options
    payload = {
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        "temperature": 0.5,
        "top_p": 0.9,
        "max_tokens": 50,
    }
    resp = post_json(chat, "/api/chat", payload, headers={"Authorization": "Bearer caller"})
    # THEN the router gets the vetted body with the default model and our token
    assert resp.status_code == 200, resp.text
    sent = upstream.received[-1]
    assert sent.path == hf_chat.CHAT_PATH
    assert sent.headers["authorization"] == f"Bearer {TEST_TOKEN}"
    assert sent.json() == {**payload, "model": "Qwen/Qwen2.5-7B-Instruct", "stream": False}
    # AND the answer comes back unchanged, in the OpenAI shape
    assert resp.json == hf_chat.completion("echo: Hi", "Qwen/Qwen2.5-7B-Instruct")


def test_max_tokens_defaults_to_the_servers_cap(chat, upstream):
    post_json(chat, "/api/chat", HELLO)
    assert upstream.received[-1].json()["max_tokens"] == 512


def test_an_allowed_model_is_used(chat, upstream):
    resp = post_json(chat, "/api/chat", {**HELLO, "model": "meta-llama/Llama-3.1-8B-Instruct"})
    assert resp.status_code == 200
    assert upstream.received[-1].json()["model"] == "meta-llama/Llama-3.1-8B-Instruct"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**HELLO, "model": "someone/expensive-405B"}, "model"),
        ({**HELLO, "max_tokens": 513}, "max_tokens"),
        ({**HELLO, "max_tokens": 0}, "max_tokens"),
        ({**HELLO, "temperature": 2.5}, "temperature"),
        ({**HELLO, "top_p": -0.1}, "top_p"),
        ({**HELLO, "stream": "yes"}, "stream"),
        ({**HELLO, "logprobs": True}, "logprobs"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "user", "content": "   "}]}, "messages"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages.0"),  # a tool answer names its call
        (
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
            "messages.0.content",
        ),
        ({"messages": [{"role": "user", "content": "x", "name": 3}]}, "messages.0.name"),
        ({"messages": "Hello"}, "messages"),
        ({}, "messages"),
    ],
)
def test_invalid_chats_get_400_and_nothing_goes_upstream(chat, upstream, payload, field):
    resp = post_json(chat, "/api/chat", payload)
    assert resp.status_code == 400
    assert resp.json["code"] == "validation_error"
    assert field in [d["field"] for d in resp.json["details"]], resp.json
    assert upstream.received == []


def test_message_count_and_length_caps_are_configurable(chat_settings, upstream):
    # GIVEN a server that allows 2 messages of 10 characters
    client = Client(ProxyApp(chat_settings.with_changes(chat_max_messages=2, chat_max_content_chars=10)))
    two = {"messages": [{"role": "user", "content": "x" * 10}, {"role": "user", "content": "ok"}]}
    assert post_json(client, "/api/chat", two).status_code == 200
    # THEN a third message, or an 11th character, is refused with the limit in the message
    three = {"messages": two["messages"] + [{"role": "user", "content": "x"}]}
    resp = post_json(client, "/api/chat", three)
    assert resp.status_code == 400 and "at most 2 messages" in resp.text
    long = {"messages": [{"role": "user", "content": "x" * 11}]}
    resp = post_json(client, "/api/chat", long)
    assert resp.status_code == 400 and "at most 10 characters" in resp.text


def test_the_allowlist_is_the_operators(chat_settings, upstream):
    client = Client(ProxyApp(chat_settings.with_changes(chat_models=("a/b",), chat_default_model="a/b")))
    assert post_json(client, "/api/chat", {**HELLO, "model": "Qwen/Qwen2.5-7B-Instruct"}).status_code == 400
    assert post_json(client, "/api/chat", HELLO).status_code == 200
    assert upstream.received[-1].json()["model"] == "a/b"


def test_rejected_content_is_never_echoed(chat, upstream):
    secret = "my private symptom description"
    resp = post_json(chat, "/api/chat", {"messages": [{"role": "patient", "content": secret}], "model": secret})
    assert resp.status_code == 400
    assert secret not in resp.text


@pytest.mark.parametrize(
    ("row", "status", "code", "says"),
    [
        ("model_not_supported_400", 502, "model_not_served", "is not supported by any provider you have enabled"),
        ("unauthorized_401", 502, "upstream_auth_failed", "HF_TOKEN"),
        ("credits_402", 502, "upstream_quota_exceeded", "credits"),
        ("gated_403", 502, "model_access_denied", "license"),
        ("token_permissions_403", 502, "upstream_auth_failed", "HF_TOKEN"),
        ("not_found_404", 502, "model_not_served", "CHAT_MODELS"),
        ("rate_limited_429", 429, "upstream_rate_limited", "9 s"),
        ("server_error_500", 502, "upstream_error", "HTTP 500"),
        ("unavailable_503", 503, "upstream_unavailable", "unavailable"),
        ("gateway_timeout_504", 504, "upstream_timeout", "did not answer in time"),
        ("bad_json_200", 502, "upstream_bad_response", "not valid JSON"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_router_errors_follow_the_status_map(chat, upstream, row, status, code, says, stream):
    # GIVEN the router refuses (before any stream starts)
    upstream.enqueue(hf_chat.ROUTER_ERRORS[row])
    resp = post_json(chat, "/api/chat", {**HELLO, "stream": stream})
    # THEN the client gets our JSON envelope with the documented status, streamed or not
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.json["code"] == code
    assert says in resp.json["error"]
    if status == 429:
        assert resp.headers["Retry-After"] == "9"


def test_the_token_never_comes_back(chat, upstream):
    upstream.enqueue(Reply(json=hf_chat.completion(f"your token is {TEST_TOKEN}")))
    resp = post_json(chat, "/api/chat", HELLO)
    assert TEST_TOKEN not in resp.text and "[redacted]" in resp.text


def test_unreachable_router_is_502(chat_settings):
    from tests.conftest import refused_url

    client = Client(ProxyApp(chat_settings.with_changes(hf_chat_url=refused_url())))
    for stream in (False, True):
        resp = post_json(client, "/api/chat", {**HELLO, "stream": stream})
        assert resp.status_code == 502 and resp.json["code"] == "upstream_unreachable"


def test_health_tells_the_page_the_models_and_whether_it_can_stream(chat, upstream):
    # GIVEN the same app behind an adapter that can stream, and one that cannot
    streaming = chat.get("/api/health").json
    buffered = chat.get("/api/health", environ_overrides={CAN_STREAM_KEY: False}).json
    # THEN the page learns the allowlist, the default model, and the platform's capability
    assert streaming["upstreams"]["chat"] == {
        "configured": True,
        "host": "127.0.0.1",
        "default_model": "Qwen/Qwen2.5-7B-Instruct",
        "models": ["Qwen/Qwen2.5-7B-Instruct", "meta-llama/Llama-3.1-8B-Instruct", "openai/gpt-oss-20b"],
    }
    assert (streaming["streaming"], buffered["streaming"]) == (True, False)
