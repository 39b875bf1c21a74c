"""POST /api/generate keeps answering when its model is not served: once, through the router's chat.

One fake upstream on 127.0.0.1 answers both the text-generation path and /v1/chat/completions;
replies are queued in the order the proxy asks (text generation first, then the fallback).
"""

from __future__ import annotations

import json

import pytest
from werkzeug.test import Client

from shared.adapter import CAN_STREAM_KEY
from shared.app import ProxyApp
from shared.upstreams import sse
from tests.conftest import MODEL_PATH, TEST_TOKEN, post_json
from tests.fakes import hf_chat
from tests.fakes.hf_inference import ERROR_ROWS, NOT_SERVED_ROWS, echo_generation
from tests.fakes.http_server import Reply

FALLBACK = "acme/Small-Chat-1B"
PROMPT = "Once upon a time"


@pytest.fixture
def fallback_settings(chat_settings):
    return chat_settings.with_changes(generate_fallback_model=FALLBACK)


@pytest.fixture
def client(fallback_settings, telemetry) -> Client:
    return Client(ProxyApp(fallback_settings, telemetry=telemetry))


def events(resp) -> list[sse.Event]:
    raw = b"".join(resp.response)
    resp.close()
    return list(sse.iter_events([raw]))


def paths(upstream) -> list[str]:
    return [r.path for r in upstream.received]


# --- not streamed ----------------------------------------------------------------------------------


@pytest.mark.parametrize("row", ["not_found_404", "retired_410", "provider_400", "task_400"])
def test_a_model_not_served_is_answered_by_the_fallback_in_the_text_generation_shape(client, upstream, row):
    # GIVEN gpt2 is not served, and the fallback chat model answers
    upstream.enqueue(NOT_SERVED_ROWS[row], Reply(json=hf_chat.completion("there was a fox.", FALLBACK)))
    # WHEN a text-generation request comes in
    resp = post_json(client, "/api/generate", {"inputs": PROMPT})
    # THEN it is answered once through the chat route, prompt first (the pipeline's default)
    assert resp.status_code == 200, resp.text
    assert resp.json == [{"generated_text": "Once upon a time there was a fox."}]
    assert paths(upstream) == [MODEL_PATH, hf_chat.CHAT_PATH]
    assert resp.headers["X-HFProxy-Model"] == FALLBACK
    # AND the chat model was asked to continue the prompt, with our token
    sent = upstream.received[1]
    assert sent.headers["authorization"] == f"Bearer {TEST_TOKEN}"
    assert sent.json()["model"] == FALLBACK
    assert sent.json()["messages"][-1] == {"role": "user", "content": PROMPT}
    assert "stream" not in sent.json()


def test_the_parameters_are_mapped_to_the_chat_request(client, upstream):
    params = {"max_new_tokens": 20, "temperature": 7.5, "top_p": 0.9, "stop": ["\n"], "seed": 42, "top_k": 5}
    upstream.enqueue(NOT_SERVED_ROWS["provider_400"], Reply(json=hf_chat.completion("x")))
    post_json(client, "/api/generate", {"inputs": PROMPT, "parameters": params})
    sent = upstream.received[1].json()
    # THEN max_new_tokens is max_tokens, temperature is clamped to the chat range, the rest as sent
    assert {k: sent.get(k) for k in ("max_tokens", "temperature", "top_p", "stop", "seed")} == {
        "max_tokens": 20,
        "temperature": 2.0,
        "top_p": 0.9,
        "stop": ["\n"],
        "seed": 42,
    }
    assert "top_k" not in sent and "parameters" not in sent


def test_without_max_new_tokens_the_chat_gets_the_generate_cap(client, upstream, fallback_settings):
    upstream.enqueue(NOT_SERVED_ROWS["not_found_404"], Reply(json=hf_chat.completion("x")))
    post_json(client, "/api/generate", {"inputs": PROMPT})
    assert upstream.received[1].json()["max_tokens"] == fallback_settings.max_new_tokens


@pytest.mark.parametrize(("full", "expected"), [(True, "Once upon a time, a fox."), (False, ", a fox.")])
def test_return_full_text_decides_whether_the_prompt_comes_first(client, upstream, full, expected):
    upstream.enqueue(NOT_SERVED_ROWS["not_found_404"], Reply(json=hf_chat.completion(", a fox.")))
    resp = post_json(client, "/api/generate", {"inputs": PROMPT, "parameters": {"return_full_text": full}})
    assert resp.json == [{"generated_text": expected}]


def test_other_errors_do_not_fall_back(client, upstream):
    upstream.enqueue(ERROR_ROWS["rate_limited_429"])
    resp = post_json(client, "/api/generate", {"inputs": PROMPT})
    assert resp.status_code == 429 and paths(upstream) == [MODEL_PATH]
    assert resp.headers["X-HFProxy-Model"] == "openai-community/gpt2"


def test_with_the_fallback_off_the_operator_is_told_both_ways_out(fallback_settings, upstream):
    # GIVEN GENERATE_FALLBACK_MODEL set to the empty string
    client = Client(ProxyApp(fallback_settings.with_changes(generate_fallback_model="")))
    upstream.enqueue(NOT_SERVED_ROWS["provider_400"])
    resp = post_json(client, "/api/generate", {"inputs": PROMPT})
    # THEN no chat call, and a 502 naming both settings
    assert resp.status_code == 502 and resp.json["code"] == "model_not_served"
    assert "HF_INFERENCE_URL" in resp.json["error"] and "GENERATE_FALLBACK_MODEL" in resp.json["error"]
    assert paths(upstream) == [MODEL_PATH]


@pytest.mark.parametrize(
    ("reply", "status", "code"),
    [
        (hf_chat.ROUTER_ERRORS["model_not_supported_400"], 502, "model_not_served"),
        (hf_chat.ROUTER_ERRORS["rate_limited_429"], 429, "upstream_rate_limited"),
        (hf_chat.ROUTER_ERRORS["server_error_500"], 502, "upstream_error"),
        (hf_chat.ROUTER_ERRORS["bad_json_200"], 502, "upstream_bad_response"),
        (Reply(json={"choices": []}), 502, "upstream_bad_response"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_a_failing_fallback_answers_its_own_mapped_error_and_is_not_retried(
    client, upstream, telemetry, reply, status, code, stream
):
    # GIVEN gpt2 is not served and the fallback fails too
    upstream.enqueue(NOT_SERVED_ROWS["not_found_404"], reply)
    resp = post_json(client, "/api/generate", {"inputs": PROMPT, "stream": stream})
    # THEN the fallback's error, exactly one fallback, and the answer names the model that failed
    assert resp.status_code == status, resp.text
    assert resp.json["code"] == code
    assert paths(upstream) == [MODEL_PATH, hf_chat.CHAT_PATH]
    assert resp.headers["X-HFProxy-Model"] == FALLBACK
    if code == "model_not_served":
        assert "GENERATE_FALLBACK_MODEL" in resp.json["error"]
    assert telemetry.records[-1].answered_by == FALLBACK


# --- streamed --------------------------------------------------------------------------------------


def test_a_streamed_request_is_streamed_back_as_text_generation_token_events(client, upstream):
    # GIVEN gpt2 refuses the stream as not served, and the fallback streams chat chunks
    upstream.enqueue(NOT_SERVED_ROWS["task_400"], hf_chat.words_stream(["there", " was", " a fox."]))
    resp = client.post("/api/generate", json={"inputs": PROMPT, "stream": True}, buffered=False)
    # THEN the client gets TGI's token events, the last one special with the whole text
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
    assert resp.headers["X-HFProxy-Model"] == FALLBACK
    got = [e.json() for e in events(resp)]
    assert [e["token"]["text"] for e in got] == [" there", " was", " a fox.", ""]
    assert all(e["generated_text"] is None and not e["token"]["special"] for e in got[:-1])
    assert got[-1]["token"]["special"] is True
    assert got[-1]["generated_text"] == "Once upon a time there was a fox."
    assert got[-1]["details"]["finish_reason"] == "eos_token"
    assert [e["index"] for e in got] == [1, 2, 3, 4]
    assert upstream.received[1].json()["stream"] is True


def test_a_streamed_fallback_without_the_full_text_carries_the_continuation_only(client, upstream):
    upstream.enqueue(NOT_SERVED_ROWS["not_found_404"], hf_chat.words_stream(["there", " was"]))
    payload = {"inputs": PROMPT, "stream": True, "parameters": {"return_full_text": False, "seed": 3}}
    got = [e.json() for e in events(client.post("/api/generate", json=payload, buffered=False))]
    assert got[-1]["generated_text"] == " there was"
    assert got[-1]["details"]["seed"] == 3


def test_a_streamed_fallback_that_fails_midway_ends_with_an_error_event(client, upstream, telemetry):
    reply = hf_chat.words_stream(["there"], done=False)
    reply.stream = reply.stream[:1] + [hf_chat.event({"error": {"message": "provider crashed"}})]
    upstream.enqueue(NOT_SERVED_ROWS["not_found_404"], reply)
    got = events(client.post("/api/generate", json={"inputs": PROMPT, "stream": True}, buffered=False))
    assert got[0].json()["token"]["text"] == " there"
    assert got[-1].event == "error" and got[-1].json()["code"] == "upstream_stream_error"
    assert telemetry.records[-1].stream_end == "error"


def test_a_fallback_stream_cut_before_done_is_reported(client, upstream):
    upstream.enqueue(NOT_SERVED_ROWS["not_found_404"], hf_chat.words_stream(["there"], done=False))
    got = events(client.post("/api/generate", json={"inputs": PROMPT, "stream": True}, buffered=False))
    assert got[-1].json()["code"] == "upstream_stream_interrupted"


def test_without_a_streaming_platform_the_fallback_events_are_buffered(fallback_settings, upstream):
    upstream.enqueue(NOT_SERVED_ROWS["not_found_404"], hf_chat.words_stream(["there"]))
    resp = Client(ProxyApp(fallback_settings)).post(
        "/api/generate", json={"inputs": PROMPT, "stream": True}, environ_overrides={CAN_STREAM_KEY: False}
    )
    assert resp.status_code == 200 and resp.headers["X-HFProxy-Streaming"] == "unavailable"
    got = [json.loads(e.data) for e in sse.iter_events([resp.data])]
    assert got[-1]["generated_text"] == "Once upon a time there"


def test_a_token_echoed_in_the_fallback_stream_is_redacted(client, upstream):
    upstream.enqueue(NOT_SERVED_ROWS["not_found_404"], hf_chat.words_stream([f"Bearer {TEST_TOKEN}"]))
    resp = client.post("/api/generate", json={"inputs": PROMPT, "stream": True}, buffered=False)
    raw = b"".join(resp.response)
    resp.close()
    assert TEST_TOKEN.encode() not in raw and b"[redacted]" in raw


# --- which model answered: header, CORS, log --------------------------------------------------------


def test_every_generate_answer_says_which_model_answered_and_browsers_may_read_it(client, upstream):
    # GIVEN gpt2 answers (no fallback needed)
    upstream.enqueue(echo_generation)
    resp = post_json(client, "/api/generate", {"inputs": PROMPT}, headers={"Origin": "https://app.example"})
    # THEN the header names it, and CORS exposes the header to the page
    assert resp.status_code == 200
    assert resp.headers["X-HFProxy-Model"] == "openai-community/gpt2"
    exposed = [h.strip() for h in resp.headers["Access-Control-Expose-Headers"].split(",")]
    assert "X-HFProxy-Model" in exposed


def test_a_dedicated_endpoint_is_named_by_its_host_only(fallback_settings, upstream):
    client = Client(ProxyApp(fallback_settings.with_changes(hf_inference_url=upstream.url + "/secret-path")))
    upstream.enqueue(echo_generation)
    resp = post_json(client, "/api/generate", {"inputs": PROMPT})
    assert resp.headers["X-HFProxy-Model"] == "127.0.0.1"


def test_the_log_record_says_which_model_answered(client, upstream, telemetry):
    upstream.enqueue(echo_generation)
    post_json(client, "/api/generate", {"inputs": PROMPT})
    assert telemetry.records[-1].answered_by == "openai-community/gpt2"
    upstream.enqueue(NOT_SERVED_ROWS["provider_400"], Reply(json=hf_chat.completion("x")))
    post_json(client, "/api/generate", {"inputs": PROMPT})
    record = telemetry.records[-1]
    assert (record.answered_by, record.model, record.upstream) == (FALLBACK, "openai-community/gpt2", "hf-router-chat")
    assert record.upstream_attempts == 2 and record.upstream_status == 200


def test_a_streamed_fallback_is_logged_once_it_ends(client, upstream, telemetry):
    upstream.enqueue(NOT_SERVED_ROWS["not_found_404"], hf_chat.words_stream(["x"]))
    events(client.post("/api/generate", json={"inputs": PROMPT, "stream": True}, buffered=False))
    assert telemetry.records[-1].answered_by == FALLBACK and telemetry.records[-1].stream_end == "done"


def test_demo_answers_say_demo(fallback_settings):
    resp = post_json(Client(ProxyApp(fallback_settings.with_changes(demo_mode=True))), "/api/generate", {"inputs": "x"})
    assert resp.headers["X-HFProxy-Model"] == "demo"


# --- one request: one admission, one deadline --------------------------------------------------------


def test_the_fallback_is_not_counted_again(fallback_settings, upstream):
    # GIVEN one request a minute and exactly this request's tokens a day for this client
    client = Client(ProxyApp(fallback_settings.with_changes(rate_limit_per_minute=1, client_daily_tokens=10)))
    upstream.enqueue(NOT_SERVED_ROWS["not_found_404"], Reply(json=hf_chat.completion("x")))
    payload = {"inputs": PROMPT, "parameters": {"max_new_tokens": 10}}
    # WHEN it falls back
    resp = post_json(client, "/api/generate", payload, environ_base={"REMOTE_ADDR": "198.51.100.41"})
    # THEN it was admitted once (a second count would have refused it) and the next one is refused
    assert resp.status_code == 200, resp.text
    again = post_json(client, "/api/generate", payload, environ_base={"REMOTE_ADDR": "198.51.100.41"})
    assert again.status_code == 429 and len(upstream.received) == 2


def test_the_fallback_runs_inside_the_requests_deadline(fallback_settings, upstream):
    # GIVEN a 2 s deadline; gpt2 takes 0.5 s to say it is not served, the fallback 1.8 s to answer
    # (the shared deadline answers 504 at 2 s; a fresh one would let it answer 200 at 2.3 s)
    client = Client(ProxyApp(fallback_settings.with_changes(request_deadline=2.0, deadline_margin=0.2)))
    upstream.enqueue(
        Reply(404, body=b"Not Found", content_type="text/plain", delay=0.5),
        Reply(json=hf_chat.completion("late"), delay=1.8),
    )
    resp = post_json(client, "/api/generate", {"inputs": PROMPT})
    # THEN the fallback had only what was left (a fresh deadline would have let it answer)
    assert resp.status_code == 504 and resp.json["code"] == "upstream_timeout"
    assert paths(upstream) == [MODEL_PATH, hf_chat.CHAT_PATH]


# --- text that is not well-formed Unicode ------------------------------------------------------------


@pytest.mark.parametrize("where", ["prompt", "answer", "both"])
def test_a_lone_surrogate_in_the_prompt_or_the_fallback_answer_is_no_500(client, upstream, where):
    # GIVEN a prompt and/or a chat answer holding half an emoji ("\ud83d": JavaScript's slice() cut it)
    prompt = "Smile \ud83d" if where in ("prompt", "both") else PROMPT
    answer = '{"choices":[{"message":{"role":"assistant","content":"and then \\ud83d"}}]}'
    if where == "prompt":
        answer = json.dumps(hf_chat.completion("a fox.", FALLBACK))
    upstream.enqueue(NOT_SERVED_ROWS["not_found_404"], Reply(body=answer.encode(), content_type="application/json"))
    # WHEN it is answered through the fallback
    resp = client.post("/api/generate", data=json.dumps({"inputs": prompt}).encode(), content_type="application/json")
    # THEN a 200 with well-formed UTF-8 JSON, the half emoji as U+FFFD, not a 500
    assert resp.status_code == 200, resp.text
    text = resp.get_data().decode("utf-8")
    assert "\ufffd" in json.loads(text)[0]["generated_text"]
