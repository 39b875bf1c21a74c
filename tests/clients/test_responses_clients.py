"""The official ``openai`` SDK's Responses calls, and errors part-way through a stream on both OpenAI
APIs, changed only in base URL: against the local server (live and demo), the Lambda handler
(buffered streams) and the Vercel entry. The fake router speaks the Responses events."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from huggingface_hub import InferenceClient

from functions.local.server import serve
from shared.app import ProxyApp
from tests.clients.conftest import serving
from tests.conftest import TEST_TOKEN
from tests.fakes import hf_chat, hf_responses
from tests.fakes.http_server import Reply, running
from tests.leaks.forms import leaked

MODEL = "Qwen/Qwen2.5-7B-Instruct"


@pytest.fixture(params=["live", "demo", "lambda", "vercel"])
def base(request, responses_settings, monkeypatch) -> Iterator[tuple[str, str]]:
    """(kind, base URL ending in /api/v1) for each way the proxy runs."""
    aliased = responses_settings.with_changes(model_aliases=(("qwen", MODEL),))
    with serving(request.param, aliased, monkeypatch) as url:
        yield request.param, url


@pytest.fixture(params=["live", "lambda", "vercel"])
def live_base(request, responses_settings, monkeypatch) -> Iterator[tuple[str, str]]:
    """(kind, base URL) for each way the proxy runs in front of the (fake) router."""
    with serving(request.param, responses_settings, monkeypatch) as url:
        yield request.param, url


def said(kind: str, text: str, prompt: str) -> None:
    if kind == "demo":
        assert text.startswith("[demo]"), text
    else:
        assert text == f"echo: {prompt}", text


def test_responses_create_plain_and_streamed(base, upstream):
    kind, url = base
    client = openai.OpenAI(base_url=url, api_key="sk-client", max_retries=0)
    model = MODEL if kind == "demo" else "qwen"  # an alias, where one is configured
    # WHEN the SDK's default Responses calls are made
    plain = client.responses.create(model=model, input="Hello")
    events = list(client.responses.create(model=model, input=[{"role": "user", "content": "Hi"}], stream=True))
    # THEN both read the answer, the stream as typed events in order
    said(kind, plain.output_text, "Hello")
    streamed = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    said(kind, streamed, "Hi")
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    if kind != "demo":  # the router got the full id and the server's token, never the client's key
        sent = [r for r in upstream.received if r.path == hf_responses.RESPONSES_PATH]
        assert {r.json()["model"] for r in sent} == {MODEL}
        assert all(r.headers["authorization"] == f"Bearer {TEST_TOKEN}" for r in sent)


def test_the_responses_stream_helper(base):
    kind, url = base
    client = openai.OpenAI(base_url=url, api_key="sk-client", max_retries=0)
    with client.responses.stream(model=MODEL, input="Hello", instructions="Be brief.") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    said(kind, final.output_text, "Hello")
    assert "".join(deltas) == final.output_text


@pytest.mark.parametrize("field", ["previous_response_id", "conversation", "background", "web_search"])
def test_what_a_stateless_proxy_cannot_honour_is_a_400_naming_the_field(base, field):
    kind, url = base
    client = openai.OpenAI(base_url=url, api_key="sk-client", max_retries=0)
    extra = {
        "previous_response_id": {"previous_response_id": "resp_123"},
        "conversation": {"conversation": "conv_123"},
        "background": {"background": True},
        "web_search": {"tools": [{"type": "web_search"}]},
    }[field]
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model=MODEL, input="Hi", **extra)
    assert refused.value.param == ("tools" if field == "web_search" else field)
    assert refused.value.code == "validation_error"


CRASHED = f"The model failed while answering: {hf_responses.CRASH}"


@pytest.mark.parametrize("failure", ["response.failed", "error"])
def test_a_failure_part_way_through_a_responses_stream_raises_the_proxys_sentence(live_base, upstream, failure):
    kind, url = live_base
    # GIVEN a router that fails after one delta (its response.failed, or OpenAI's error event)
    upstream.enqueue(hf_responses.stream(["Hello", " there"], fail_after=1, failure=failure))
    client = openai.OpenAI(base_url=url, api_key="sk-client", max_retries=0)
    seen = []
    # WHEN the SDK reads the stream
    with pytest.raises(openai.APIError) as failed:
        for event in client.responses.create(model=MODEL, input="Hi", stream=True):
            seen.append(event.type)
    # THEN it got the first delta, then an APIError carrying the proxy's own sentence and code
    assert seen[-1] == "response.output_text.delta"
    assert failed.value.message == CRASHED  # ours (with the router's reason), not the SDK's default
    assert failed.value.code == "upstream_stream_error"


def test_the_stream_helper_raises_the_proxys_sentence_too(live_base, upstream):
    kind, url = live_base
    upstream.enqueue(hf_responses.stream(["Hello", " there"], fail_after=1))
    client = openai.OpenAI(base_url=url, api_key="sk-client", max_retries=0)
    with pytest.raises(openai.APIError) as failed:
        with client.responses.stream(model=MODEL, input="Hi") as stream:
            for _ in stream:
                pass
    assert failed.value.message == CRASHED and failed.value.code == "upstream_stream_error"


def test_a_plain_response_the_router_marks_failed_raises_the_proxys_sentence(live_base, upstream):
    kind, url = live_base
    upstream.enqueue(Reply(json=hf_responses.failed(MODEL)))
    client = openai.OpenAI(base_url=url, api_key="sk-client", max_retries=0)
    with pytest.raises(openai.InternalServerError) as failed:
        client.responses.create(model=MODEL, input="Hi")
    assert failed.value.status_code == 502 and failed.value.code == "upstream_stream_error"
    assert failed.value.message == f"Error code: 502 - {CRASHED}"


@pytest.mark.parametrize("cause", ["in-band", "interrupted"])
def test_a_failure_part_way_through_a_chat_stream_raises_the_proxys_sentence(live_base, upstream, cause):
    kind, url = live_base
    # GIVEN a router that sends one word, then an in-band error, or just stops before [DONE]
    reply = hf_chat.words_stream(["Drink"], done=False)
    if cause == "in-band":
        reply.stream.append(hf_chat.event({"error": "The model crashed"}))
    upstream.enqueue(reply)
    client = openai.OpenAI(base_url=url, api_key="sk-client", max_retries=0)
    words = []
    with pytest.raises(openai.APIError) as failed:
        for chunk in client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}], stream=True
        ):
            words.append(chunk.choices[0].delta.content or "")
    # THEN the word arrived, then the SDK raised our sentence and stable code, never its default
    assert words[0] == "Drink"
    expected = {
        "in-band": ("The model failed while answering: The model crashed", "upstream_stream_error"),
        "interrupted": ("The model's stream ended before the answer was complete.", "upstream_stream_interrupted"),
    }[cause]
    assert (failed.value.message, failed.value.code) == expected


def test_huggingface_hub_chat_without_a_model_gets_the_default(live_base, responses_settings, upstream):
    kind, url = live_base
    # GIVEN InferenceClient pointed at the proxy with no model: it sends its placeholder, "dummy"
    # (huggingface_hub src/huggingface_hub/inference/_providers/hf_inference.py)
    client = InferenceClient(base_url=url.removesuffix("/v1"), api_key="sk-client")
    plain = client.chat_completion([{"role": "user", "content": "Hello"}])
    streamed = client.chat_completion([{"role": "user", "content": "Hi"}], stream=True)
    # THEN the server's default chat model answered, plain and streamed
    assert plain.choices[0].message.content == "echo: Hello"
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == "echo: Hi"
    assert [r.json()["model"] for r in upstream.received] == [responses_settings.chat_default_model] * 2


def test_no_token_in_any_responses_answer_or_event(responses_settings, upstream):
    # GIVEN a router that echoes our token in deltas, in the final text, and in an error
    half = len(TEST_TOKEN) // 2
    upstream.enqueue(
        hf_responses.stream(["key ", TEST_TOKEN[:half], TEST_TOKEN[half:], f" Bearer {TEST_TOKEN}"]),
        hf_responses.stream(["x"], fail_after=0),
    )
    with running(serve(ProxyApp(responses_settings), port=0)) as url:
        import requests

        body = {"model": MODEL, "input": "Hi", "stream": True}
        first = requests.post(url + "/api/v1/responses", json=body, timeout=10).text
        second = requests.post(url + "/api/v1/responses", json=body, timeout=10).text
    assert leaked(first, TEST_TOKEN) == [] and leaked(second, TEST_TOKEN) == []
