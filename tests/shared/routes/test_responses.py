"""POST /api/v1/responses (and /api/responses): what is forwarded, dropped and refused, the token
cap and its charge, the router's failures plain and part-way (in the shapes the SDKs raise),
the deadline, and no token in any answer or event."""

from __future__ import annotations

import json
import time

import pytest
from werkzeug.test import Client

from shared.adapter import CAN_STREAM_KEY
from shared.app import ProxyApp
from shared.upstreams import sse
from tests.conftest import TEST_TOKEN, client_for, post_json
from tests.fakes import hf_chat, hf_responses
from tests.fakes.http_server import Reply
from tests.leaks.forms import leaked

MODEL = "Qwen/Qwen2.5-7B-Instruct"
PATHS = ["/api/v1/responses", "/api/responses"]


@pytest.fixture
def api(responses_settings):
    return Client(ProxyApp(responses_settings.with_changes(model_aliases=(("qwen", MODEL),))))


def events_of(client, body, path="/api/v1/responses", can_stream=True) -> list[sse.Event]:
    resp = client.post(
        path, json={**body, "stream": True}, buffered=False, environ_overrides={CAN_STREAM_KEY: can_stream}
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    raw = b"".join(resp.response)
    resp.close()
    return list(sse.iter_events([raw]))


# --- what goes upstream ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_the_vetted_fields_go_to_the_router_with_the_servers_token(api, upstream, path):
    # WHEN an app sends what the SDKs send, fields that change nothing included
    tool = {"type": "function", "name": "lookup", "parameters": {"type": "object"}, "strict": True}
    body = {
        "model": "qwen",
        "input": [
            {"role": "developer", "content": "Be brief."},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
        ],
        "instructions": "You are careful.",
        "temperature": 0.3,
        "top_p": 0.9,
        "max_output_tokens": 64,
        "tools": [tool],
        "tool_choice": {"type": "function", "name": "lookup"},
        "parallel_tool_calls": False,
        "text": {"format": {"type": "json_schema", "name": "a", "schema": {"type": "object"}, "strict": True}},
        "store": False,
        "metadata": {"app": "health"},
        "user": "end-user-42",
        "service_tier": "auto",
        "prompt_cache_key": "k",
        "safety_identifier": "s",
    }
    resp = post_json(api, path, body, headers={"Authorization": "Bearer the-callers-key"})
    assert resp.status_code == 200, resp.text
    sent = upstream.received[-1]
    # THEN the router got the full model id, the forwarded fields as sent, and our token only
    assert sent.path == hf_responses.RESPONSES_PATH
    assert sent.headers["authorization"] == f"Bearer {TEST_TOKEN}"
    forwarded = sent.json()
    assert forwarded["model"] == MODEL and forwarded["max_output_tokens"] == 64 and forwarded["stream"] is False
    assert forwarded["tools"] == [tool] and forwarded["tool_choice"] == {"type": "function", "name": "lookup"}
    assert forwarded["text"] == body["text"] and forwarded["parallel_tool_calls"] is False
    assert forwarded["input"][1] == {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "Hi"}],
    }
    # AND nothing that identifies the end user, stores or tiers went along
    assert not {"store", "metadata", "user", "service_tier", "prompt_cache_key", "safety_identifier"} & set(forwarded)
    assert "the-callers-key" not in sent.body.decode() + repr(sent.headers)
    assert resp.json["output"][0]["content"][0]["text"] == "echo: Hi"


def test_without_max_output_tokens_the_router_is_asked_for_the_cap_by_the_default_model(api, upstream):
    assert post_json(api, "/api/v1/responses", {"input": "Hi"}).status_code == 200
    sent = upstream.received[-1].json()
    assert sent["max_output_tokens"] == 512 and sent["model"] == MODEL


def test_a_request_larger_than_what_remains_is_refused_at_the_cap(responses_settings, upstream):
    # GIVEN an allowance smaller than the cap
    client = client_for(responses_settings.with_changes(client_daily_tokens=responses_settings.chat_max_tokens - 1))
    # WHEN a request names no max_output_tokens: it is counted at the cap, so it does not fit
    refused = post_json(client, "/api/v1/responses", {"input": "Hi"})
    assert refused.status_code == 429 and refused.json["error"]["code"] == "client_quota_exceeded"
    # AND one that names a length that fits is forwarded
    assert post_json(client, "/api/v1/responses", {"input": "Hi", "max_output_tokens": 8}).status_code == 200
    assert len(upstream.received) == 1


@pytest.mark.parametrize(
    ("extra", "field", "said"),
    [
        ({"max_output_tokens": 513}, "max_output_tokens", "at most 512"),
        ({"previous_response_id": "resp_1"}, "previous_response_id", "keeps no state"),
        ({"conversation": {"id": "conv_1"}}, "conversation", "keeps no state"),
        ({"background": True}, "background", "not supported"),
        ({"tools": [{"type": "file_search", "vector_store_ids": ["v"]}]}, "tools", "'file_search'"),
        ({"tools": [{"type": "code_interpreter", "container": {"type": "auto"}}]}, "tools", "'code_interpreter'"),
        ({"model": "not/allowed"}, "model", "must be one of"),
        ({"seed": 1}, "seed", "Extra inputs"),
        ({"input": ""}, "input", "send some input"),
        (
            {"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]},
            "input",
            "input: item 0, part 0: only text parts are accepted, 'input_image' parts are refused",
        ),
        ({"input": [{"role": "tool", "content": "x"}]}, "input", "input: item 0: role: Input should be"),
        ({"input": [{"type": "reasoning", "summary": []}]}, "input", "item 0: 'reasoning' items are refused"),
        ({"input": [{"type": "function_call", "name": "f"}]}, "input", "input: item 0: call_id: Field required"),
    ],
)
def test_what_cannot_be_honoured_is_an_openai_400_naming_the_field(api, upstream, extra, field, said):
    resp = post_json(api, "/api/v1/responses", {"input": "Hi", **extra})
    assert resp.status_code == 400
    error = resp.json["error"]
    assert error["param"] == field and error["code"] == "validation_error" and error["type"] == "invalid_request_error"
    assert said in error["message"] and error["message"].startswith("The request body failed validation")
    assert upstream.received == []


def test_too_many_or_too_long_items_are_refused(responses_settings, upstream):
    client = client_for(responses_settings.with_changes(chat_max_messages=2, chat_max_content_chars=10))
    many = [{"role": "user", "content": "Hi"}] * 3
    assert "at most 2 items" in post_json(client, "/api/responses", {"input": many}).json["error"]["message"]
    assert "at most 10 characters" in post_json(client, "/api/responses", {"input": "x" * 11}).json["error"]["message"]
    assert upstream.received == []


# --- the router's failures ------------------------------------------------------------------------


def test_a_plain_answer_the_router_marks_failed_is_a_502_with_its_sentence(api, upstream):
    # GIVEN the router answers 200 with a failed Response (its server runs plain requests as streams)
    upstream.enqueue(Reply(json=hf_responses.failed(MODEL)))
    resp = post_json(api, "/api/v1/responses", {"input": "Hi"})
    # THEN our client gets an OpenAI-shaped 502 carrying the router's sentence, not an empty answer
    assert resp.status_code == 502
    assert resp.json["error"]["code"] == "upstream_stream_error"
    assert resp.json["error"]["message"] == f"The model failed while answering: {hf_responses.CRASH}"


@pytest.mark.parametrize("can_stream", [True, False], ids=["streamed", "buffered"])
@pytest.mark.parametrize("failure", ["response.failed", "error"])
@pytest.mark.parametrize("named", [False, True], ids=["data-only", "named"])
def test_a_failure_part_way_ends_with_one_error_event_the_sdks_raise(api, upstream, failure, named, can_stream):
    # GIVEN a router that fails after one delta (its response.failed, or OpenAI's error event)
    upstream.enqueue(hf_responses.stream(["Hel", "lo"], fail_after=1, failure=failure, named=named))
    events = events_of(api, {"input": "Hi"}, can_stream=can_stream)
    # THEN the events before it are relayed in order, numbered as the router numbered them
    kinds = [json.loads(e.data)["type"] for e in events]
    assert kinds[:-1] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
    ]
    # AND the last is our error: the Responses error event (numbered next) around OpenAI's error object
    last = events[-1]
    assert last.event == "error"
    data = json.loads(last.data)
    sentence = f"The model failed while answering: {hf_responses.CRASH}"
    assert data["type"] == "error" and data["sequence_number"] == 5
    assert (data["code"], data["message"]) == ("upstream_stream_error", sentence)
    assert data["error"] == {
        "message": sentence,
        "type": "server_error",
        "code": "upstream_stream_error",
        "param": None,
    }


def test_a_stream_that_stops_before_its_final_event_is_interrupted(api, upstream):
    reply = hf_responses.stream(["Hel", "lo"])
    reply.stream = reply.stream[:5]  # up to the first delta, then the connection ends
    upstream.enqueue(reply)
    last = json.loads(events_of(api, {"input": "Hi"})[-1].data)
    assert last["code"] == "upstream_stream_interrupted" and last["sequence_number"] == 5


def test_a_stalled_stream_ends_with_a_timeout_event_at_the_deadline(responses_settings, upstream):
    # GIVEN a 0.5 s deadline and a router that stalls after its first delta
    client = Client(ProxyApp(responses_settings.with_changes(request_deadline=0.5, deadline_margin=0)))
    reply = hf_responses.stream(["Hel", "lo"], hold_after=1)
    gate = hf_chat.gate_of(reply)
    upstream.enqueue(reply)
    started = time.monotonic()
    try:
        events = events_of(client, {"input": "Hi"})
    finally:
        gate.set()
    # THEN the client gets the delta, then a timeout error event well before the stall would end
    assert time.monotonic() - started < 5
    assert json.loads(events[4].data)["delta"] == "Hel"
    assert events[-1].event == "error" and json.loads(events[-1].data)["code"] == "upstream_timeout"


def test_a_refusal_before_the_stream_is_an_openai_json_error(api, upstream):
    upstream.enqueue(Reply(429, json={"error": "Rate limit reached"}, headers={"Retry-After": "9"}))
    resp = api.post("/api/v1/responses", json={"input": "Hi", "stream": True})
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "9"
    assert resp.json["error"]["code"] == "upstream_rate_limited"


# --- the token ------------------------------------------------------------------------------------


def test_no_token_in_a_plain_answer_or_a_failed_one(api, upstream):
    upstream.enqueue(
        Reply(json=hf_responses.response(f"key {TEST_TOKEN}", MODEL)),
        Reply(json=hf_responses.failed(MODEL, f"bad key Bearer {TEST_TOKEN}")),
        hf_responses.stream(["x"], fail_after=0, message=f"bad key {TEST_TOKEN}"),
    )
    plain = post_json(api, "/api/v1/responses", {"input": "Hi"}).get_data(as_text=True)
    failed = post_json(api, "/api/v1/responses", {"input": "Hi"}).get_data(as_text=True)
    streamed = "".join(e.data for e in events_of(api, {"input": "Hi"}))
    for text in (plain, failed, streamed):
        assert leaked(text, TEST_TOKEN) == [], text


# --- demo -----------------------------------------------------------------------------------------


def test_demo_mode_answers_both_forms_offline():
    from shared.settings import Settings

    client = Client(ProxyApp(Settings(demo_mode=True, demo_word_delay=0.0)))
    plain = post_json(client, "/api/v1/responses", {"input": "Hi"})
    assert plain.status_code == 200 and plain.headers["X-HFProxy-Mode"] == "demo"
    assert plain.json["output"][0]["content"][0]["text"].startswith("[demo]")
    events = events_of(client, {"input": "Hi"})
    numbers = [json.loads(e.data)["sequence_number"] for e in events]
    assert numbers == list(range(len(events))) and json.loads(events[-1].data)["type"] == "response.completed"
    assert all(e.event == json.loads(e.data)["type"] for e in events)  # event: lines, as OpenAI writes them
