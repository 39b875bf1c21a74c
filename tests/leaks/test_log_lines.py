"""No form of the token in any log line, whoever writes it (our logger, urllib3's, a root handler
added after import) and whatever it logs (a message, its arguments, a traceback).

The attack (issue 28): an upstream whose header block holds a line without a colon, e.g.
``X-Err: upstream said\\r\\nBearer <token>``, made urllib3 log ``Failed to parse headers ...
unparsed data: 'Bearer hf_...'`` at WARNING with a traceback, on every route.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess

import pytest
import requests

from bench.common import start_local_server
from shared import log_redaction
from tests.conftest import MODEL_PATH, TEST_TOKEN, client_for
from tests.fakes import hf_chat
from tests.fakes.http_server import Reply
from tests.leaks.forms import leaked

BEARER = f"Bearer {TEST_TOKEN}"


def malformed(reply: Reply, line: str = BEARER) -> Reply:
    """The same answer with a header block holding a line that is not ``name: value``."""
    reply.headers = {**reply.headers, "X-Err": f"upstream said\r\n{line}"}
    return reply


ROUTES = {
    "generate": ("/api/generate", {"inputs": "Hi"}, lambda: Reply(json=[{"generated_text": "Hi there"}])),
    "generate stream": ("/api/generate", {"inputs": "Hi", "stream": True}, lambda: hf_chat.tgi_stream(["a", "b"])),
    "chat": (
        "/api/chat",
        {"messages": [{"role": "user", "content": "Hi"}]},
        lambda: Reply(json=hf_chat.completion("ok")),
    ),
    "chat stream": (
        "/api/chat",
        {"messages": [{"role": "user", "content": "Hi"}], "stream": True},
        lambda: hf_chat.words_stream(["a", " b"]),
    ),
    "predict": ("/api/predict", {"inputs": "Hi"}, lambda: Reply(json={"generated_text": "ok"})),
    "an error answer": ("/api/generate", {"inputs": "Hi"}, lambda: Reply(401, json={"error": "bad token"})),
}


@pytest.fixture
def hostile(upstream):
    """GIVEN the fake upstream answering every request with a malformed header block (restored after)."""
    default = upstream.default

    def answer_with(reply) -> None:
        upstream.default = lambda req: malformed(reply())

    yield answer_with
    upstream.default = default


@pytest.fixture
def every_line():
    """A root handler added after import, as a platform's or `logging.basicConfig`'s would be,
    printing every record at DEBUG with its traceback."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield out.getvalue
    root.removeHandler(handler)
    root.setLevel(level)


def assert_no_token(text: str) -> None:
    assert leaked(text, TEST_TOKEN) == [], "the token is in a log line"


@pytest.mark.parametrize("route", ROUTES)
def test_a_malformed_upstream_header_block_puts_no_token_in_any_log_line(chat_settings, upstream, every_line, route):
    # GIVEN an upstream whose header block carries our Authorization header on a line without a colon
    path, body, reply = ROUTES[route]
    settings = chat_settings.with_changes(llama_space_url=upstream.url, llama_space_protocol="contract")
    upstream.enqueue(malformed(reply()))
    # WHEN the route is called
    resp = client_for(settings).post(path, json=body)
    resp.get_data()
    resp.close()
    lines = every_line()
    # THEN urllib3 said what happened, without the upstream's bytes, and no line holds the token
    assert "Failed to parse an upstream's response headers" in lines
    assert "unparsed data" not in lines and "upstream said" not in lines
    assert_no_token(lines)


def test_deep_health_against_a_malformed_hub_answer_logs_no_token(settings, upstream, hostile, every_line):
    from shared.routes import health_deep

    health_deep.forget()
    hub = settings.with_changes(
        hf_hub_url=upstream.url, hf_inference_url="https://router.huggingface.co/hf-inference/models/x/y"
    )
    hostile(lambda: Reply(json={"inferenceProviderMapping": {}}))
    try:
        assert client_for(hub).get("/api/health?deep=1").status_code == 200
    finally:
        health_deep.forget()
    assert_no_token(every_line())


@pytest.mark.parametrize("how", ["message", "argument", "traceback", "stack", "dict"])
def test_any_logger_any_part_of_a_record_is_redacted(settings, every_line, how):
    # GIVEN the app is made (which installs the redaction) with the token configured
    client_for(settings)
    log = logging.getLogger("some.library")
    # WHEN a third-party logger logs the token in each part of a record
    if how == "message":
        log.warning(f"oops {BEARER}")
    elif how == "argument":
        log.warning("oops %s", TEST_TOKEN.upper())
    elif how == "traceback":
        try:
            raise ValueError(f"header was {BEARER}")
        except ValueError:
            log.exception("failed")
    elif how == "stack":
        log.warning("here", stack_info=True, extra={})
        log.warning("%s", TEST_TOKEN[::-1])
    else:
        log.warning({"event": "x", "auth": BEARER})
    lines = every_line()
    # THEN the line is there, without the token in any form
    assert "some.library " in lines
    assert_no_token(lines)


def test_a_short_or_empty_secret_is_not_registered():
    before = log_redaction._secrets
    log_redaction.register(None, "", "short")
    assert log_redaction._secrets == before
    assert log_redaction.redact("a short word") == "a short word"


def test_the_local_server_process_logs_no_token(upstream, hostile):
    # GIVEN `make serve`'s server in its own process, logging to stderr as `make serve` does
    env = {
        "PATH": os.environ["PATH"],
        "HF_TOKEN": TEST_TOKEN,
        "HF_INFERENCE_URL": upstream.url + MODEL_PATH,
        "HF_CHAT_URL": upstream.url + hf_chat.CHAT_PATH,
    }
    hostile(lambda: Reply(json=[{"generated_text": "x"}]))
    proc, port = start_local_server(env, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        # WHEN requests go through it to the hostile upstream
        for path, body in (("/api/generate", {"inputs": "Hi"}), ("/api/generate", {"inputs": "Hi", "stream": True})):
            requests.post(base + path, json=body, timeout=10).close()
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=10)
    # THEN its whole log has the request lines and no form of the token
    assert json.dumps("/api/generate")[1:-1] in stderr
    assert "Failed to parse an upstream's response headers" in stderr
    assert_no_token(stderr)
