"""POST /api/chat: allowlist and limits, the router's errors, streaming relay, buffered fallback, demo."""

from __future__ import annotations

import json

import pytest
from werkzeug.test import Client

from shared.adapter import CAN_STREAM_KEY
from shared.app import ProxyApp
from tests.conftest import TEST_TOKEN, post_json
from tests.fakes import hf_chat
from tests.fakes.http_server import Reply

HELLO = {"messages": [{"role": "user", "content": "Hello"}]}


@pytest.fixture
def chat(chat_settings, telemetry):
    return Client(ProxyApp(chat_settings, telemetry=telemetry))


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


# --- streamed -------------------------------------------------------------------------------------


def test_the_first_event_reaches_the_client_before_the_upstream_has_finished(chat, upstream, telemetry):
    # GIVEN an upstream that sends two words, then waits for the test before sending the rest
    reply = hf_chat.words_stream(["Drink", " water", " often"], gate_after=2)
    upstream.enqueue(reply)
    # WHEN the client asks for a stream and reads it incrementally
    resp = stream_post(chat, {**HELLO, "stream": True})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert resp.headers["X-Accel-Buffering"] == "no"
    assert "Content-Length" not in resp.headers
    body = iter(resp.response)
    first = next(body)
    # THEN the first word is already here while the upstream is still held mid-stream
    assert not reply.finished.is_set()
    ((kind, data),) = parse(first)
    assert (kind, json.loads(data)) == ("message", hf_chat.chunk("Drink"))
    assert telemetry.records == []  # the request is not over yet
    # WHEN the upstream carries on
    hf_chat.gate_of(reply).set()
    rest = b"".join(body)
    resp.close()
    events = parse(first + rest)
    # THEN every chunk arrives in order and the stream ends on [DONE]
    assert [json.loads(d)["choices"][0]["delta"].get("content") for _, d in events[:-1]] == [
        "Drink",
        " water",
        " often",
        None,
    ]
    assert events[-1] == ("message", "[DONE]")
    assert reply.finished.wait(5)  # the fake sets it after its last write: wait for that thread, bounded
    # AND the upstream was asked to stream, and the request was recorded once, as complete
    assert upstream.received[-1].json()["stream"] is True
    assert upstream.received[-1].headers["accept"].startswith("text/event-stream")
    assert len(telemetry.records) == 1
    record = telemetry.records[0]
    assert (record.status, record.stream_end, record.code, record.upstream_status) == (200, "done", None, 200)


def test_tgi_style_data_without_space_and_crlf_are_relayed(chat, upstream):
    # GIVEN an upstream writing `data:{...}` with CRLF line endings and keep-alive comments
    pieces = [
        b": ping\r\n\r\n",
        hf_chat.event(hf_chat.chunk("Hi"), spaced=False, newline=b"\r\n"),
        hf_chat.event("[DONE]", spaced=False, newline=b"\r\n"),
    ]
    upstream.enqueue(Reply(stream=pieces, content_type="text/event-stream"))
    resp = stream_post(chat, {**HELLO, "stream": True})
    raw = b"".join(resp.response)
    resp.close()
    # THEN the client gets normal `data: ` events (comments dropped), ending on [DONE]
    assert raw.startswith(b"data: {") and raw.endswith(b"data: [DONE]\n\n")
    assert [d for _, d in parse(raw)][-1] == "[DONE]"
    assert b"ping" not in raw


def test_a_close_delimited_upstream_stream_is_relayed_too(chat, upstream):
    upstream.enqueue(hf_chat.words_stream(["a", "b"], chunked=False))
    resp = stream_post(chat, {**HELLO, "stream": True})
    events = parse(b"".join(resp.response))
    resp.close()
    assert events[-1] == ("message", "[DONE]") and len(events) == 4


@pytest.mark.parametrize(
    "error_data",
    [
        {
            "error": "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096",
            "error_type": "validation",
        },
        {"error": {"message": "Provider overloaded", "type": "server_error"}},
    ],
)
def test_an_upstream_error_mid_stream_becomes_a_final_error_event(chat, upstream, telemetry, error_data):
    # GIVEN a stream that starts, then reports an error in-band (HTTP status already 200)
    pieces = [hf_chat.event(hf_chat.chunk("Partial")), hf_chat.event(error_data), hf_chat.event(hf_chat.chunk("x"))]
    upstream.enqueue(Reply(stream=pieces, content_type="text/event-stream"))
    resp = stream_post(chat, {**HELLO, "stream": True})
    events = parse(b"".join(resp.response))
    resp.close()
    # THEN the client got the partial text, then one error event with our envelope, and nothing after
    assert len(events) == 2
    kind, data = events[-1]
    assert kind == "error"
    body = json.loads(data)
    assert body["code"] == "upstream_stream_error"
    assert ("must be <= 4096" in body["error"]) or ("Provider overloaded" in body["error"])
    assert (telemetry.records[0].stream_end, telemetry.records[0].code) == ("error", "upstream_stream_error")


def test_an_upstream_that_stops_without_done_is_reported(chat, upstream):
    upstream.enqueue(hf_chat.words_stream(["cut"], done=False))
    resp = stream_post(chat, {**HELLO, "stream": True})
    events = parse(b"".join(resp.response))
    resp.close()
    assert events[-1][0] == "error"
    assert json.loads(events[-1][1])["code"] == "upstream_stream_interrupted"


def test_a_stalled_stream_ends_with_a_timeout_event_at_the_deadline(chat_settings, upstream):
    # GIVEN a request deadline of 0.5 s and an upstream that stalls after one word
    client = Client(ProxyApp(chat_settings.with_changes(request_deadline=0.5, deadline_margin=0)))
    reply = hf_chat.words_stream(["slow"], gate_after=1)
    upstream.enqueue(reply)
    try:
        resp = stream_post(client, {**HELLO, "stream": True})
        events = parse(b"".join(resp.response))
        resp.close()
    finally:
        hf_chat.gate_of(reply).set()
    # THEN the client gets the word, then a timeout error event: never a hung connection
    assert json.loads(events[0][1])["choices"][0]["delta"]["content"] == "slow"
    assert events[-1][0] == "error" and json.loads(events[-1][1])["code"] == "upstream_timeout"


def test_closing_the_stream_early_drops_the_upstream_and_records_once(chat, upstream, telemetry):
    # GIVEN a long upstream stream, held after the first word
    reply = hf_chat.words_stream([f" w{i}" for i in range(50)], gate_after=1, stream_delay=0.01)
    upstream.enqueue(reply)
    resp = stream_post(chat, {**HELLO, "stream": True})
    next(iter(resp.response))
    # WHEN the client goes away (the WSGI server closes the response iterable)
    resp.close()
    hf_chat.gate_of(reply).set()
    # THEN the upstream sees the connection dropped before it could finish
    assert reply.aborted.wait(5)
    assert not reply.finished.is_set()
    # AND the request is recorded exactly once, as abandoned by the client
    assert len(telemetry.records) == 1 and telemetry.records[0].stream_end == "client_gone"


def test_an_upstream_that_ignores_stream_is_passed_on_as_json(chat, upstream):
    upstream.enqueue(Reply(json=hf_chat.completion("whole answer")))
    resp = post_json(chat, "/api/chat", {**HELLO, "stream": True})
    assert resp.status_code == 200 and resp.json["choices"][0]["message"]["content"] == "whole answer"


def test_the_token_is_redacted_from_streamed_events(chat, upstream):
    upstream.enqueue(hf_chat.words_stream([f"token {TEST_TOKEN}"]))
    resp = stream_post(chat, {**HELLO, "stream": True})
    raw = b"".join(resp.response)
    resp.close()
    assert TEST_TOKEN.encode() not in raw and b"[redacted]" in raw


def test_streamed_answers_carry_cors_and_request_id(chat, upstream):
    upstream.enqueue(hf_chat.words_stream(["x"]))
    resp = chat.post(
        "/api/chat", json={**HELLO, "stream": True}, headers={"Origin": "https://app.example"}, buffered=False
    )
    b"".join(resp.response)
    resp.close()
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-HFProxy-Streaming" in resp.headers["Access-Control-Expose-Headers"]
    assert resp.headers["X-Request-Id"]


# --- platforms that cannot stream ------------------------------------------------------------------


def test_where_the_adapter_cannot_stream_the_answer_is_a_buffered_event_stream(chat, upstream):
    # GIVEN an adapter that declares it cannot stream (as the Lambda adapter does)
    resp = chat.post("/api/chat", json={**HELLO, "stream": True}, environ_overrides={CAN_STREAM_KEY: False})
    # THEN the router streams, and the client gets every chunk and [DONE] in one text/event-stream body
    assert upstream.received[-1].json()["stream"] is True
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    assert resp.headers["X-HFProxy-Streaming"] == "unavailable"
    assert int(resp.headers["Content-Length"]) == len(resp.data)
    events = [data for _, data in parse(resp.data)]
    assert events[-1] == "[DONE]"
    text = "".join(json.loads(d)["choices"][0]["delta"].get("content", "") for d in events[:-1])
    assert text == "echo: Hello"


def test_no_streaming_header_when_no_stream_was_asked(chat, upstream):
    resp = chat.post("/api/chat", json=HELLO, environ_overrides={CAN_STREAM_KEY: False})
    assert "X-HFProxy-Streaming" not in resp.headers


# --- demo mode ------------------------------------------------------------------------------------


def test_demo_mode_streams_word_by_word_offline(chat_settings, upstream):
    client = Client(ProxyApp(chat_settings.with_changes(demo_mode=True, hf_token=None)))
    resp = stream_post(client, {**HELLO, "stream": True})
    chunks = list(resp.response)
    resp.close()
    assert resp.headers["X-HFProxy-Mode"] == "demo"
    # THEN each word is its own event, the text is deterministic, and the stream ends on [DONE]
    events = [data for chunk in chunks for _, data in parse(chunk)]
    assert events[-1] == "[DONE]"
    words = [json.loads(d)["choices"][0]["delta"].get("content", "") for d in events[:-1]]
    assert len(chunks) == len(events) > 5
    text = "".join(words)
    plain = post_json(client, "/api/chat", HELLO).json["choices"][0]["message"]["content"]
    assert text == plain and text.startswith("[demo]")
    assert upstream.received == []


def test_demo_mode_without_streaming_platform_is_buffered(chat_settings, upstream):
    client = Client(ProxyApp(chat_settings.with_changes(demo_mode=True, hf_token=None)))
    resp = client.post("/api/chat", json={**HELLO, "stream": True}, environ_overrides={CAN_STREAM_KEY: False})
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    assert resp.headers["X-HFProxy-Streaming"] == "unavailable"
    events = [data for _, data in parse(resp.data)]
    assert events[-1] == "[DONE]" and json.loads(events[0])["object"] == "chat.completion.chunk"


# --- health ---------------------------------------------------------------------------------------


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
