"""Generated upstream answers (and demo-mode requests) through the WSGI app and the Lambda handler.

Whatever an upstream sends back — any status, JSON holding the token in any spelling, bodies that
are not UTF-8, lone surrogates, event streams — the client gets no 500 (a 502/503/504 blames the
upstream, as documented) and no form of the token, in the body, a header or a log line.
"""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import TEST_TOKEN, client_for
from tests.fakes.http_server import Reply
from tests.fuzz.strategies import fuzz, valid_payloads
from tests.leaks.conftest import lambda_env  # noqa: F401  (the Lambda function's environment)
from tests.leaks.entries import ENTRIES
from tests.leaks.forms import leaked, machine_forms

FORMS = list(machine_forms(TEST_TOKEN).values())
ROUTES = {
    "generate": ("/api/generate", {"inputs": "Is a fever of 38 C high?"}),
    "generate, streamed": ("/api/generate", {"inputs": "Is a fever of 38 C high?", "stream": True}),
    "chat": ("/api/chat", {"messages": [{"role": "user", "content": "Is a fever of 38 C high?"}]}),
    "chat, streamed": ("/api/chat", {"messages": [{"role": "user", "content": "Hi"}], "stream": True}),
}
ODD_TEXT = st.sampled_from(["\\ud800", "\\udfff", "\\ud83d", "\\u0000", "\\u2028", "\\ufeff", "é", "😀", ""])


@st.composite
def texts_with_a_token_form(draw) -> str:
    """A sentence with one spelling of our token (or none), and maybe an escaped lone surrogate."""
    words = draw(st.lists(st.text(alphabet="abc XYZ.-_:/", max_size=12), max_size=3))
    form = draw(st.sampled_from([*FORMS, ""]))
    parts = [*words, form, draw(ODD_TEXT)]
    return " ".join(draw(st.permutations(parts)))


def json_text(value: str) -> str:
    """``value`` as a JSON string literal whose ``\\uXXXX`` escapes stay escapes."""
    return '"' + value.replace('"', "'").replace("\n", " ") + '"'


# Answer shapes; each T becomes a JSON string with a spelling of the token (or none) in it.
ANSWER_SHAPES = [
    '[{"generated_text": T}]',
    '{"error": T}',
    '{"error": [T, T]}',
    '{"error": {"message": T, "type": "invalid_request_error", "code": "model_not_supported"}}',
    '{"error": T, "estimated_time": 0.01}',
    '{"choices": [{"message": {"role": "assistant", "content": T}, "index": 0}], "object": "chat.completion"}',
    '{"generated_text": T}',
    "T",
]
HUB_SHAPES = [  # model-info answers of every shape
    '{"id": T, "inferenceProviderMapping": {T: {"status": "live", "task": "conversational"}}}',
    '{"inferenceProviderMapping": [{"provider": T, "status": "live", "task": "text-generation"}]}',
    '{"inferenceProviderMapping": {"together": {"status": T, "task": T}}, "gated": T}',
    '{"inferenceProviderMapping": [T, null, 3, {"provider": "hf-inference"}], "gated": "manual"}',
    '{"inferenceProviderMapping": T}',
    '{"error": T}',
    "[T]",
    "T",
]


@st.composite
def filled(draw, shapes: list[str]) -> bytes:
    """One of ``shapes``, its T filled in, as bytes (lone surrogates kept)."""
    text = json_text(draw(texts_with_a_token_form()))
    return draw(st.sampled_from(shapes)).replace("T", text).encode("utf-8", "surrogatepass")


@st.composite
def bodies(draw) -> bytes:
    body = draw(filled(ANSWER_SHAPES))
    mangle = draw(st.sampled_from(["none", "none", "utf16", "cesu", "truncate", "bytes"]))
    if mangle == "utf16":
        return body.decode().encode("utf-16")
    if mangle == "cesu":  # a surrogate encoded as UTF-8 bytes: not UTF-8
        return body.replace(b"generated_text", b"generated_\xed\xa0\x80text")
    if mangle == "truncate":
        return body[: draw(st.integers(0, max(0, len(body) - 1)))]
    if mangle == "bytes":
        return draw(st.binary(max_size=200))
    return body


@st.composite
def replies(draw) -> Reply:
    status = draw(st.sampled_from([200, 200, 200, 400, 401, 403, 404, 410, 413, 422, 429, 500, 503, 504]))
    if status == 200 and draw(st.booleans()):  # an event stream
        events = draw(st.lists(bodies(), min_size=0, max_size=4))
        stream = [b"data:" + e.replace(b"\n", b" ").replace(b"\r", b" ") + b"\n\n" for e in events]
        stream += draw(st.sampled_from([[b"data: [DONE]\n\n"], [b'event: error\ndata: {"error": "x"}\n\n'], []]))
        return Reply(status, stream=stream, content_type="text/event-stream")
    content_type = draw(st.sampled_from(["application/json", "application/json", "text/html", "text/plain"]))
    return Reply(status, body=draw(bodies()), content_type=content_type)


def assert_no_token(status: int, headers: dict[str, str], body: str, logs: str) -> None:
    assert status != 500, body[:300]
    assert not leaked(body, TEST_TOKEN), (leaked(body, TEST_TOKEN), body[:300])
    for name, value in headers.items():
        assert not leaked(value, TEST_TOKEN), name
    assert not leaked(logs, TEST_TOKEN), leaked(logs, TEST_TOKEN)


@pytest.mark.usefixtures("lambda_env")
@pytest.mark.parametrize("entry", list(ENTRIES))
@fuzz(700)
@given(route=st.sampled_from(list(ROUTES)), reply=replies())
def test_any_upstream_answer_is_passed_on_safely_or_blamed_on_the_upstream(
    chat_settings, upstream, caplog, capsys, entry, route, reply
):
    # GIVEN an upstream that answers this generated reply
    upstream.reset()
    upstream.enqueue(reply)
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    path, payload = ROUTES[route]
    # WHEN a valid request goes through this platform's entry point
    status, headers, body = ENTRIES[entry](chat_settings, json.dumps(payload), path)
    printed = capsys.readouterr()
    logs = "\n".join([*(r.getMessage() for r in caplog.records), printed.out, printed.err])
    # THEN no 500 and not one spelling of the token, anywhere the client or a log can see
    assert_no_token(status, headers, body, logs)


@fuzz(600)
@given(payload=valid_payloads(), odd=ODD_TEXT, path=st.sampled_from(["/api/generate", "/api/predict", "/api/chat"]))
def test_demo_mode_answers_any_valid_or_odd_request_without_a_5xx(settings, payload, odd, path):
    # GIVEN the proxy in demo mode (what `make serve` runs without a token)
    client = client_for(settings.with_changes(hf_token=None, demo_mode=True))
    prompt = payload.get("inputs") or payload.get("input") or payload.get("prompt") or "hi"
    body = {
        "/api/generate": json.dumps(payload),
        "/api/predict": '{"inputs": ' + json_text(prompt + odd) + "}",
        "/api/chat": '{"messages": [{"role": "user", "content": ' + json_text(prompt + odd) + "}]}",
    }[path]
    # WHEN it is sent
    resp = client.post(path, data=body.encode("utf-8", "surrogatepass"), headers={"Content-Type": "application/json"})
    # THEN a JSON answer that is never a 5xx (a 4xx names what is wrong)
    assert resp.status_code < 500, resp.get_data()[:300]
    json.loads(resp.get_data().decode("utf-8"))


@fuzz(200)
@given(
    status=st.sampled_from([200, 200, 200, 401, 403, 404, 429, 500, 503]),
    body=filled(HUB_SHAPES),
    content_type=st.sampled_from(["application/json", "text/html"]),
)
def test_any_hub_answer_gives_a_deep_health_state_and_never_the_token(settings, upstream, status, body, content_type):
    # GIVEN a Hub API answering this generated reply to every model-info call
    from shared.routes import health_deep
    from shared.setting_rules import DEFAULT_INFERENCE_URL

    health_deep.forget()
    upstream.reset()
    default = upstream.default
    upstream.default = lambda req: Reply(status, body=body, content_type=content_type)
    try:
        hub_settings = settings.with_changes(hf_hub_url=upstream.url, hf_inference_url=DEFAULT_INFERENCE_URL)
        resp = client_for(hub_settings).get("/api/health?deep=1")
    finally:
        upstream.default = default
        health_deep.forget()
    # THEN 200, a documented state per route, and not one spelling of the token
    assert resp.status_code == 200, resp.get_data()[:300]
    routes = resp.json["deep"]["routes"]
    assert {r["state"] for r in routes.values()} <= {"live", "not_served", "gated", "unknown"}
    assert not leaked(resp.get_data(as_text=True), TEST_TOKEN)
