"""The demo page says, as soon as it loads, the proxy's mode and which routes are live.

Real headless Chromium on the `make serve` server (tests/browser/conftest.py); the live case asks a
loopback Hub API (tests/fakes/hf_hub.py) through GET /api/health?deep=1.
"""

from __future__ import annotations

import pytest

from shared.app import ProxyApp
from shared.routes import health_deep
from shared.setting_rules import DEFAULT_INFERENCE_URL
from shared.settings import Settings
from tests.conftest import TEST_TOKEN
from tests.fakes import hf_hub

QWEN = "Qwen/Qwen2.5-7B-Instruct"
GPT2 = "openai-community/gpt2"


@pytest.fixture(autouse=True)
def _fresh_cache():
    health_deep.forget()
    yield
    health_deep.forget()


def route_line(page, route: str):
    line = page.locator(f'#route-states li[data-route="{route}"]')
    line.wait_for()
    return line


def test_demo_mode_is_shown_before_anything_is_typed(demo_site, demo_page):
    # GIVEN the proxy in demo mode WHEN the page loads
    demo_page.goto(demo_site(ProxyApp(Settings(demo_mode=True))))
    # THEN it says so, and each route is marked as answered locally
    mode = demo_page.locator('#deploy-mode[data-mode="demo"]')
    mode.wait_for()
    assert "Demo mode" in mode.inner_text()
    for route in ("chat", "generate", "predict"):
        assert route_line(demo_page, route).get_attribute("data-state") == "demo"


def test_a_live_deploy_shows_which_routes_are_live_and_which_are_not(demo_site, demo_page, upstream, monkeypatch):
    # GIVEN a live proxy whose Hub serves the chat model but not gpt2, and no Space configured
    hub = hf_hub.hub(
        {
            QWEN: hf_hub.model_info(QWEN, hf_hub.served("conversational", "together")),
            GPT2: hf_hub.model_info(GPT2, hf_hub.served("conversational", "hf-inference")),
        }
    )
    monkeypatch.setattr(upstream, "default", hub)  # the session's fake upstream, back to itself after
    settings = Settings(
        hf_token=TEST_TOKEN,
        hf_hub_url=upstream.url,
        hf_inference_url=DEFAULT_INFERENCE_URL,
        chat_models=(QWEN,),
        chat_default_model=QWEN,
        request_deadline=5.0,
    )
    # WHEN the page loads
    demo_page.goto(demo_site(ProxyApp(settings)))
    # THEN live mode, chat live (with its provider), gpt2 and Llama not served: visible before typing
    demo_page.locator('#deploy-mode[data-mode="live"]').wait_for()
    chat = route_line(demo_page, "chat")
    assert chat.get_attribute("data-state") == "live" and "together" in chat.inner_text()
    generate = route_line(demo_page, "generate")
    assert generate.get_attribute("data-state") == "not_served"
    assert "no_live_provider" in generate.inner_text()
    assert route_line(demo_page, "predict").get_attribute("data-state") == "not_served"
    assert demo_page.get_by_label("Prompt").input_value() == ""
    assert TEST_TOKEN not in demo_page.content()


def test_a_deploy_without_a_token_says_it_is_misconfigured(demo_site, demo_page):
    demo_page.goto(demo_site(ProxyApp(Settings())))
    mode = demo_page.locator('#deploy-mode[data-mode="misconfigured"]')
    mode.wait_for()
    assert "HF_TOKEN" in mode.inner_text()
    assert route_line(demo_page, "generate").get_attribute("data-state") == "unknown"
