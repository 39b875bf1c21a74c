"""The demo page (public/) in real headless Chromium, served by the `make serve` server on one origin.

A person types a prompt, picks gpt2 or Llama, and sees the answer, the error sentence, or the
demo-mode notice. The Llama route is a test route on the app's route table (``ProxyApp(routes=)``)
that answers what it received, so the page's request body is checked whatever /api/predict does.
"""

from __future__ import annotations

import json

import pytest

from shared.app import ProxyApp
from shared.http import Response
from shared.routes.route import Route
from shared.routes.table import ROUTES
from shared.settings import Settings
from tests.conftest import MODEL_PATH, TEST_TOKEN
from tests.fakes.http_server import Reply


def _echo_predict(request, scope):
    body = request.json(scope.settings.max_body_bytes)
    return Response.json(200, {"generated_text": f"llama saw {json.dumps(body, sort_keys=True)}"})


@pytest.fixture
def site(demo_site):
    routes = [r for r in ROUTES.routes if r.name != "predict"] + [Route("predict", ("/api/predict",), _echo_predict)]
    return lambda settings: demo_site(ProxyApp(settings, routes=routes))


@pytest.fixture
def page(demo_page):
    return demo_page


def test_gpt2_in_demo_mode_shows_the_answer_and_the_demo_notice(site, page):
    page.goto(site(Settings(demo_mode=True)))
    # WHEN a person types a prompt and sends it on the gpt2 route
    page.get_by_label("Prompt").fill("Once upon a time")
    page.get_by_role("radio", name="gpt2").check()
    page.get_by_role("button", name="Send").click()
    # THEN the demo answer and the demo-mode notice appear, and no error
    answer = page.locator("#answer")
    answer.get_by_text("[demo]").wait_for()
    assert answer.inner_text().startswith("Once upon a time ")
    assert page.locator("#mode").is_visible()
    assert page.locator("#error").is_hidden()
    assert "HTTP 200" in page.get_by_role("status").inner_text()


def test_llama_sends_inputs_and_the_chosen_model_to_api_predict(site, page):
    page.goto(site(Settings(demo_mode=True)))
    page.get_by_label("Prompt").fill("Hello Llama")
    assert page.get_by_label("Llama model").is_disabled()  # only meaningful on the Llama route
    page.get_by_role("radio", name="Llama").check()
    page.get_by_label("Llama model").select_option("llama-2-13b-chat")
    page.get_by_role("button", name="Send").click()
    page.locator("#answer").get_by_text("llama saw").wait_for()
    sent = json.loads(page.locator("#answer").inner_text().removeprefix("llama saw "))
    assert sent == {"inputs": "Hello Llama", "parameters": {"model": "llama-2-13b-chat"}}
    assert page.locator("#mode").is_hidden()  # this answer carried no demo header


def test_a_failing_call_shows_the_error_sentence_status_and_code(site, page, upstream):
    # GIVEN a live proxy whose upstream is rate-limiting
    upstream.enqueue(Reply(429, json={"error": "Rate limit reached"}, headers={"Retry-After": "7"}))
    page.goto(site(Settings(hf_token=TEST_TOKEN, hf_inference_url=upstream.url + MODEL_PATH, request_deadline=5)))
    page.get_by_label("Prompt").fill("Hi")
    page.get_by_role("radio", name="gpt2").check()
    page.get_by_role("button", name="Send").click()
    # THEN the envelope's sentence is shown as an alert, with status and code
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text() == "Hugging Face is rate-limiting this server; retry in 7 s."
    assert "HTTP 429, upstream_rate_limited" in page.get_by_role("status").inner_text()
    assert page.locator("#answer").inner_text() == ""
    assert TEST_TOKEN not in page.content()


def test_over_the_rate_limit_the_page_shows_the_sentence_and_when_to_retry(site, page):
    # GIVEN a proxy that lets each client ask once a minute (demo mode: nothing upstream to pay)
    page.goto(site(Settings(demo_mode=True, rate_limit_per_minute=1, demo_word_delay=0.0)))
    page.get_by_label("Prompt").fill("Hi")
    page.get_by_role("radio", name="gpt2").check()
    page.get_by_role("button", name="Send").click()
    page.get_by_role("status").get_by_text("Answered").wait_for()
    # WHEN the person asks again within the minute
    page.get_by_role("button", name="Send").click()
    # THEN the page shows the 429 sentence, and when to try again from Retry-After
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text().startswith("Too many requests: this proxy allows 1 a minute per client")
    status = page.get_by_role("status").inner_text()
    assert "HTTP 429, rate_limited" in status
    wait = int(status.split("Try again in ")[1].split(" s.")[0])
    assert 1 <= wait <= 60


def test_an_empty_prompt_is_caught_before_any_request(site, page):
    page.goto(site(Settings(demo_mode=True)))
    requests_seen: list[str] = []  # what the page sends (its GET /api/health on load is not a question)
    page.on("request", lambda req: requests_seen.append(req.url) if req.method == "POST" else None)
    page.get_by_role("button", name="Send").click()
    assert page.get_by_role("alert").inner_text() == "Type a prompt first."
    assert not [url for url in requests_seen if "/api/" in url]


def test_the_page_loads_nothing_from_other_sites(site, page):
    origin = site(Settings(demo_mode=True))
    loaded: list[str] = []
    page.on("request", lambda req: loaded.append(req.url))
    page.goto(origin)
    page.wait_for_load_state("networkidle")
    assert loaded and all(url.startswith(origin) for url in loaded), loaded
