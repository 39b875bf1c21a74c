"""POST /api/generate with "stream": true: TGI token events relayed as they arrive."""

from __future__ import annotations

import json
import threading

import pytest
from werkzeug.test import Client

from shared.adapter import CAN_STREAM_KEY
from shared.app import ProxyApp
from shared.upstreams import sse
from tests.conftest import post_json
from tests.fakes import hf_chat
from tests.fakes.http_server import Reply


def read(resp) -> list[sse.Event]:
    raw = b"".join(resp.response)
    resp.close()
    return list(sse.iter_events([raw]))


@pytest.mark.parametrize("spaced", [False, True])
def test_tgi_tokens_are_relayed_in_order(client, upstream, spaced):
    # GIVEN a TGI-backed model streaming `data:{` (or `data: {`) token events
    upstream.enqueue(hf_chat.tgi_stream(["Hello", " there", "!"], spaced=spaced))
    resp = client.post("/api/generate", json={"inputs": "Hi", "stream": True}, buffered=False)
    # THEN the upstream was asked to stream, and the client gets each token event, the last complete
    assert upstream.received[-1].json() == {"inputs": "Hi", "stream": True, "parameters": {"max_new_tokens": 512}}
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    events = read(resp)
    assert [e.json()["token"]["text"] for e in events] == ["Hello", " there", "!"]
    assert events[-1].json()["generated_text"] == "Hello there!"


def test_the_first_token_arrives_before_the_model_has_finished(client, upstream):
    reply = hf_chat.tgi_stream(["a", "b"])
    reply.stream.insert(1, threading.Event())
    upstream.enqueue(reply)
    resp = client.post("/api/generate", json={"inputs": "Hi", "stream": True}, buffered=False)
    body = iter(resp.response)
    first = next(body)
    assert not reply.finished.is_set()
    assert json.loads(next(sse.iter_events([first])).data)["token"]["text"] == "a"
    hf_chat.gate_of(reply).set()
    b"".join(body)
    resp.close()
    assert reply.finished.wait(5)  # the fake sets it after its last write, which may follow our last read


def test_a_model_that_cannot_stream_gets_a_400_with_its_reason(client, upstream):
    # GIVEN a non-TGI pipeline model (docs/upstreams.md: 400 "`stream` is not supported for this model")
    upstream.enqueue(Reply(400, json={"error": "`stream` is not supported for this model"}))
    resp = post_json(client, "/api/generate", {"inputs": "Hi", "stream": True})
    assert resp.status_code == 400
    assert resp.json["code"] == "upstream_rejected_request"
    assert "`stream` is not supported" in resp.json["error"]


def test_a_tgi_error_mid_stream_is_the_final_event(client, upstream):
    pieces = [
        hf_chat.event({"token": {"text": "a"}, "generated_text": None}, spaced=False),
        hf_chat.event(
            {"error": "Request failed during generation: out of memory", "error_type": "generation"}, spaced=False
        ),
    ]
    upstream.enqueue(Reply(stream=pieces, content_type="text/event-stream"))
    events = read(client.post("/api/generate", json={"inputs": "Hi", "stream": True}, buffered=False))
    assert events[-1].event == "error"
    assert events[-1].json()["code"] == "upstream_stream_error"
    assert "out of memory" in events[-1].json()["error"]


def test_a_tgi_stream_cut_before_its_final_token_is_reported(client, upstream):
    reply = hf_chat.tgi_stream(["a", "b"])
    reply.stream.pop()  # the event carrying generated_text never comes
    upstream.enqueue(reply)
    events = read(client.post("/api/generate", json={"inputs": "Hi", "stream": True}, buffered=False))
    assert events[-1].json()["code"] == "upstream_stream_interrupted"


def test_without_streaming_platform_generate_is_a_buffered_event_stream(settings, upstream):
    # GIVEN a TGI model that streams, behind an adapter that cannot
    upstream.enqueue(hf_chat.tgi_stream(["Hi", " there"]))
    resp = Client(ProxyApp(settings)).post(
        "/api/generate", json={"inputs": "Hi", "stream": True}, environ_overrides={CAN_STREAM_KEY: False}
    )
    # THEN the model is asked for its stream and every token event arrives in one buffered body
    assert upstream.received[-1].json() == {"inputs": "Hi", "stream": True, "parameters": {"max_new_tokens": 512}}
    assert resp.status_code == 200 and resp.headers["X-HFProxy-Streaming"] == "unavailable"
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    events = [json.loads(e.data) for e in sse.iter_events([resp.data])]
    assert [e["token"]["text"] for e in events] == ["Hi", " there"]
    assert events[-1]["generated_text"] == "Hi there"


def test_stream_must_be_a_boolean(client, upstream):
    resp = post_json(client, "/api/generate", {"inputs": "Hi", "stream": "true"})
    assert resp.status_code == 400 and resp.json["details"][0]["field"] == "stream"
    assert upstream.received == []
