"""The streaming function, started exactly as the Lambda Web Adapter starts it: template.yaml's
handler command (run.sh), its environment, ``PORT``, then the readiness check. The adapter's own
headers (``x-amzn-request-context``, ``x-amzn-lambda-context``) are what the test sends, as the
adapter would. Streaming is proven against the buffered function, event-driven: the fake upstream
holds its last events until the test has seen (or not) the first one."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from samtranslator.yaml_helper import yaml_parse

from tests.conftest import TEST_TOKEN
from tests.fakes import hf_chat, hf_responses
from tests.fakes.redis_server import free_port

ROOT = Path(__file__).resolve().parents[3]
FUNCTION = yaml_parse((ROOT / "template.yaml").read_text())["Resources"]["HfProxyStreamFunction"]["Properties"]
QUESTION = {"messages": [{"role": "user", "content": "Water?"}], "stream": True}


def adapter_headers(source_ip: str = "203.0.113.7", request_id: str = "req-1") -> dict[str, str]:
    """What the adapter adds to every request: the Function URL's request context and the invocation's."""
    context = {"requestId": request_id, "http": {"sourceIp": source_ip, "method": "POST", "path": "/api/chat"}}
    invocation = {"request_id": request_id, "deadline": 4102444800000}  # epoch ms, far ahead
    return {"x-amzn-request-context": json.dumps(context), "x-amzn-lambda-context": json.dumps(invocation)}


@pytest.fixture
def stream_function(responses_settings, upstream) -> Iterator[callable]:
    """GIVEN the function's server, started by its handler command with the template's environment."""
    started: list[subprocess.Popen] = []

    def start(**extra: str) -> int:
        port = free_port()
        env = {k: v for k, v in FUNCTION["Environment"]["Variables"].items() if isinstance(v, str)}
        env.update(
            # run.sh starts `python3`, as on Lambda: here, the interpreter running the tests
            PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
            PORT=str(port),
            LAMBDA_TASK_ROOT=str(ROOT),
            HF_TOKEN=TEST_TOKEN,
            HF_CHAT_URL=responses_settings.hf_chat_url,
            HF_RESPONSES_URL=responses_settings.hf_responses_url,
            REQUEST_DEADLINE_SECONDS="20",
            **extra,
        )
        proc = subprocess.Popen(["sh", FUNCTION["Handler"]], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        started.append(proc)
        assert "streaming function on" in proc.stdout.readline()  # it says so once it listens
        # the adapter's readiness check: the configured path answers 200 before any traffic
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", env["AWS_LWA_READINESS_CHECK_PATH"])
        assert conn.getresponse().status == 200
        return port

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_the_first_event_reaches_the_client_before_the_upstream_has_finished(stream_function, upstream, api):
    port = stream_function()
    if api == "chat":
        reply, path, body = hf_chat.words_stream(["Drink", " water"], gate_after=1), "/api/chat", QUESTION
    else:
        reply = hf_responses.stream(["Drink", " water"], hold_after=1)  # held after the first delta
        path, body = "/api/v1/responses", {"input": "Water?", "stream": True}
    upstream.enqueue(reply)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json", **adapter_headers()})
    resp = conn.getresponse()
    # WHEN the client reads up to the first word
    seen = b""
    while b"Drink" not in seen:
        piece = resp.read1(65536)
        assert piece, "the stream ended before its first word"
        seen += piece
    # THEN it has it while the upstream is still held
    assert not reply.finished.is_set()
    assert resp.getheader("X-Request-Id") == "req-1"  # the invocation's id, from the adapter's header
    hf_chat.gate_of(reply).set()
    rest = resp.read()
    assert (b"[DONE]" in rest) if api == "chat" else (b"response.completed" in rest)


def test_the_buffered_function_answers_only_once_the_upstream_has_finished(monkeypatch, chat_settings, upstream):
    # GIVEN the HTTP API function (serverless-wsgi), and the same held stream
    from functions.aws_lambda import handler
    from tests.fakes.lambda_context import LambdaContext
    from tests.functions.aws_lambda import events

    for name, value in {"HF_TOKEN": TEST_TOKEN, "HF_CHAT_URL": chat_settings.hf_chat_url}.items():
        monkeypatch.setenv(name, value)
    handler.app.configure(None)
    reply = hf_chat.words_stream(["Drink", " water"], gate_after=1)
    upstream.enqueue(reply)
    answered = threading.Event()
    result: dict = {}

    def invoke() -> None:
        event = events.load(
            "http_api_v2", path="/api/chat", body=json.dumps(QUESTION), headers={"content-type": "application/json"}
        )
        result.update(handler.lambda_handler(event, LambdaContext()))
        answered.set()

    worker = threading.Thread(target=invoke)
    worker.start()
    try:
        # THEN nothing reaches the client while the upstream is held: the whole body comes at the end
        assert not answered.wait(2.0)
    finally:
        hf_chat.gate_of(reply).set()
        worker.join(10)
        handler.app.configure(None)
    assert answered.is_set() and b"Drink" in result["body"].encode() and result["body"].endswith("data: [DONE]\n\n")


def test_the_client_is_the_source_ip_the_adapter_passes_on_never_a_forwarded_header(stream_function, upstream):
    # GIVEN 100 tokens per client per day (a day, not a minute: no window ends mid-test), and
    # requests asking for 100: the first is settled at the 3 the fake reports, then none fits
    port = stream_function(CLIENT_DAILY_TOKENS="100")
    ask = json.dumps({**QUESTION, "stream": False, "max_tokens": 100})

    def call(source_ip: str, forwarded: str) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Content-Type": "application/json", "X-Forwarded-For": forwarded, "X-Real-IP": forwarded}
        conn.request("POST", "/api/chat", ask, {**headers, **adapter_headers(source_ip)})
        resp = conn.getresponse()
        resp.read()
        return resp.status

    # WHEN one client spends its allowance, then forges X-Forwarded-For twice, and another client calls
    statuses = [
        call("203.0.113.7", "198.51.100.1"),
        call("203.0.113.7", "198.51.100.2"),
        call("203.0.113.7", "10.0.0.1"),
    ]
    other = call("203.0.113.8", "198.51.100.1")
    # THEN the forged headers change nothing: the adapter's sourceIp is who the client is
    assert statuses == [200, 429, 429] and other == 200
