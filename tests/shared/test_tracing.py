"""TRACING=otel: each model call is one span on OpenTelemetry's global tracer provider, in the GenAI
semantic conventions, read back with the SDK's in-memory exporter; never a prompt, an answer or
the token. With tracing off, opentelemetry is never imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from werkzeug.test import Client

from shared.app import ProxyApp
from tests.conftest import TEST_TOKEN, post_json
from tests.fakes import hf_chat
from tests.fakes.http_server import Reply
from tests.leaks.forms import leaked

ROOT = Path(__file__).resolve().parents[2]
PROMPT = "TRACECHECK my private symptoms"
_exporter = InMemorySpanExporter()
_provider = TracerProvider()
_provider.add_span_processor(SimpleSpanProcessor(_exporter))
trace.set_tracer_provider(_provider)  # once per process, as an app's SDK setup would


@pytest.fixture
def spans():
    _exporter.clear()
    yield _exporter.get_finished_spans
    _exporter.clear()


def client(settings) -> Client:
    return Client(ProxyApp(settings.with_changes(tracing="otel")))


def everything(span) -> str:
    return json.dumps({"name": span.name, **dict(span.attributes or {})}, default=str)


def test_a_chat_call_is_one_span_with_the_genai_attributes(chat_settings, upstream, spans):
    answer = hf_chat.completion("fine")
    answer["usage"] = {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}
    upstream.enqueue(Reply(json=answer))
    resp = post_json(
        client(chat_settings), "/api/chat", {"messages": [{"role": "user", "content": PROMPT}], "max_tokens": 40}
    )
    assert resp.status_code == 200
    (span,) = spans()
    attributes = dict(span.attributes)
    assert span.name == "chat Qwen/Qwen2.5-7B-Instruct" and span.kind == trace.SpanKind.CLIENT
    assert attributes["gen_ai.operation.name"] == "chat" and attributes["gen_ai.provider.name"] == "huggingface"
    assert attributes["gen_ai.request.model"] == "Qwen/Qwen2.5-7B-Instruct"
    assert attributes["gen_ai.request.max_tokens"] == 40
    assert (attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.output_tokens"]) == (12, 3)
    assert attributes["server.address"] == "127.0.0.1"
    assert attributes["hfproxy.request.id"] == resp.headers["X-Request-Id"]
    assert "error.type" not in attributes and span.end_time > span.start_time
    assert PROMPT not in everything(span) and leaked(everything(span), TEST_TOKEN) == []


def test_a_streamed_call_is_one_span_written_when_the_stream_closes(settings, upstream, spans):
    upstream.enqueue(hf_chat.tgi_stream(["a", "b"]))
    resp = post_json(client(settings), "/api/generate", {"inputs": PROMPT, "stream": True})
    assert spans() == ()  # not before the stream has been read to its end
    resp.get_data()
    resp.close()
    (span,) = spans()
    assert span.name == "text_completion openai-community/gpt2"
    assert dict(span.attributes)["gen_ai.request.max_tokens"] == 512
    assert PROMPT not in everything(span) and "Hello" not in everything(span)


def test_a_failed_call_carries_its_error_type(chat_settings, upstream, spans):
    upstream.enqueue(Reply(429, json={"error": f"slow down {TEST_TOKEN}"}))
    post_json(client(chat_settings), "/api/chat", {"messages": [{"role": "user", "content": PROMPT}]})
    (span,) = spans()
    assert dict(span.attributes)["error.type"] == "upstream_rate_limited"
    assert span.status.status_code == trace.StatusCode.ERROR
    assert leaked(everything(span), TEST_TOKEN) == []


def test_only_model_calls_make_spans(settings, spans):
    app = client(settings)
    app.get("/api/health")
    post_json(app, "/api/generate", {"inputs": 5})  # refused before any model call is planned
    assert spans() == ()


def test_with_tracing_off_opentelemetry_is_never_imported():
    code = (
        "import sys, json; from werkzeug.test import Client; from shared.app import ProxyApp;"
        "from shared.settings import Settings;"
        "c = Client(ProxyApp(Settings(demo_mode=True, demo_word_delay=0.0)));"
        "c.post('/api/chat', json={'messages': [{'role': 'user', 'content': 'hi'}]});"
        "print(json.dumps([m for m in sys.modules if m.startswith('opentelemetry')]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
