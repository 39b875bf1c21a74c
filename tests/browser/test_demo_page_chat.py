"""Chatting on the demo page (public/) in real headless Chromium, through the `make serve` server.

The proxy relays a loopback fake of the router's chat API (tests/fakes/hf_chat.py) that streams
server-sent events and can hold the rest of its answer behind a gate (a threading.Event), so a
test can look at the page while the model is provably still "writing". Nothing waits on time:
Playwright's ``expect`` polls the page, the gate is released only after the page shows the
first token.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from shared.app import ProxyApp
from shared.settings import Settings
from tests.browser.conftest import like_lambda
from tests.conftest import TEST_TOKEN
from tests.fakes import hf_chat
from tests.fakes.http_server import Reply

QUESTION = "How much water should I drink?"


@pytest.fixture
def site(demo_site) -> Callable[..., str]:
    """GIVEN the local server (demo page + proxy on one origin) with the given settings."""

    def start(settings: Settings, can_stream: bool = True) -> str:
        proxy = ProxyApp(settings)
        return demo_site(proxy if can_stream else like_lambda(proxy))

    return start


@pytest.fixture
def page(demo_page) -> Page:
    return demo_page


def ask(page: Page, question: str = QUESTION) -> None:
    page.get_by_label("Prompt").fill(question)
    page.get_by_role("button", name="Send").click()


def test_streamed_tokens_appear_while_the_model_is_still_writing(site, page, chat_settings, upstream):
    # GIVEN a model that writes its first word, then stops until the test lets it go on
    reply = hf_chat.words_stream(["Drink", " water", " often."], gate_after=1)
    gate = hf_chat.gate_of(reply)
    upstream.enqueue(reply)
    page.goto(site(chat_settings))
    # WHEN a person asks on the chat route (the default)
    assert page.get_by_role("radio", name="Chat").is_checked()
    ask(page)
    # THEN the first word is on the page while the upstream has sent nothing more
    answer = page.locator("#answer")
    expect(answer).to_have_text("Drink")
    assert len(reply.sent) == 1 and not reply.finished.is_set()
    expect(answer).to_have_attribute("aria-busy", "true")  # screen readers wait for the whole answer
    # WHEN the model writes the rest
    gate.set()
    # THEN the whole answer appears, the stream ends on [DONE], and no error is shown
    expect(answer).to_have_text("Drink water often.")
    expect(page.get_by_role("status")).to_have_text("Answered (HTTP 200, streamed).")
    expect(answer).to_have_attribute("aria-busy", "false")
    assert reply.finished.wait(5)  # set just after the fake's last write, which the page may read first
    assert page.locator("#error").is_hidden()
    # AND the proxy asked the router for a stream, with the server's token, not the page's
    sent = upstream.received[-1]
    assert sent.json()["stream"] is True
    assert sent.json()["messages"] == [{"role": "user", "content": QUESTION}]
    assert sent.headers["authorization"] == f"Bearer {TEST_TOKEN}"


def test_an_error_event_mid_stream_is_shown_after_the_partial_answer(site, page, chat_settings, upstream):
    # GIVEN a model that writes one word, then fails inside its 200 stream (OpenAI-style in-band error)
    upstream.enqueue(
        Reply(
            stream=[
                hf_chat.event(hf_chat.chunk("Drink")),
                hf_chat.event({"error": {"message": "Model overloaded", "type": "server_error"}}),
            ],
            content_type="text/event-stream",
        )
    )
    page.goto(site(chat_settings))
    # WHEN a person asks
    ask(page)
    # THEN the proxy's final error event is shown as an alert, with its code, after the partial text
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("The model failed while answering: Model overloaded")
    expect(page.get_by_role("status")).to_have_text("Failed part-way (upstream_stream_error).")
    expect(page.locator("#answer")).to_have_text("Drink")
    # AND a failed answer is not kept as a conversation turn
    assert page.locator("#conversation-section").is_hidden()


def test_a_platform_that_cannot_stream_shows_the_whole_answer_at_once(site, page, chat_settings, upstream):
    # GIVEN the proxy behind an adapter that cannot stream (as on AWS Lambda)
    page.goto(site(chat_settings, can_stream=False))
    # WHEN a person asks (the page always asks for a stream)
    ask(page)
    # THEN the whole buffered event stream is shown, and the status says why it came at once
    expect(page.locator("#answer")).to_have_text(f"echo: {QUESTION}")
    expect(page.get_by_role("status")).to_have_text(
        "Answered (HTTP 200; this platform sends the whole answer at once)."
    )
    assert page.locator("#error").is_hidden()
    # AND the router was asked for its stream (relayed in one buffered text/event-stream body)
    assert upstream.received[-1].json()["stream"] is True


def test_a_refused_chat_shows_the_error_envelope(site, page, chat_settings, upstream):
    # GIVEN a router that refuses before streaming (the account is out of credits)
    upstream.enqueue(hf_chat.ROUTER_ERRORS["credits_402"])
    page.goto(site(chat_settings))
    # WHEN a person asks
    ask(page)
    # THEN the envelope's sentence is the alert, its status and code are in the status line
    expect(page.get_by_role("alert")).to_have_text(
        "The server's Hugging Face account is out of credits; the operator must top it up."
    )
    expect(page.get_by_role("status")).to_have_text("Failed (HTTP 502, upstream_quota_exceeded).")
    assert page.locator("#answer").inner_text() == ""
    assert TEST_TOKEN not in page.content()


def test_the_conversation_goes_back_to_the_model_on_the_chosen_model(site, page, chat_settings, upstream):
    # GIVEN the page has loaded the server's model allowlist from /api/health
    upstream.enqueue(hf_chat.words_stream(["Two", " litres."]), hf_chat.words_stream(["Yes."]))
    page.goto(site(chat_settings))
    models = page.get_by_label("Chat model")
    expect(models.locator("option")).to_have_count(len(chat_settings.chat_models))
    expect(models).to_have_value(chat_settings.chat_default_model)
    # WHEN a person picks another model, asks, then asks a follow-up
    models.select_option("openai/gpt-oss-20b")
    ask(page)
    expect(page.locator("#conversation")).to_contain_text("Two litres.")
    expect(page.get_by_label("Prompt")).to_have_value("")  # ready for the next question
    ask(page, "Even in winter?")
    expect(page.locator("#answer")).to_have_text("Yes.")
    # THEN the follow-up carried the first exchange, on the chosen model
    follow_up = upstream.received[-1].json()
    assert follow_up["model"] == "openai/gpt-oss-20b"
    assert follow_up["messages"] == [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": "Two litres."},
        {"role": "user", "content": "Even in winter?"},
    ]
    # WHEN the person starts a new conversation, THEN the next question goes alone
    page.get_by_role("button", name="New conversation").click()
    assert page.locator("#conversation-section").is_hidden()
    upstream.enqueue(hf_chat.words_stream(["Hello."]))
    ask(page, "Hi")
    expect(page.locator("#answer")).to_have_text("Hello.")
    assert upstream.received[-1].json()["messages"] == [{"role": "user", "content": "Hi"}]


def test_chat_in_demo_mode_streams_the_demo_answer_with_the_notice(site, page):
    # GIVEN `make serve` with no token: demo mode, words streamed by the proxy itself
    page.goto(site(Settings(demo_mode=True, demo_word_delay=0.0)))
    # WHEN a person asks on the chat route
    ask(page)
    # THEN the demo answer arrives streamed, marked as demo
    expect(page.get_by_role("status")).to_have_text("Answered (HTTP 200, streamed).")
    assert page.locator("#answer").inner_text().startswith("[demo] ")
    assert page.locator("#answer").inner_text().endswith("Ask a real model by setting HF_TOKEN.")
    assert page.locator("#mode").is_visible()


def test_the_responses_route_streams_and_keeps_the_conversation(site, page, responses_settings, upstream):
    from tests.fakes import hf_responses

    # GIVEN the router's Responses API writing its first word, then held (data-only events, as the
    # router writes them: the page reads each event's type from its data)
    reply = hf_responses.stream(["Drink", " water", " often."], hold_after=1)  # held after the first delta
    upstream.enqueue(reply)
    page.goto(site(responses_settings))
    # WHEN a person picks the Responses route and asks
    page.get_by_role("radio", name="Responses").check()
    ask(page)
    # THEN the first word shows while the model is held, then the rest, and the turn is kept
    answer = page.locator("#answer")
    expect(answer).to_have_text("Drink")
    assert not reply.finished.is_set()
    hf_chat.gate_of(reply).set()
    expect(answer).to_have_text("Drink water often.")
    expect(page.locator("#conversation")).to_contain_text("Drink water often.")
    sent = upstream.received[-1].json()
    assert sent["stream"] is True and sent["input"][-1] == {"type": "message", "role": "user", "content": QUESTION}


def test_the_responses_route_shows_the_proxys_sentence_when_the_stream_fails(site, page, responses_settings, upstream):
    from tests.fakes import hf_responses

    upstream.enqueue(hf_responses.stream(["Drink", " water"], fail_after=1))
    page.goto(site(responses_settings))
    page.get_by_role("radio", name="Responses").check()
    ask(page)
    expect(page.locator("#error")).to_have_text("The model failed while answering: The provider crashed")
    expect(page.locator("#status")).to_contain_text("upstream_stream_error")
    expect(page.locator("#answer")).to_have_text("Drink")
