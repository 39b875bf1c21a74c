"""Every spelling of the token an upstream can write back, on every path an answer takes.

Forms (tests/leaks/forms.py): exact, case-changed, truncated, reversed, base64/base64url at every
alignment (alone, after ``Bearer``, inside ``Basic user:token``), hex, %-encoded, ``\\u``-escaped,
HTML references, any HF-shaped token; error sentences also full-width, zero-width, dotted, spaced.
Paths: plain 200 bodies (generate, chat; also with every character JSON-escaped), upstream error
bodies (400/413/422, OpenAI-style), chat and TGI streams (events, in-stream errors, event names),
and the Llama Space's answers and errors in each Gradio protocol. Through the WSGI app and, where
the route buffers, the Lambda handler. The oracle decodes, so a gap in the rules is not mirrored.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import TEST_TOKEN, client_for, post_json
from tests.fakes import hf_chat
from tests.fakes.gradio_space import HEARTBEAT, EventStream, FakeSpace
from tests.fakes.http_server import Reply
from tests.fakes.space_fixtures import space_settings
from tests.leaks.entries import ENTRIES
from tests.leaks.forms import leaked, machine_forms, sentence_forms

MACHINE = machine_forms(TEST_TOKEN)
SENTENCE = sentence_forms(TEST_TOKEN)
HELLO = {"messages": [{"role": "user", "content": "hello"}]}


def escaped(text: str) -> str:
    """A JSON string literal with every character written as ``\\uXXXX``."""
    return '"' + "".join(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else json.dumps(c)[1:-1] for c in text) + '"'


def assert_clean(status: int, headers: dict, body: str, logs: str, *, sentence: bool = False) -> None:
    assert status < 500 or status in (502, 503, 504), (status, body)
    assert leaked(body, TEST_TOKEN, squeeze=sentence) == [], body
    assert leaked(" ".join(f"{k}: {v}" for k, v in headers.items()), TEST_TOKEN) == []
    assert [f for f in leaked(logs, TEST_TOKEN) if "hf_ token" not in f] == []


def generated(form: str) -> str:
    return f"The answer is {form} and more."


# --- plain 200 bodies ----------------------------------------------------------------------------

BODY_SPELLINGS = {
    "as JSON": lambda text: json.dumps([{"generated_text": text}]).encode(),
    "every character JSON-escaped": lambda text: f'[{{"generated_text": {escaped(text)}}}]'.encode(),
    "in a key": lambda text: json.dumps([{"generated_text": "ok", text: 1}]).encode(),
}


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("spelling", BODY_SPELLINGS)
@pytest.mark.parametrize("form", MACHINE)
def test_a_generate_200_body_never_carries_the_token(settings, upstream, lambda_env, all_logs, entry, spelling, form):
    # GIVEN the upstream answers 200 with the token in one spelling
    upstream.enqueue(Reply(body=BODY_SPELLINGS[spelling](generated(MACHINE[form]))))
    # WHEN a valid request goes through
    status, headers, body = ENTRIES[entry](settings, json.dumps({"inputs": "hi"}))
    # THEN a 200 whose JSON still parses, with the surrounding text kept, and no form of the token
    assert status == 200, body
    assert "The answer is" in json.dumps(json.loads(body)) or spelling == "in a key"
    assert_clean(status, headers, body, all_logs())


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("form", MACHINE)
def test_a_chat_200_body_never_carries_the_token(chat_settings, upstream, lambda_env, all_logs, entry, form):
    content = escaped(generated(MACHINE[form]))
    upstream.enqueue(
        Reply(body=f'{{"choices": [{{"message": {{"role": "assistant", "content": {content}}}}}]}}'.encode())
    )
    status, headers, body = ENTRIES[entry](chat_settings, json.dumps(HELLO), "/api/chat")
    assert status == 200, body
    assert_clean(status, headers, body, all_logs())


# --- upstream error bodies -----------------------------------------------------------------------

ERROR_BODIES = {
    "400 string": (400, lambda m: {"error": m}),
    "413 string": (413, lambda m: {"error": m}),
    "422 list": (422, lambda m: {"error": ["Input validation error", m]}),
    "400 OpenAI object": (400, lambda m: {"error": {"message": m, "type": "invalid_request_error"}}),
    "503 loading": (503, lambda m: {"error": m, "estimated_time": 500.0}),
}


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("kind", ERROR_BODIES)
@pytest.mark.parametrize("form", SENTENCE)
def test_an_upstream_error_sentence_never_carries_the_token(
    settings, upstream, lambda_env, all_logs, entry, kind, form
):
    status_in, shape = ERROR_BODIES[kind]
    upstream.enqueue(Reply(status_in, json=shape(f"Authorization failed for {SENTENCE[form]} (check it)")))
    status, headers, body = ENTRIES[entry](settings, json.dumps({"inputs": "hi"}))
    assert status in (400, 502, 503), body
    assert_clean(status, headers, body, all_logs(), sentence=True)


def test_a_harmless_upstream_sentence_is_passed_on_unchanged(settings, upstream):
    # GIVEN a validation error that mentions tokens (the word) but no secret
    message = "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 1024. Given: 1200"
    upstream.enqueue(Reply(422, json={"error": message}))
    resp = post_json(client_for(settings), "/api/generate", {"inputs": "hi"})
    # THEN the client reads HF's own sentence, whole
    assert resp.status_code == 400 and resp.json["error"].endswith(message)


# --- streams -------------------------------------------------------------------------------------


def stream_body(settings, route: str, payload: dict) -> tuple[int, dict, str]:
    resp = client_for(settings).post(route, json={**payload, "stream": True}, buffered=False)
    raw = b"".join(resp.response)
    resp.close()
    return resp.status_code, dict(resp.headers), raw.decode()


def chat_events(form: str) -> Reply:
    chunk = json.dumps(hf_chat.chunk("X")).replace('"X"', escaped(generated(form)))
    pieces = [hf_chat.event(hf_chat.chunk(generated(form))), f"data: {chunk}\n\n".encode()]
    pieces += [f"event: {form.splitlines()[0][:60]}\ndata: {{}}\n\n".encode()]  # the event name
    pieces += [hf_chat.event(hf_chat.chunk(None, "stop")), hf_chat.event("[DONE]")]
    return Reply(stream=pieces, content_type="text/event-stream")


def tgi_events(form: str) -> Reply:
    reply = hf_chat.tgi_stream(["The", " answer", f" {form}"])
    last = reply.stream[-1]
    reply.stream[-1] = last.replace(json.dumps(f" {form}").encode(), escaped(f" {form}").encode())
    return reply


STREAMS = {
    "chat events": ("/api/chat", HELLO, chat_events),
    "TGI events": ("/api/generate", {"inputs": "hi"}, tgi_events),
    "chat in-stream error": (
        "/api/chat",
        HELLO,
        lambda f: Reply(
            stream=[hf_chat.event(hf_chat.chunk("a")), hf_chat.event({"error": {"message": f"failed for {f}"}})],
            content_type="text/event-stream",
        ),
    ),
    "TGI in-stream error": (
        "/api/generate",
        {"inputs": "hi"},
        lambda f: Reply(
            stream=[hf_chat.event({"error": f"Request failed during generation: {f}", "error_type": "generation"})],
            content_type="text/event-stream",
        ),
    ),
    "error event": (
        "/api/chat",
        HELLO,
        lambda f: Reply(
            stream=[f"event: error\ndata: {json.dumps({'error': f})}\n\n".encode()], content_type="text/event-stream"
        ),
    ),
}


@pytest.mark.parametrize("kind", STREAMS)
@pytest.mark.parametrize("form", MACHINE)
def test_a_stream_never_carries_the_token(chat_settings, upstream, all_logs, kind, form):
    route, payload, reply = STREAMS[kind]
    upstream.enqueue(reply(MACHINE[form]))
    status, headers, body = stream_body(chat_settings, route, payload)
    assert status == 200 and "data:" in body
    assert_clean(status, headers, body, all_logs())


@pytest.mark.parametrize("form", ["exact", "base64 of Bearer", "json-escaped (literal backslashes)"])
def test_a_stream_error_sentence_is_redacted_not_dropped(chat_settings, upstream, form):
    upstream.enqueue(STREAMS["TGI in-stream error"][2](MACHINE[form]))
    _, _, body = stream_body(chat_settings, "/api/generate", {"inputs": "hi"})
    assert "event: error" in body and "Request failed during generation: [redacted]" in body


# --- the Llama Space -----------------------------------------------------------------------------

SPACE_ANSWERS = {
    "contract 200": (
        FakeSpace.contract,
        "contract",
        lambda t: Reply(body=f'{{"generated_text": {escaped(t)}}}'.encode()),
    ),
    "contract 500 error": (FakeSpace.contract, "contract", lambda t: Reply(500, json={"error": t})),
    "contract 200 error": (FakeSpace.contract, "contract", lambda t: Reply(json={"error": t})),
    "Gradio 3 200": (FakeSpace.gradio3, "run", lambda t: Reply(body=f'{{"data": [{escaped(t)}]}}'.encode())),
    "Gradio 3 500 error": (FakeSpace.gradio3, "run", lambda t: Reply(500, json={"error": t})),
    "Gradio 4 complete": (
        FakeSpace.gradio4,
        "events",
        lambda t: EventStream([(0, HEARTBEAT), (0, f"event: complete\ndata: [{escaped(t)}]\n\n")]),
    ),
    "Gradio 4 error event": (
        FakeSpace.gradio4,
        "events",
        lambda t: EventStream([(0, f"event: error\ndata: {json.dumps({'error': t})}\n\n")]),
    ),
}


# Human-only spellings (full-width, dotted...) are for sentences; a model's answer keeps its characters.
SPACE_CASES = [(k, f) for k in SPACE_ANSWERS for f in (SENTENCE if "error" in k else MACHINE)]


@pytest.mark.parametrize(("kind", "form"), SPACE_CASES)
def test_a_space_answer_never_carries_the_token(start_space, all_logs, kind, form):
    make, where, answer = SPACE_ANSWERS[kind]
    space = start_space(make())
    space.override(where, answer(f"Answer: {SENTENCE[form]} end"))
    resp = post_json(client_for(space_settings(space.url)), "/api/predict", {"inputs": "hi"})
    assert resp.status_code in (200, 502), resp.json
    assert_clean(resp.status_code, dict(resp.headers), resp.get_data(as_text=True), all_logs(), sentence=True)
