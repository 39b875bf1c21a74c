"""A token split across stream events never reaches the client whole (issue 28, failure 2).

The attack: an upstream that relays our token in deltas of 3 to 7 characters. Each event passed
the per-event redaction; the client joins the deltas and has the token. Here the text a client
would join (per field, in order) is checked with the leak oracle of tests/leaks/forms.py, on every
streaming path: chat, text generation, the generate fallback, and Lambda's buffered body.
"""

from __future__ import annotations

import json
import random

import pytest
from werkzeug.test import Client

from shared.adapter import CAN_STREAM_KEY
from shared.app import ProxyApp
from shared.upstreams import sse
from shared.upstreams.stream_redaction import TAIL, StreamRedactor
from tests.conftest import TEST_TOKEN
from tests.fakes import hf_chat
from tests.fakes.hf_inference import NOT_SERVED_ROWS
from tests.leaks.forms import leaked

SAY = f"Your key is {TEST_TOKEN}, keep it safe."


def pieces(text: str, low: int, high: int, seed: int = 0) -> list[str]:
    """``text`` cut into pieces of ``low``..``high`` characters."""
    rng, out, at = random.Random(seed), [], 0
    while at < len(text):
        size = rng.randint(low, high)
        out.append(text[at : at + size])
        at += size
    return out


def joined(events: list[sse.Event], *path) -> str:
    """What a client builds from the stream: one field of every event, in order."""
    out = []
    for event in events:
        value = event.json()
        for step in path:
            try:
                value = value[step]
            except (KeyError, IndexError, TypeError):
                value = None
                break
        if isinstance(value, str):
            out.append(value)
    return "".join(out)


def read(resp) -> list[sse.Event]:
    raw = b"".join(resp.response)
    resp.close()
    return [e for e in sse.iter_events([raw]) if e.data.strip() != sse.DONE]


# --- the redactor itself ----------------------------------------------------------------------------


@pytest.mark.parametrize("low,high", [(1, 1), (3, 7), (2, 5), (8, 12)])
@pytest.mark.parametrize("form", ["as is", "upper", "reversed", "Bearer"])
def test_a_token_split_into_deltas_is_redacted_once_joined(low, high, form):
    token = {
        "as is": TEST_TOKEN,
        "upper": TEST_TOKEN.upper(),
        "reversed": TEST_TOKEN[::-1],
        "Bearer": f"Bearer {TEST_TOKEN}",
    }[form]
    redactor = StreamRedactor(TEST_TOKEN)
    sent = [redactor.data(json.dumps(hf_chat.chunk(p))) for p in pieces(f"key: {token} end", low, high)]
    text = "".join(json.loads(s)["choices"][0]["delta"]["content"] for s in sent)
    assert leaked(text, TEST_TOKEN) == [], text
    assert text.startswith("key: ") and text.endswith(" end")


@pytest.mark.parametrize("cut", range(1, 20))
def test_every_split_position_of_the_token(cut):
    redactor = StreamRedactor(TEST_TOKEN)
    first, second = f"a {TEST_TOKEN[:cut]}", f"{TEST_TOKEN[cut:]} b"
    text = "".join(json.loads(redactor.data(json.dumps({"t": p})))["t"] for p in (first, second))
    assert leaked(text, TEST_TOKEN) == [], text


def test_text_without_a_token_passes_unchanged_and_is_never_held_back():
    # GIVEN an ordinary answer cut into deltas, including pieces that are substrings of the token
    redactor = StreamRedactor(TEST_TOKEN)
    words = ["The", " fake", " test", " to", "ken", " is", " not", " here", "."]
    # WHEN each is relayed THEN each event leaves at once, byte for byte
    for word in words:
        data = json.dumps(hf_chat.chunk(word))
        assert redactor.data(data) == data


def test_fields_are_joined_separately_and_ids_are_untouched():
    redactor = StreamRedactor(TEST_TOKEN)
    half = len(TEST_TOKEN) // 2
    a = json.loads(redactor.data(json.dumps({"id": "chatcmpl-1", "content": TEST_TOKEN[:half]})))
    b = json.loads(redactor.data(json.dumps({"id": "chatcmpl-1", "content": TEST_TOKEN[half:]})))
    assert a["id"] == b["id"] == "chatcmpl-1"
    assert leaked(a["content"] + b["content"], TEST_TOKEN) == []


def test_escaped_and_plain_text_events_too():
    redactor = StreamRedactor(TEST_TOKEN)
    escaped = "".join(f"\\u{ord(c):04x}" for c in TEST_TOKEN[6:])
    out = [redactor.data(f'{{"t": "{TEST_TOKEN[:6]}"}}'), redactor.data(f'{{"t": "{escaped}"}}')]
    assert leaked("".join(json.loads(o)["t"] for o in out), TEST_TOKEN) == []
    plain = StreamRedactor(TEST_TOKEN)
    assert leaked(plain.data(TEST_TOKEN[:5]) + plain.data(TEST_TOKEN[5:]), TEST_TOKEN) == []


def test_the_tail_covers_the_widest_encoded_form():
    # a \uXXXX-escaped fragment of 8 characters is 48 characters long: the tail must reach back that far
    assert TAIL >= 48


# --- on every streaming path ------------------------------------------------------------------------


def client(settings) -> Client:
    return Client(ProxyApp(settings))


def test_chat_stream(chat_settings, upstream):
    upstream.enqueue(hf_chat.words_stream(pieces(SAY, 3, 7)))
    resp = client(chat_settings).post(
        "/api/chat", json={"messages": [{"role": "user", "content": "hi"}], "stream": True}
    )
    text = joined(read(resp), "choices", 0, "delta", "content")
    assert leaked(text, TEST_TOKEN) == [] and text.startswith("Your key is ")


def test_text_generation_stream(settings, upstream):
    upstream.enqueue(hf_chat.tgi_stream(pieces(SAY, 3, 7)))
    resp = client(settings).post("/api/generate", json={"inputs": "hi", "stream": True})
    events = read(resp)
    assert leaked(joined(events, "token", "text"), TEST_TOKEN) == []
    assert leaked(events[-1].data, TEST_TOKEN) == []  # the final generated_text, whole


def test_generate_fallback_stream(chat_settings, upstream):
    settings = chat_settings.with_changes(generate_fallback_model="acme/chat")
    upstream.enqueue(NOT_SERVED_ROWS["not_found_404"], hf_chat.words_stream(pieces(SAY, 3, 7)))
    resp = client(settings).post("/api/generate", json={"inputs": "hi", "stream": True})
    events = read(resp)
    assert leaked(joined(events, "token", "text"), TEST_TOKEN) == []
    assert leaked(events[-1].data, TEST_TOKEN) == []


def test_buffered_stream_where_the_platform_cannot_stream(chat_settings, upstream):
    # GIVEN an adapter that buffers (Lambda behind API Gateway): the whole body is in hand
    upstream.enqueue(hf_chat.words_stream(pieces(SAY, 3, 7, seed=3)))
    resp = client(chat_settings).post(
        "/api/chat",
        json={"messages": [{"role": "user", "content": "hi"}], "stream": True},
        environ_overrides={CAN_STREAM_KEY: False},
    )
    assert resp.headers["X-HFProxy-Streaming"] == "unavailable"
    text = joined(read(resp), "choices", 0, "delta", "content")
    assert leaked(text, TEST_TOKEN) == [] and leaked(resp.get_data(as_text=True), TEST_TOKEN) == []


def test_the_lambda_handler(chat_settings, upstream, monkeypatch):
    from functions.aws_lambda import handler
    from tests.fakes.lambda_context import LambdaContext
    from tests.functions.aws_lambda import events

    for name, value in {"HF_TOKEN": TEST_TOKEN, "HF_CHAT_URL": chat_settings.hf_chat_url}.items():
        monkeypatch.setenv(name, value)
    handler.app.configure(None)
    upstream.enqueue(hf_chat.words_stream(pieces(SAY, 3, 7, seed=5)))
    body = json.dumps({"messages": [{"role": "user", "content": "hi"}], "stream": True})
    try:
        resp = handler.lambda_handler(
            events.load("http_api_v2", path="/api/chat", body=body, headers={"content-type": "application/json"}),
            LambdaContext(),
        )
    finally:
        handler.app.configure(None)
    assert resp["statusCode"] == 200
    found = [e for e in sse.iter_events([resp["body"].encode()]) if e.data.strip() != sse.DONE]
    assert leaked(joined(found, "choices", 0, "delta", "content"), TEST_TOKEN) == []


def test_an_event_parsed_once_is_redacted_from_that_value_and_left_as_it_was():
    # GIVEN a relayed event whose JSON the relay has parsed once (Event.json) for its other checks
    event = sse.Event(json.dumps({"choices": [{"delta": {"content": SAY}}]}))
    parsed = event.json()
    assert event.json() is parsed  # one parse for every reader
    before = json.dumps(parsed)
    # WHEN the redactor is handed that value
    sent = StreamRedactor(TEST_TOKEN).data(event.data, parsed)
    # THEN what leaves is redacted, and the value the others read is untouched
    assert TEST_TOKEN not in sent and "[redacted]" in json.loads(sent)["choices"][0]["delta"]["content"]
    assert json.dumps(event.json()) == before


def test_a_bare_number_is_text_to_the_redactor_even_when_parsed():
    # GIVEN data that is JSON but not an object, array or string (a client joins it as text)
    redactor = StreamRedactor(TEST_TOKEN)
    # THEN the parsed value changes nothing: it is redacted as the text it is
    assert redactor.data("12345", 12345) == StreamRedactor(TEST_TOKEN).data("12345") == "12345"


@pytest.mark.parametrize("escaped", [False, True])
def test_a_token_in_the_first_copy_of_a_repeated_key_is_redacted(escaped):
    # GIVEN an event whose key appears twice, the token in the copy json.loads drops (it keeps the last)
    hidden = "".join(f"\\u{ord(c):04x}" for c in TEST_TOKEN) if escaped else TEST_TOKEN
    data = '{"choices":[{"delta":{"content":"' + hidden + '","content":"fine"}}]}'
    # WHEN it is relayed
    sent = StreamRedactor(TEST_TOKEN).data(data, json.loads(data))
    # THEN the token is gone in every spelling, and the client reads what it would have read
    assert not leaked(sent, TEST_TOKEN) and hidden not in sent
    assert json.loads(sent)["choices"][0]["delta"]["content"] == "fine"


def test_a_deeply_nested_event_with_the_token_is_redacted_not_a_crash():
    # GIVEN an event nested as deep as json.loads reads (600 arrays), the token at the bottom
    data = "[" * 600 + json.dumps(f"x {TEST_TOKEN}") + "]" * 600
    # WHEN it is relayed, THEN it is redacted (no RecursionError ends the stream)
    sent = StreamRedactor(TEST_TOKEN).data(data, json.loads(data))
    assert TEST_TOKEN not in sent and "[redacted]" in sent


@pytest.mark.parametrize(
    "second_line",
    ['"hf\\u005ffake-te"', '"h\\u0066%5ffake-t"', '{"b": "hf\\u005ffake-te"}'],
    ids=["string", "mixed", "object"],
)
def test_an_event_of_several_json_lines_is_redacted_line_by_line(second_line):
    # GIVEN an event of two data lines (not one JSON value), the second hiding 8 characters of the
    # token behind JSON escapes that a client reading each line as JSON decodes
    data = '"x"\n' + second_line
    # WHEN it is relayed
    sent = sse.encode(StreamRedactor(TEST_TOKEN).data(data)).decode()
    # THEN no data line reveals the token, and the first line is as it was
    assert not leaked(sent, TEST_TOKEN), sent
    assert sent.startswith('data: "x"\ndata: ')
