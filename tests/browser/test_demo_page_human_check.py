"""The demo page's human check in real headless Chromium: when /api/health names a Turnstile site
key, the page loads the widget (a stand-in served at Cloudflare's script URL: the real one cannot
load offline), exchanges its token at /api/clearance (checked by a loopback siteverify) and sends
the clearance as X-Clearance. The page's CSP must let the widget's script load."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest

from shared.app import ProxyApp
from shared.settings import Settings
from tests.fakes import turnstile
from tests.fakes.http_server import FakeServer, served


@pytest.fixture
def siteverify() -> Iterator[FakeServer]:
    yield from served(FakeServer(default=turnstile.siteverify_answer))


def human_check_settings(siteverify: FakeServer) -> Settings:
    return Settings(
        demo_mode=True,
        demo_word_delay=0.0,
        turnstile_secret=turnstile.SECRET,
        turnstile_site_key=turnstile.SITE_KEY,
        turnstile_verify_url=siteverify.url + "/turnstile/v0/siteverify",
        clearance_secret="clearance-secret-made-for-the-browser-test",
    )


def serve_widget(page, token: str) -> list[str]:
    """Answer the widget script's URL with the stand-in; returns the URLs the page asked for."""
    asked: list[str] = []

    def fulfil(route):
        asked.append(route.request.url)
        route.fulfill(status=200, content_type="text/javascript", body=turnstile.widget_script(token))

    page.route(turnstile.SCRIPT_URL, fulfil)
    return asked


def test_the_page_gets_a_clearance_with_the_widgets_token_and_sends_it(demo_site, demo_page, siteverify):
    # GIVEN a proxy that asks anonymous callers for a human check
    asked = serve_widget(demo_page, turnstile.GOOD_TOKEN)
    sent: list[str | None] = []
    demo_page.on(
        "request", lambda r: sent.append(r.headers.get("x-clearance")) if r.url.endswith("/api/chat") else None
    )
    # WHEN the page loads
    demo_page.goto(demo_site(ProxyApp(human_check_settings(siteverify))))
    # THEN it shows the widget with the configured site key, and exchanges the token for a clearance
    demo_page.get_by_text("Confirmed: you can ask the models.").wait_for()
    assert demo_page.locator("#human-check").is_visible()
    assert asked == ["https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit"]
    rendered = demo_page.evaluate("window.turnstileStub.rendered")
    assert rendered == [{"container": "#turnstile-widget", "sitekey": turnstile.SITE_KEY}]
    form = parse_qs(siteverify.received[-1].body.decode())
    assert form["response"] == [turnstile.GOOD_TOKEN] and form["remoteip"] == ["127.0.0.1"]
    # WHEN the person asks a question, THEN the answer comes, the call having carried the clearance
    demo_page.get_by_label("Prompt").fill("Hello")
    demo_page.get_by_role("button", name="Send").click()
    demo_page.locator("#answer").get_by_text("[demo]").wait_for()
    assert len(sent) == 1 and sent[0] is not None and sent[0].startswith("c1.")
    assert demo_page.locator("#error").is_hidden()


def test_a_refused_check_says_why_resets_the_widget_and_nothing_is_sent(demo_site, demo_page, siteverify):
    serve_widget(demo_page, "a-token-siteverify-refuses")
    calls: list[str] = []
    demo_page.on("request", lambda r: calls.append(r.url) if r.url.endswith("/api/chat") else None)
    demo_page.goto(demo_site(ProxyApp(human_check_settings(siteverify))))
    # THEN the proxy's sentence is shown where the widget is, and the widget is reset for another try
    demo_page.get_by_text("The human check did not pass", exact=False).wait_for()
    demo_page.wait_for_function("window.turnstileStub.resets === 1")
    # AND sending is held back until the check passes
    demo_page.get_by_label("Prompt").fill("Hello")
    demo_page.get_by_role("button", name="Send").click()
    demo_page.get_by_role("alert").get_by_text("Complete the human check first", exact=False).wait_for()
    assert calls == []


def test_without_a_site_key_the_widget_never_loads(demo_site, demo_page):
    asked = serve_widget(demo_page, turnstile.GOOD_TOKEN)
    demo_page.goto(demo_site(ProxyApp(Settings(demo_mode=True, demo_word_delay=0.0))))
    demo_page.locator('#deploy-mode[data-mode="demo"]').wait_for()
    demo_page.get_by_label("Prompt").fill("Hello")
    demo_page.get_by_role("button", name="Send").click()
    demo_page.locator("#answer").get_by_text("[demo]").wait_for()
    assert asked == [] and demo_page.locator("#human-check").is_hidden()
