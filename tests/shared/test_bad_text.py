"""Bad text is a 4xx or is passed on safely, never a 500, and the same on every platform.

- A lone UTF-16 surrogate escape in a request (``"\\ud800"``, what JavaScript's ``slice()`` leaves
  of a cut emoji) is read as U+FFFD, in demo and live mode, on every route.
- A lone surrogate in an upstream answer (a Space's ``"...\\ud83d"``, a 200 body that also needs
  redaction) reaches the client as U+FFFD, in valid UTF-8 JSON.
- An upstream 200 that is not UTF-8 JSON (UTF-16, an encoded surrogate, a BOM, Latin-1) is 502
  ``upstream_bad_response`` through the WSGI app and through the Lambda handler alike.
"""

from __future__ import annotations

import base64
import json

import pytest

from functions.aws_lambda import handler
from shared.app import ProxyApp
from shared.http import Response
from shared.routes.route import Route
from shared.settings import Settings
from tests.conftest import MODEL_PATH, TEST_TOKEN, client_for, post_json
from tests.fakes import hf_chat
from tests.fakes.gradio_space import HEARTBEAT, EventStream, FakeSpace
from tests.fakes.http_server import Reply
from tests.fakes.lambda_context import LambdaContext
from tests.fakes.space_fixtures import space_settings
from tests.functions.aws_lambda import events

LONE = '"cut emoji \\ud83d"'  # JSON text: a high surrogate with no partner
ROUTE_BODIES = {
    "/api/generate": '{"inputs": LONE}',
    "/api/predict": '{"inputs": LONE}',
    "/api/chat": '{"messages": [{"role": "user", "content": LONE}]}',
    "/api/chat (stream)": '{"messages": [{"role": "user", "content": LONE}], "stream": true}',
    "/api/generate (low surrogate in a stop word)": '{"inputs": "hi", "parameters": {"stop": ["\\udc00"]}}',
}
ROUTE_BODIES = {route: body.replace("LONE", LONE) for route, body in ROUTE_BODIES.items()}


def lambda_call(body: str, path: str) -> tuple[int, dict, bytes]:
    event = events.load("http_api_v2", body=body, path=path, headers={"content-type": "application/json"})
    resp = handler.lambda_handler(event, LambdaContext())
    raw = resp.get("body") or ""
    out = base64.b64decode(raw) if resp.get("isBase64Encoded") else raw.encode()
    return resp["statusCode"], resp.get("headers") or {}, out


@pytest.fixture
def demo_lambda(monkeypatch):
    monkeypatch.setenv("DEMO_MODE", "1")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    handler.app.configure(None)
    yield
    handler.app.configure(None)


@pytest.mark.parametrize("route", ROUTE_BODIES)
def test_a_lone_surrogate_in_demo_mode_is_read_as_a_replacement_character(route):
    # GIVEN the offline demo (what `make serve` runs without a token)
    client = client_for(Settings(demo_mode=True, demo_word_delay=0.0))
    # WHEN the browser sends a string with half an emoji
    resp = client.post(route.split(" ")[0], data=ROUTE_BODIES[route], headers={"Content-Type": "application/json"})
    body = resp.get_data()
    # THEN an ordinary answer in valid UTF-8, never 500 internal_error
    assert resp.status_code == 200, body
    body.decode("utf-8")
    if route == "/api/generate":
        assert json.loads(body)[0]["generated_text"].startswith("cut emoji \ufffd ")


@pytest.mark.parametrize("route", [r for r in ROUTE_BODIES if "stream" not in r])
def test_a_lone_surrogate_in_demo_mode_on_lambda_too(demo_lambda, route):
    status, _, body = lambda_call(ROUTE_BODIES[route], route.split(" ")[0])
    assert status == 200, body
    body.decode("utf-8")


def test_a_lone_surrogate_goes_upstream_as_a_replacement_character_and_pairs_stay_whole(settings, upstream):
    # GIVEN live mode WHEN a lone surrogate and a correctly escaped pair are sent
    resp = post_json(client_for(settings), "/api/generate", '{"inputs": "a\\ud800 b\\ud83d\\ude00"}')
    # THEN the upstream gets U+FFFD for the lone one and the emoji for the pair
    assert resp.status_code == 200
    assert upstream.received[0].json()["inputs"] == "a\ufffd b\U0001f600"


# --- what an upstream sends back ---------------------------------------------------------------

ESCAPED_TOKEN = "".join(f"\\u{ord(c):04x}" for c in TEST_TOKEN)


def test_a_200_body_mixing_an_escaped_token_and_a_lone_surrogate_is_redacted_and_valid(settings, upstream):
    # GIVEN an upstream 200 whose text escapes our token and holds a lone surrogate
    upstream.enqueue(Reply(body=f'[{{"generated_text": "{ESCAPED_TOKEN} and \\ud800 end", "n": 1e999}}]'.encode()))
    # WHEN it is passed on
    resp = post_json(client_for(settings), "/api/generate", {"inputs": "hi"})
    # THEN a 200 in valid UTF-8 JSON: the token redacted, the surrogate U+FFFD, other values as sent
    assert resp.status_code == 200, resp.get_data()
    text = resp.get_data().decode("utf-8")
    assert json.loads(text)[0]["generated_text"] == "[redacted] and \ufffd end"
    assert '"n": 1e999' in text


@pytest.mark.parametrize("hidden", [TEST_TOKEN, ESCAPED_TOKEN], ids=["plain", "escaped"])
def test_a_token_in_the_first_copy_of_a_repeated_key_is_redacted(settings, upstream, hidden):
    # GIVEN an upstream 200 that repeats a key, the token in the copy json.loads drops (it keeps the last)
    upstream.enqueue(Reply(body=f'[{{"generated_text": "{hidden}", "generated_text": "fine"}}]'.encode()))
    # WHEN it is passed on
    resp = post_json(client_for(settings), "/api/generate", {"inputs": "hi"})
    # THEN neither copy carries the token
    text = resp.get_data().decode("utf-8")
    assert resp.status_code == 200 and TEST_TOKEN not in text and hidden not in text
    assert text.count("[redacted]") == 1 and json.loads(text)[0]["generated_text"] == "fine"


def test_an_escaped_lone_surrogate_with_nothing_to_redact_is_passed_on_as_sent(settings, upstream):
    sent = b'[{"generated_text": "half an emoji \\ud83d"}]'
    upstream.enqueue(Reply(body=sent))
    resp = post_json(client_for(settings), "/api/generate", {"inputs": "hi"})
    assert resp.status_code == 200 and resp.get_data() == sent


SPACE_LONE = {
    "Gradio 4 complete event": (
        FakeSpace.gradio4,
        "events",
        EventStream([(0, HEARTBEAT), (0, 'event: complete\ndata: ["answer \\ud83d"]\n\n')]),
    ),
    "Gradio 3 run": (FakeSpace.gradio3, "run", Reply(body=b'{"data": ["answer \\ud83d"]}')),
    "contract": (FakeSpace.contract, "contract", Reply(body=b'{"generated_text": "answer \\ud83d"}')),
    "contract, with an escaped token": (
        FakeSpace.contract,
        "contract",
        Reply(body=f'{{"generated_text": "answer \\ud83d {ESCAPED_TOKEN}"}}'.encode()),
    ),
}


@pytest.mark.parametrize("kind", SPACE_LONE)
def test_a_space_answer_ending_in_half_an_emoji_is_passed_on_safely(start_space, kind):
    # GIVEN a Space whose answer ends in a lone surrogate
    make, where, answer = SPACE_LONE[kind]
    space = start_space(make())
    space.override(where, answer)
    # WHEN the browser asks THEN 200 with U+FFFD in its place, valid UTF-8, never 500
    resp = post_json(client_for(space_settings(space.url)), "/api/predict", {"inputs": "hi"})
    assert resp.status_code == 200, resp.get_data()
    text = json.loads(resp.get_data().decode("utf-8"))["generated_text"]
    assert text.startswith("answer \ufffd") and TEST_TOKEN not in text


NOT_UTF8 = {
    "UTF-16 JSON": json.dumps([{"generated_text": "hi"}]).encode("utf-16"),
    "UTF-16-LE JSON, no BOM": json.dumps([{"generated_text": "hi"}]).encode("utf-16-le"),
    "UTF-32 JSON": json.dumps([{"generated_text": "hi"}]).encode("utf-32"),
    "an encoded surrogate inside a string": b'[{"generated_text": "a\xed\xa0\x80b"}]',
    "Latin-1": '[{"generated_text": "café"}]'.encode("latin-1"),
    "a UTF-8 BOM": b'\xef\xbb\xbf[{"generated_text": "hi"}]',
}


@pytest.fixture
def live_lambda(monkeypatch, upstream):
    monkeypatch.setenv("HF_TOKEN", TEST_TOKEN)
    monkeypatch.setenv("HF_INFERENCE_URL", upstream.url + MODEL_PATH)
    monkeypatch.setenv("HF_CHAT_URL", upstream.url + hf_chat.CHAT_PATH)
    handler.app.configure(None)
    yield
    handler.app.configure(None)


@pytest.mark.parametrize("route", ["/api/generate", "/api/chat", "/api/generate (stream asked)"])
@pytest.mark.parametrize("kind", NOT_UTF8)
def test_an_upstream_200_that_is_not_utf8_json_is_502_on_both_platforms(
    chat_settings, upstream, live_lambda, route, kind
):
    path = route.split(" ")[0]
    payload = {"inputs": "hi"} if path == "/api/generate" else {"messages": [{"role": "user", "content": "hi"}]}
    if "stream" in route:
        payload["stream"] = True
    answers = []
    for call in ("wsgi", "lambda"):
        # GIVEN the upstream answers 200 with JSON that is not UTF-8
        upstream.enqueue(Reply(body=NOT_UTF8[kind]))
        # WHEN it is asked through the local app and through the Lambda handler
        if call == "wsgi":
            resp = post_json(client_for(chat_settings), path, payload)
            answers.append((resp.status_code, resp.get_data()))
        else:
            status, _, body = lambda_call(json.dumps(payload), path)
            answers.append((status, body))
    # THEN both say the same: the upstream answered badly (502), not the client (400)
    assert answers[0] == answers[1], answers
    status, body = answers[0]
    assert (status, json.loads(body)["code"]) == (502, "upstream_bad_response")


def test_lambda_passes_on_an_answer_it_cannot_write_as_text_instead_of_blaming_the_client(monkeypatch):
    # GIVEN a core whose answer is JSON-typed but not UTF-8 (the core never does this; a safety net)
    def odd(request, scope):
        return Response.raw_json(200, b'{"x": "\xff"}')

    monkeypatch.setattr(
        handler, "app", ProxyApp(Settings(demo_mode=True), routes=[Route("odd", ("/api/odd",), odd, method="GET")])
    )
    # WHEN it goes through the Lambda handler
    status, _, body = _get("/api/odd")
    # THEN the same status and bytes as locally, base64-encoded, never 400 invalid_header
    assert (status, body) == (200, b'{"x": "\xff"}')


def _get(path: str) -> tuple[int, dict, bytes]:
    event = events.load("http_api_v2", method="GET", path=path)
    resp = handler.lambda_handler(event, LambdaContext())
    assert resp.get("isBase64Encoded") is True
    return resp["statusCode"], resp.get("headers") or {}, base64.b64decode(resp["body"])
