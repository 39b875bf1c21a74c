"""The official ``openai`` SDK and ``huggingface_hub.InferenceClient``, changed only in base URL,
against the local server (live and demo) and the Lambda handler's answers (buffered streams)."""

from __future__ import annotations

import openai
import pytest
from huggingface_hub import InferenceClient

from tests.conftest import TEST_TOKEN
from tests.fakes import hf_chat
from tests.fakes.http_server import Reply

MODEL = "Qwen/Qwen2.5-7B-Instruct"
HELLO = [{"role": "user", "content": "Hello"}]
CLIENT_SECRET = "sk-client-credential-must-not-travel"


def expected_text(kind: str, text: str) -> None:
    if kind == "demo_local":
        assert text.startswith("[demo]")
    else:
        assert text == "echo: Hello"


@pytest.mark.parametrize("suffix", ["/api", "/api/v1"])
def test_openai_sdk_chat_plain_and_streamed(proxy, suffix, upstream):
    kind, base = proxy
    client = openai.OpenAI(base_url=base + suffix, api_key=CLIENT_SECRET, max_retries=0)
    # WHEN the SDK asks for an answer, then for the same answer streamed
    plain = client.chat.completions.create(model=MODEL, messages=HELLO)
    stream = client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
    streamed = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    # THEN both read the answer (on Lambda the buffered event stream parses as a stream)
    expected_text(kind, plain.choices[0].message.content)
    expected_text(kind, streamed)
    # AND the upstream only ever saw the server's token, never the client's credential
    for received in upstream.received:
        assert received.headers["authorization"] == f"Bearer {TEST_TOKEN}"
        assert CLIENT_SECRET not in repr(received.headers) + received.body.decode()


def test_openai_sdk_models_list_is_the_allowlist(proxy):
    kind, base = proxy
    client = openai.OpenAI(base_url=base + "/api/v1", api_key="unused", max_retries=0)
    ids = [m.id for m in client.models.list()]
    assert MODEL in ids and len(ids) >= 1


def test_openai_sdk_error_surfaces_our_sentence(proxy, upstream):
    kind, base = proxy
    client = openai.OpenAI(base_url=base + "/api", api_key="unused", max_retries=0)
    # WHEN a model outside the allowlist is asked for
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="not/allowed", messages=HELLO)
    # THEN the SDK's message carries our sentence, and our stable code is error.code
    assert "model: must be one of" in caught.value.message
    assert caught.value.code == "validation_error" and caught.value.param == "model"
    assert upstream.received == []


def test_openai_sdk_sends_the_accepted_fields(live_local, upstream):
    client = openai.OpenAI(base_url=live_local + "/api", api_key=CLIENT_SECRET, max_retries=0)
    client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}]},
        ],
        max_completion_tokens=32,
        stop=["\n\n"],
        seed=7,
        frequency_penalty=0.5,
        presence_penalty=0.1,
        n=1,
        user="u-42",
    )
    sent = upstream.received[-1].json()
    assert sent["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]
    assert sent["max_tokens"] == 32 and sent["stop"] == ["\n\n"] and sent["seed"] == 7
    assert "user" not in sent and "n" not in sent


def test_openai_sdk_refused_field_is_named(live_local, upstream):
    client = openai.OpenAI(base_url=live_local + "/api", api_key="unused", max_retries=0)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=MODEL, messages=HELLO, logprobs=True)
    assert caught.value.param == "logprobs" and "logprobs" in caught.value.message
    assert upstream.received == []


def test_openai_sdk_tools_and_default_fields_are_forwarded_or_dropped(live_local, upstream):
    # GIVEN what SDKs send by default or a tool-using app sends
    client = openai.OpenAI(base_url=live_local + "/api", api_key="unused", max_retries=0)
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    client.chat.completions.create(
        model=MODEL,
        messages=HELLO,
        tools=[tool],
        tool_choice="auto",
        parallel_tool_calls=False,
        response_format={"type": "json_object"},
        store=False,
        metadata={"app": "health"},
        logprobs=False,
        service_tier="auto",
        user="u-1",
    )
    # THEN the router gets the tools and the format, and none of what changes nothing
    sent = upstream.received[-1].json()
    assert sent["tools"] == [tool] and sent["tool_choice"] == "auto" and sent["parallel_tool_calls"] is False
    assert sent["response_format"] == {"type": "json_object"}
    assert not {"store", "metadata", "logprobs", "service_tier", "user"} & set(sent)


def test_inference_client_chat_plain_and_streamed(proxy, upstream):
    kind, base = proxy
    client = InferenceClient(base_url=base + "/api", api_key=CLIENT_SECRET)
    plain = client.chat_completion(HELLO, model=MODEL, max_tokens=20)
    streamed = "".join(
        c.choices[0].delta.content or "" for c in client.chat_completion(HELLO, model=MODEL, stream=True) if c.choices
    )
    expected_text(kind, plain.choices[0].message.content)
    expected_text(kind, streamed)
    assert all(r.headers["authorization"] == f"Bearer {TEST_TOKEN}" for r in upstream.received)


def test_inference_client_text_generation_details_and_stream_demo(demo_local):
    client = InferenceClient(model=demo_local + "/api/generate")
    out = client.text_generation("Hi", details=True, max_new_tokens=8, top_n_tokens=2, typical_p=0.9, watermark=False)
    assert out.generated_text.startswith("Hi [demo]") and out.details.generated_tokens == len(out.details.tokens)
    tokens = [t.token.text for t in client.text_generation("Hi", stream=True, details=True)]
    assert "".join(tokens).strip().startswith("[demo]")


def test_inference_client_text_generation_through_lambda_is_a_buffered_stream(lambda_bridge, upstream):
    # GIVEN a TGI model that streams, behind Lambda (which cannot stream)
    upstream.enqueue(hf_chat.tgi_stream(["Hi", " there"]))
    client = InferenceClient(model=lambda_bridge + "/api/generate", api_key=CLIENT_SECRET)
    # THEN the client's stream parser reads every token event of the buffered body
    assert list(client.text_generation("Hi", stream=True)) == ["Hi", " there"]
    upstream.enqueue(
        Reply(
            json=[
                {
                    "generated_text": "Hi there",
                    "details": {
                        "finish_reason": "length",
                        "generated_tokens": 1,
                        "seed": None,
                        "prefill": [],
                        "tokens": [{"id": 1, "text": " there", "logprob": -0.1, "special": False}],
                    },
                }
            ]
        )
    )
    out = client.text_generation("Hi", details=True, decoder_input_details=False, best_of=1)
    assert out.details.finish_reason == "length"
    assert all(r.headers["authorization"] == f"Bearer {TEST_TOKEN}" for r in upstream.received)
    assert upstream.received[0].json()["stream"] is True
