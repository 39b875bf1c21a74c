"""The token never leaves the server and the user's text never reaches a log.

For every way an upstream can hand our Authorization header back (a 200 body, an error body, a
header, an HTML error page, JSON-escaped), and for every way a request can be refused, through the
WSGI app and through the Lambda handler (powertools JSON on stdout): the token is in no response
body, no response header, no log line; the prompt is in no log line (logs carry its length).
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import TEST_TOKEN, client_for
from tests.fakes.http_server import Reply
from tests.leaks.entries import ENTRIES
from tests.leaks.forms import leaked

PROMPT = "LEAKCHECK chest pain since Tuesday, taking warfarin"
BEARER = f"Bearer {TEST_TOKEN}"
ESCAPED_TOKEN = "".join(f"\\u{ord(c):04x}" for c in TEST_TOKEN)  # what json.dumps(ensure_ascii) could send


def html(status: int, text: str) -> Reply:
    return Reply(status, body=f"<html><pre>{text}</pre></html>".encode(), content_type="text/html")


UPSTREAM_ECHOES = {
    "200 body": Reply(json=[{"generated_text": f"{PROMPT} Authorization: {BEARER}"}]),
    "200 body, JSON-escaped": Reply(body=f'[{{"generated_text": "echo {ESCAPED_TOKEN}"}}]'.encode()),
    "200 header": Reply(json=[{"generated_text": "ok"}], headers={"X-Echo-Authorization": BEARER}),
    "400 error": Reply(
        400, json={"error": f"Authorization header is correct, but the token {TEST_TOKEN} seems invalid"}
    ),
    "401 error": Reply(401, json={"error": f"Invalid credentials in Authorization header: {BEARER}"}),
    "403 error": Reply(403, json={"error": [f"token {TEST_TOKEN} lacks permission", PROMPT]}),
    "422 error": Reply(422, json={"error": f"Input validation error for {PROMPT!r} sent with {BEARER}"}),
    "429 error + headers": Reply(
        429, json={"error": f"Rate limit for {BEARER}"}, headers={"Retry-After": "5", "X-Auth": BEARER}
    ),
    "503 loading": Reply(503, json={"error": f"loading for {BEARER}", "estimated_time": 999.0}),
    "500 HTML": html(500, f"Traceback ... headers={{'Authorization': '{BEARER}'}} body={PROMPT}"),
    "502 HTML": html(502, f"upstream said {BEARER}"),
    "200 not JSON": html(200, f"{BEARER} {PROMPT}"),
}

REFUSED_REQUESTS = {
    "prompt over the limit": json.dumps({"inputs": PROMPT * 200}),
    "prompt as a number elsewhere": json.dumps({"inputs": PROMPT, "parameters": {"top_k": PROMPT}}),
    "two prompts": json.dumps({"inputs": PROMPT, "prompt": PROMPT}),
    "prompt in a list": json.dumps({"inputs": [PROMPT]}),
    "stop words too long": json.dumps({"inputs": "hi", "parameters": {"stop": [PROMPT * 3]}}),
    "invalid JSON": '{"inputs": "' + PROMPT + '"',
    "duplicate key": '{"inputs": "' + PROMPT + '", "inputs": "' + PROMPT + '"}',
    "NaN": '{"inputs": "' + PROMPT + '", "parameters": {"temperature": NaN}}',
}


def assert_no_leak(status, headers, body, logs, *, prompt_in_answer_ok=False):
    assert TEST_TOKEN not in body and ESCAPED_TOKEN not in body
    assert TEST_TOKEN not in json.loads(json.dumps(body)) and TEST_TOKEN not in _decoded(body)
    assert all(TEST_TOKEN not in f"{k}: {v}" for k, v in headers.items())
    assert TEST_TOKEN not in logs and ESCAPED_TOKEN not in logs
    assert PROMPT not in logs, "the prompt reached a log line"
    if not prompt_in_answer_ok:
        assert PROMPT not in body


def _decoded(body: str) -> str:
    """The body as the browser's JSON.parse would see it (escapes resolved)."""
    try:
        return json.dumps(json.loads(body), ensure_ascii=False)
    except ValueError:
        return body


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("echo", UPSTREAM_ECHOES)
def test_upstream_echoing_the_token_never_leaks_it(settings, upstream, lambda_env, all_logs, entry, echo):
    # GIVEN an upstream that hands our Authorization header (and the prompt) back
    upstream.enqueue(UPSTREAM_ECHOES[echo])
    # WHEN a valid request with a private prompt goes through
    status, headers, body = ENTRIES[entry](settings, json.dumps({"inputs": PROMPT}))
    logs = all_logs()
    # THEN the token is nowhere and the prompt is in no log (the answer to its own sender may quote it:
    # the model's continuation, or HF's validation message)
    assert_no_leak(status, headers, body, logs, prompt_in_answer_ok=True)
    assert upstream.received[0].headers["authorization"] == BEARER  # it did go upstream, where it belongs
    # AND the logs carry the figures instead of the content
    assert f'"prompt_chars": {len(PROMPT)}' in logs or f'"prompt_chars":{len(PROMPT)}' in logs
    assert "openai-community/gpt2" in logs


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("refused", REFUSED_REQUESTS)
def test_refused_request_never_echoes_the_prompt(settings, upstream, lambda_env, all_logs, entry, refused):
    # GIVEN a request the proxy refuses, carrying a private prompt
    status, headers, body = ENTRIES[entry](settings.with_changes(max_body_bytes=64 * 1024), REFUSED_REQUESTS[refused])
    logs = all_logs()
    # THEN a 4xx envelope that names the problem without quoting the input; nothing went upstream
    assert 400 <= status < 500, body
    assert set(json.loads(body)) <= {"error", "code", "details"}
    assert_no_leak(status, headers, body, logs)
    assert upstream.received == []


CHAT_ECHOES = {
    "200 body": Reply(json={"choices": [{"message": {"role": "assistant", "content": f"{PROMPT} {BEARER}"}}]}),
    "200 body, JSON-escaped": Reply(
        body=f'{{"choices": [{{"message": {{"role": "assistant", "content": "{ESCAPED_TOKEN}"}}}}]}}'.encode()
    ),
    "401 error": Reply(401, json={"error": {"message": f"Invalid token {BEARER}", "type": "auth"}}),
    "500 HTML": html(500, f"{BEARER} {PROMPT}"),
}


@pytest.mark.parametrize("echo", CHAT_ECHOES)
def test_chat_upstream_echoing_the_token_never_leaks_it(chat_settings, upstream, all_logs, echo):
    # GIVEN the chat upstream hands our Authorization header back
    upstream.enqueue(CHAT_ECHOES[echo])
    payload = {"messages": [{"role": "user", "content": PROMPT}]}
    resp = client_for(chat_settings).post("/api/chat", json=payload)
    # THEN the token is in no body, header or log; the prompt in no log
    body = resp.get_data(as_text=True)
    assert_no_leak(resp.status_code, dict(resp.headers), body, all_logs(), prompt_in_answer_ok=True)
    assert leaked(body, TEST_TOKEN) == []  # no fragment either (a token split across deltas)
    assert upstream.received[0].headers["authorization"] == BEARER


def _responses_echoes() -> dict[str, Reply]:
    from tests.fakes import hf_responses

    model = "Qwen/Qwen2.5-7B-Instruct"
    escaped = Reply(body=json.dumps(hf_responses.response("x", model)).replace('"x"', f'"{ESCAPED_TOKEN}"').encode())
    named = hf_responses.stream([f"key {TEST_TOKEN[:9]}", f"{TEST_TOKEN[9:]} ok"], named=True)
    return {
        "200 body": Reply(json=hf_responses.response(f"{PROMPT} {BEARER}", model)),
        "200 body, JSON-escaped": escaped,
        "200 failed Response": Reply(json=hf_responses.failed(model, f"provider said {BEARER}")),
        "stream, token split across deltas": named,
        "stream, response.failed": hf_responses.stream(["a"], fail_after=1, message=f"bad {BEARER}"),
        "stream, error event": hf_responses.stream(["a"], fail_after=0, failure="error", message=f"bad {BEARER}"),
        "401 error": Reply(401, json={"error": {"message": f"Invalid token {BEARER}", "type": "auth"}}),
        "500 HTML": html(500, f"{BEARER} {PROMPT}"),
    }


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("echo", list(_responses_echoes()))
def test_responses_upstream_echoing_the_token_never_leaks_it(responses_settings, upstream, all_logs, echo, stream):
    # GIVEN the router's Responses API hands our Authorization header back, in an answer or an event
    upstream.enqueue(_responses_echoes()[echo])
    payload = {"input": [{"role": "user", "content": PROMPT}], "stream": stream}
    resp = client_for(responses_settings).post("/api/v1/responses", json=payload)
    # THEN the token is in no body, event, header or log; the prompt in no log
    body = resp.get_data(as_text=True)
    assert_no_leak(resp.status_code, dict(resp.headers), body, all_logs(), prompt_in_answer_ok=True)
    assert leaked(body, TEST_TOKEN) == []  # no fragment either (a token split across deltas)
    assert upstream.received[0].headers["authorization"] == BEARER
