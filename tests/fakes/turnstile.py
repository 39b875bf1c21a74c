"""Cloudflare Turnstile, faked at both ends: siteverify's answers (as documented:
https://developers.cloudflare.com/turnstile/get-started/server-side-validation/) for a loopback
FakeServer, and a stand-in for the widget script (the real one cannot load offline) that hands the
page a token the way ``turnstile.render``'s ``callback`` does."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from tests.fakes.http_server import Received, Reply

SECRET = "turnstile-secret-made-for-the-tests"
GOOD_TOKEN = "turnstile-token-a-human-earned"
SITE_KEY = "site-key-for-the-tests"
SCRIPT_URL = "https://challenges.cloudflare.com/turnstile/v0/api.js*"


def siteverify_answer(received: Received) -> Reply:
    """Success only for the right secret and a good token; Cloudflare's error codes otherwise."""
    form = {k: v[0] for k, v in parse_qs(received.body.decode()).items()}
    if form.get("secret") != SECRET:
        return Reply(json={"success": False, "error-codes": ["invalid-input-secret"]})
    if form.get("response") != GOOD_TOKEN:
        return Reply(json={"success": False, "error-codes": ["invalid-input-response"]})
    return Reply(json={"success": True, "challenge_ts": "2026-01-01T00:00:00Z", "hostname": "app.example"})


def widget_script(token: str) -> str:
    """``window.turnstile`` whose widget is solved at once with ``token``; it records what the page
    asked of it (the site key, resets) on ``window.turnstileStub``."""
    return f"""
window.turnstileStub = {{ rendered: [], resets: 0 }};
window.turnstile = {{
  render(container, options) {{
    window.turnstileStub.rendered.push({{ container, sitekey: options.sitekey }});
    setTimeout(() => options.callback({json.dumps(token)}), 0);
    return "widget-1";
  }},
  reset(id) {{ window.turnstileStub.resets += 1; }},
}};
"""
