"""POST /api/chat streamed: the relay (first event early, TGI and close-delimited framing, in-band
errors, stalls, an early close, the token redacted), the buffered fallback, and demo mode."""

from __future__ import annotations

import json

import pytest
from werkzeug.test import Client

from shared.adapter import CAN_STREAM_KEY
from shared.app import ProxyApp
from tests.conftest import TEST_TOKEN, post_json
from tests.fakes import hf_chat
from tests.fakes.http_server import Reply
from tests.shared.routes.test_chat import HELLO, parse, stream_post

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
