"""/api/chat on Lambda: Python functions cannot stream, so a streamed chat is answered buffered."""

from __future__ import annotations

import json

import pytest

from tests.conftest import TEST_TOKEN, function_env
from tests.fakes import hf_chat
from tests.functions.aws_lambda import events
from tests.functions.aws_lambda.test_handler import SHAPES, invoke

CHAT = {"messages": [{"role": "user", "content": "Hello"}]}


@pytest.fixture
def lambda_env(monkeypatch, chat_settings, upstream):
    """GIVEN the function's environment pointing the chat API at the fake router."""
    with function_env(
        monkeypatch,
        HF_CHAT_URL=chat_settings.hf_chat_url,
        ALLOWED_ORIGINS="https://app.example",
    ):
        yield upstream


def post(shape, payload):
    headers = {"content-type": "application/json", "origin": "https://app.example"}
    return events.load(shape, path="/api/chat", body=json.dumps(payload), headers=headers)


@pytest.mark.parametrize("shape", SHAPES)
def test_a_streamed_chat_is_answered_buffered_and_says_so(lambda_env, shape):
    # WHEN the page asks for a stream through API Gateway / a Function URL
    status, headers, body = invoke(post(shape, {**CHAT, "stream": True}))
    # THEN the router streams, and the page gets every chunk and [DONE] in one buffered event stream
    assert lambda_env.received[-1].json()["stream"] is True
    assert status == 200, body
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["x-hfproxy-streaming"] == "unavailable"
    assert "X-HFProxy-Streaming" in headers["access-control-expose-headers"]
    datas = [line[6:] for line in body.splitlines() if line.startswith("data: ")]
    assert datas[-1] == "[DONE]"
    text = "".join(json.loads(d)["choices"][0]["delta"].get("content", "") for d in datas[:-1])
    assert text == "echo: Hello"


def test_a_plain_chat_through_lambda(lambda_env):
    status, headers, body = invoke(post("http_api_v2", CHAT))
    assert status == 200 and "x-hfproxy-streaming" not in headers
    assert lambda_env.received[-1].headers["authorization"] == f"Bearer {TEST_TOKEN}"


def test_router_errors_keep_their_status_through_lambda(lambda_env):
    lambda_env.enqueue(hf_chat.ROUTER_ERRORS["model_not_supported_400"])
    status, _, body = invoke(post("http_api_v2", {**CHAT, "stream": True}))
    assert status == 502 and json.loads(body)["code"] == "model_not_served"
