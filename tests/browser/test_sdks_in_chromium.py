"""The official ``openai`` npm SDK and the Vercel AI SDK in real headless Chromium, across origins.

tests/browser/sdk/entry.mjs uses both SDKs as an app would, changed only in ``baseURL``; esbuild
(pinned in .tools/package.json, a build-check tool) bundles it into a temp dir for this session
only: never into public/, never deployed. The page is on one loopback origin, the proxy (the
`make serve` server) on another, with only the page's origin allowed, so the SDKs' non-simple
headers (``Authorization``, ``x-stainless-*``) must pass a real preflight.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import static_origin
from tests.conftest import TEST_TOKEN
from tests.fakes import hf_chat

ROOT = Path(__file__).resolve().parents[2]
ESBUILD = ROOT / ".tools" / "node_modules" / ".bin" / "esbuild"
ENTRY = Path(__file__).resolve().parent / "sdk" / "entry.mjs"
PAGE = '<!doctype html><html lang="en"><meta charset="utf-8"><title>SDKs</title><script src="sdk.js"></script></html>'
QUESTION = "How much water should I drink?"
PLACEHOLDER_KEY = "browser-placeholder"  # the apiKey entry.mjs gives both SDKs


@pytest.fixture(scope="session")
def sdk_origin(tmp_path_factory) -> Iterator[str]:
    """GIVEN both SDKs bundled for the browser (esbuild, IIFE) and served from their own origin."""
    assert os.access(ESBUILD, os.X_OK), f"{ESBUILD} is missing: install the pinned tools (`npm ci --prefix .tools`)"
    out = tmp_path_factory.mktemp("sdk-page")
    subprocess.run(
        [
            ESBUILD,
            ENTRY,
            "--bundle",
            "--format=iife",
            "--platform=browser",
            "--log-level=warning",
            f"--outfile={out / 'sdk.js'}",
        ],
        env={**os.environ, "NODE_PATH": str(ROOT / ".tools" / "node_modules")},  # where `import "openai"` resolves
        check=True,  # esbuild's own message is on stderr, shown with the failure
    )
    (out / "index.html").write_text(PAGE)
    with static_origin(out) as origin:
        yield origin


@pytest.fixture
def sdk_page(browser, sdk_origin):
    """A fresh context (no cached preflight) on the SDK page; any script error fails the test."""
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{sdk_origin}/index.html")
    page.wait_for_function("() => window.sdks !== undefined")
    yield page
    context.close()
    assert errors == []


@pytest.fixture
def api_for(proxy_for, chat_settings, sdk_origin):
    """The proxy's OpenAI base URL (/api/v1), only the SDK page's origin allowed."""

    def start(can_stream: bool = True):
        proxy = proxy_for(chat_settings.with_changes(allowed_origins=(sdk_origin,)), can_stream=can_stream)
        return proxy, f"{proxy.url}/api/v1"

    return start


def call(page, function: str, *args) -> dict:
    return page.evaluate(f"(args) => window.sdks.{function}(...args)", list(args))


def only_the_server_token_went_upstream(upstream) -> None:
    assert upstream.received
    for received in upstream.received:
        assert received.headers["authorization"] == f"Bearer {TEST_TOKEN}"
        assert PLACEHOLDER_KEY not in repr(received.headers) + received.body.decode()


def test_openai_sdk_streams_the_answer_across_origins(sdk_page, api_for, upstream):
    # GIVEN a model that streams its answer one word per chunk
    proxy, base_url = api_for()
    upstream.enqueue(hf_chat.words_stream(["Drink", " water", " often."]))
    # WHEN the page asks through the openai SDK with stream: true
    result = call(sdk_page, "openaiStream", base_url, QUESTION)
    # THEN the SDK's stream yielded every chunk, the final one included
    assert result == {"text": "Drink water often.", "chunks": 4}
    # AND Chromium sent a preflight (the SDK's Authorization and x-stainless-* headers) that passed
    assert proxy.telemetry.seen(2) == [
        ("OPTIONS", "/api/v1/chat/completions", 204),
        ("POST", "/api/v1/chat/completions", 200),
    ]
    # AND the upstream was asked for a stream with the server's token, never the page's key
    assert upstream.received[-1].json()["stream"] is True
    only_the_server_token_went_upstream(upstream)


def test_openai_sdk_error_message_is_our_sentence(sdk_page, api_for, upstream):
    # GIVEN the proxy
    _, base_url = api_for()
    # WHEN the page asks for a model outside the allowlist
    error = call(sdk_page, "openaiError", base_url, "not/allowed")
    # THEN the SDK threw its BadRequestError with our sentence, our stable code and the field
    assert error["thrown"] and error["name"] == "BadRequestError"
    assert error["status"] == 400
    assert error["message"].startswith("400 The request body failed validation: model: must be one of")
    assert (error["code"], error["param"], error["type"]) == ("validation_error", "model", "invalid_request_error")
    # AND the exposed X-Request-Id reached the SDK, so a user can quote it
    assert error["requestID"]
    assert upstream.received == []


def test_openai_sdk_reads_the_buffered_stream_where_the_platform_cannot_stream(sdk_page, api_for, upstream):
    # GIVEN the proxy behind an adapter that cannot stream (as on AWS Lambda)
    _, base_url = api_for(can_stream=False)
    upstream.enqueue(hf_chat.words_stream(["Two", " litres."]))
    # WHEN the page asks for a stream
    result = call(sdk_page, "openaiStream", base_url, QUESTION)
    # THEN the one buffered text/event-stream body still yields every chunk to the SDK's stream
    assert result == {"text": "Two litres.", "chunks": 3}
    only_the_server_token_went_upstream(upstream)


def test_ai_sdk_stream_text_reads_the_streamed_answer(sdk_page, api_for, upstream):
    # GIVEN the proxy, and the router's echo model
    proxy, base_url = api_for()
    # WHEN the page calls streamText through createOpenAICompatible
    result = call(sdk_page, "aiStream", base_url, QUESTION)
    # THEN textStream yielded the whole answer, in more than one part, with no error
    assert result["text"] == f"echo: {QUESTION}"
    assert result["parts"] >= 2 and result["errors"] == []
    assert ("OPTIONS", "/api/v1/chat/completions", 204) in proxy.telemetry.seen()
    # AND the prompt went upstream as the user's message, with the server's token only
    assert upstream.received[-1].json()["messages"] == [{"role": "user", "content": QUESTION}]
    only_the_server_token_went_upstream(upstream)


def test_ai_sdk_error_is_our_sentence(sdk_page, api_for, upstream):
    # GIVEN Hugging Face rate-limits the server (Retry-After: 9)
    _, base_url = api_for()
    upstream.enqueue(hf_chat.ROUTER_ERRORS["rate_limited_429"])
    # WHEN the page calls generateText
    error = call(sdk_page, "aiError", base_url, QUESTION)
    # THEN the AI SDK threw an APICallError whose message is our sentence, retryable, with Retry-After
    assert error["thrown"] and error["name"] == "AI_APICallError"
    assert error["message"] == "Hugging Face is rate-limiting this server; retry in 9 s."
    assert (error["statusCode"], error["isRetryable"], error["retryAfter"]) == (429, True, "9")
    assert json.loads(error["responseBody"])["error"]["code"] == "upstream_rate_limited"
    only_the_server_token_went_upstream(upstream)


@pytest.mark.parametrize(
    "allowed", [("Content-Type", "Authorization"), ("Content-Type", "x-stainless-*")], ids=["no-stainless", "no-auth"]
)
def test_without_the_sdk_headers_allowed_chromium_blocks_the_sdk(
    sdk_page, proxy_for, chat_settings, sdk_origin, upstream, allowed
):
    # GIVEN a proxy whose CORS_ALLOW_HEADERS leaves out one of the headers the openai SDK sends
    proxy = proxy_for(chat_settings.with_changes(allowed_origins=(sdk_origin,), cors_allow_headers=allowed))
    # WHEN the page asks through the SDK
    error = call(sdk_page, "openaiError", f"{proxy.url}/api/v1", "Qwen/Qwen2.5-7B-Instruct")
    # THEN Chromium refused after the preflight: the SDK saw only a connection error, nothing went upstream
    assert error["thrown"] and error["name"] == "APIConnectionError", error
    assert [method for method, _, _ in proxy.telemetry.seen()] == ["OPTIONS"]
    assert upstream.received == []


# --- the AI SDK's default OpenAI call: the Responses API ----------------------------------------------


@pytest.fixture
def responses_api_for(proxy_for, responses_settings, sdk_origin):
    """The proxy's OpenAI base URL, in front of the fake router's Responses API."""

    def start(can_stream: bool = True):
        settings = responses_settings.with_changes(allowed_origins=(sdk_origin,))
        proxy = proxy_for(settings, can_stream=can_stream)
        return proxy, f"{proxy.url}/api/v1"

    return start


@pytest.mark.parametrize("can_stream", [True, False])
def test_ai_sdk_default_openai_model_generates_and_streams_through_responses(
    sdk_page, responses_api_for, upstream, can_stream
):
    from tests.fakes import hf_responses

    # GIVEN the proxy (streaming, or buffered as on Lambda) and a router answering the Responses API
    proxy, base_url = responses_api_for(can_stream)
    # WHEN the page uses the AI SDK's default openai(model): generateText, then streamText
    plain = call(sdk_page, "aiResponsesText", base_url, QUESTION)
    upstream.enqueue(hf_responses.stream(["Drink", " water", " often."]))
    streamed = call(sdk_page, "aiResponsesStream", base_url, QUESTION)
    # THEN both read the answer through POST /api/v1/responses, with no error
    assert plain == {"text": f"echo: {QUESTION}"}
    assert streamed["text"] == "Drink water often." and streamed["errors"] == []
    posts = proxy.telemetry.seen(2, method="POST")  # the stream's is written once the server closes it
    assert [path for _, path, _ in posts] == ["/api/v1/responses"] * 2
    only_the_server_token_went_upstream(upstream)


CRASHED = "The model failed while answering: The provider crashed"


@pytest.mark.parametrize("fail_after", [1, 0], ids=["part-way", "before-any-text"])
def test_ai_sdk_shows_the_proxys_sentence_when_a_responses_stream_fails(
    sdk_page, responses_api_for, upstream, fail_after
):
    from tests.fakes import hf_responses

    # GIVEN a router whose provider fails after one delta, or before any (the router's response.failed)
    _, base_url = responses_api_for()
    upstream.enqueue(hf_responses.stream(["Drink", " water"], fail_after=fail_after))
    result = call(sdk_page, "aiResponsesStream", base_url, QUESTION)
    # THEN the words before it arrived, then one error carrying the proxy's own sentence, as the
    # error itself (not a TypeValidationError quoting our event), with our stable code part-way
    assert result["text"] == ["", "Drink"][fail_after]
    assert [e["message"] for e in result["errors"]] == [CRASHED]
    if fail_after:
        assert result["errors"][0]["code"] == "upstream_stream_error"


def test_ai_sdk_compatible_chat_shows_the_proxys_sentence_when_the_stream_fails(sdk_page, api_for, upstream):
    # GIVEN a chat model that sends one word, then fails inside the stream
    _, base_url = api_for()
    reply = hf_chat.words_stream(["Drink"], done=False)
    reply.stream.append(hf_chat.event({"error": "The provider crashed"}))
    upstream.enqueue(reply)
    # WHEN the page streams through the OpenAI-compatible provider
    result = call(sdk_page, "aiStream", base_url, QUESTION)
    # THEN the word arrived, then one error part whose message is the proxy's sentence
    assert result["text"] == "Drink"
    assert [e["message"] for e in result["errors"]] == [CRASHED]


@pytest.mark.parametrize("api", ["chat", "responses"])
@pytest.mark.parametrize("can_stream", [True, False], ids=["streamed", "buffered"])
def test_openai_sdk_throws_the_proxys_sentence_when_a_stream_fails(
    sdk_page, responses_api_for, upstream, api, can_stream
):
    from tests.fakes import hf_responses

    # GIVEN a model that fails after its first words, on either OpenAI API, streamed or buffered
    _, base_url = responses_api_for(can_stream)
    if api == "chat":
        reply = hf_chat.words_stream(["Drink"], done=False)
        reply.stream.append(hf_chat.event({"error": "The provider crashed"}))
    else:
        reply = hf_responses.stream(["Drink", " water"], fail_after=1)
    upstream.enqueue(reply)
    # WHEN the page iterates the openai SDK's stream
    result = call(sdk_page, "openaiStreamFailure", base_url, api, QUESTION)
    # THEN the words arrived, then the SDK threw its APIError with our sentence and stable code
    assert result["text"] == "Drink"
    assert result["thrown"] and result["apiError"]
    assert (result["message"], result["code"]) == (CRASHED, "upstream_stream_error")
    only_the_server_token_went_upstream(upstream)
