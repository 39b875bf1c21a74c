"""Every "this model is not here" answer is the operator's 502 ``model_not_served``, never the caller's 400.

The fakes answer each wording Hugging Face has used (docs/model-availability.md); genuine input
errors keep their 400 ``upstream_rejected_request``.
"""

from __future__ import annotations

import pytest

from shared.upstreams import hf_client
from tests.conftest import TEST_TOKEN, client_for, post_json
from tests.fakes.hf_inference import GENUINE_400_ROWS, NOT_SERVED_ROWS
from tests.fakes.http_server import Reply

HELLO = {"messages": [{"role": "user", "content": "Hello"}]}


@pytest.mark.parametrize("row", list(NOT_SERVED_ROWS))
@pytest.mark.parametrize("stream", [False, True])
def test_generate_not_served_names_the_settings_to_change(client, upstream, row, stream):
    # GIVEN the text-generation upstream answers that it does not serve the model (fallback off)
    upstream.enqueue(NOT_SERVED_ROWS[row])
    # WHEN a valid request goes through, streamed or not
    resp = post_json(client, "/api/generate", {"inputs": "Hi", "stream": stream})
    # THEN the operator is told what to change, and the caller is not blamed
    assert resp.status_code == 502, resp.text
    assert resp.json["code"] == "model_not_served"
    assert "HF_INFERENCE_URL" in resp.json["error"] and "GENERATE_FALLBACK_MODEL" in resp.json["error"]
    assert len(upstream.received) == 1


@pytest.mark.parametrize("row", list(NOT_SERVED_ROWS))
@pytest.mark.parametrize("stream", [False, True])
def test_chat_not_served_names_the_chat_settings(chat_settings, upstream, row, stream):
    # GIVEN the router answers that it does not serve the chat model
    upstream.enqueue(NOT_SERVED_ROWS[row])
    resp = post_json(client_for(chat_settings), "/api/chat", {**HELLO, "stream": stream})
    # THEN 502 model_not_served naming the chat settings
    assert resp.status_code == 502 and resp.json["code"] == "model_not_served"
    assert "CHAT_MODELS" in resp.json["error"]


def test_the_upstream_sentence_is_quoted_for_the_operator(client, upstream):
    upstream.enqueue(NOT_SERVED_ROWS["task_400"])
    resp = post_json(client, "/api/generate", {"inputs": "Hi"})
    assert "Task 'text-generation' not supported for provider" in resp.json["error"]


def test_a_not_served_sentence_that_quotes_the_token_is_redacted(client, upstream):
    upstream.enqueue(Reply(400, json={"error": f"Model not supported by provider x for Bearer {TEST_TOKEN}"}))
    resp = post_json(client, "/api/generate", {"inputs": "Hi"})
    assert resp.status_code == 502 and resp.json["code"] == "model_not_served"
    assert TEST_TOKEN not in resp.text and TEST_TOKEN not in str(resp.headers)


@pytest.mark.parametrize("row", list(GENUINE_400_ROWS))
def test_a_genuine_input_error_stays_the_callers_400(chat_settings, upstream, row):
    # GIVEN an upstream that refuses the caller's input (with fallback on: it must not be used)
    client = client_for(chat_settings.with_changes(generate_fallback_model="a/chat-model"))
    upstream.enqueue(GENUINE_400_ROWS[row])
    resp = post_json(client, "/api/generate", {"inputs": "Hi"})
    # THEN the caller is told their request was refused, and nothing else was asked
    assert resp.status_code == 400, resp.text
    assert resp.json["code"] == "upstream_rejected_request"
    assert len(upstream.received) == 1


@pytest.mark.parametrize(
    "message",
    [
        "Model not supported by provider hf-inference",
        "MODEL NOT SUPPORTED BY PROVIDER FEATHERLESS-AI",
        "Task 'text-generation' not supported for provider. Available tasks: ['conversational']",
        "The requested model 'Qwen/Qwen2.5-7B-Instruct' is not supported by any provider you have enabled.",
        "Model x/y is not supported for task text-generation and provider nebius. Supported task: conversational.",
        "Model x/y is not available for provider hf-inference",
    ],
)
def test_not_served_wordings_match_in_any_case(message):
    assert hf_client.not_served(400, b"{}", message)


@pytest.mark.parametrize(
    "message",
    [
        "`stream` is not supported for this model",
        "Parameter 'n' is not supported by provider together",
        "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 1024",
        "The model rejected the input: a 'task' field is not allowed",
        None,
    ],
)
def test_input_errors_do_not_match(message):
    assert not hf_client.not_served(400, b"{}", message)


def test_a_400_about_tokens_in_the_input_is_not_blamed_on_the_servers_token(client, upstream):
    upstream.enqueue(GENUINE_400_ROWS["tokens_validation"])
    resp = post_json(client, "/api/generate", {"inputs": "Hi"})
    assert resp.json["code"] == "upstream_rejected_request"
