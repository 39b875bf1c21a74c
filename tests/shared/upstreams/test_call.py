"""One upstream-call object keeps the request's upstream figures, each with one meaning: attempts
made, the last status, and upstream time summed over every call (streams until they close)."""

from __future__ import annotations

import pytest
from werkzeug.test import Client

from shared.app import ProxyApp
from shared.routes.table import ROUTES
from tests.conftest import TEST_TOKEN, post_json
from tests.fakes import hf_chat
from tests.fakes.hf_inference import loading
from tests.fakes.http_server import Reply


def test_a_retried_call_sums_its_upstream_time_and_leaves_out_the_wait(settings, upstream, telemetry):
    # GIVEN a model that answers "loading" (0.15 s late), then its answer (0.15 s late)
    client = Client(ProxyApp(settings, telemetry=telemetry))
    slow_loading = loading(0.0)
    slow_loading.delay = 0.15
    upstream.enqueue(slow_loading, Reply(json=[{"generated_text": "Hi!"}], delay=0.15))
    # WHEN one request goes through
    assert post_json(client, "/api/generate", {"inputs": "Hi"}).status_code == 200
    record = telemetry.records[-1]
    # THEN two attempts, the last status, both calls' time, and not the second spent waiting between
    assert (record.upstream_attempts, record.upstream_status) == (2, 200)
    assert record.upstream_ms is not None and record.upstream_ms >= 300
    assert record.duration_ms - record.upstream_ms >= 900  # MIN_RETRY_WAIT is 1 s


def test_a_stream_counts_its_time_until_it_closes(chat_settings, upstream, telemetry):
    # GIVEN a chat stream whose pieces come 0.1 s apart (six pieces: about half a second)
    client = Client(ProxyApp(chat_settings, telemetry=telemetry))
    upstream.enqueue(hf_chat.words_stream(["a", " b", " c", " d"], stream_delay=0.1))
    # WHEN it is relayed to the end
    resp = client.post("/api/chat", json={"messages": [{"role": "user", "content": "x"}], "stream": True})
    assert b"[DONE]" in resp.get_data()
    resp.close()  # the server closes the stream body once it is sent: the record is written then
    record = telemetry.records[-1]
    # THEN the record has one attempt whose time covers the whole stream, not only its headers
    assert (record.upstream_attempts, record.upstream_status, record.stream_end) == (1, 200, "done")
    assert record.upstream_ms is not None and record.upstream_ms >= 400


def test_a_refused_connection_is_an_attempt_with_its_time_and_no_status(settings, telemetry):
    from tests.conftest import refused_url

    client = Client(ProxyApp(settings.with_changes(hf_inference_url=refused_url()), telemetry=telemetry))
    assert post_json(client, "/api/generate", {"inputs": "Hi"}).status_code == 502
    record = telemetry.records[-1]
    assert (record.upstream_attempts, record.upstream_status) == (1, None)
    assert record.upstream_ms is not None


def test_every_model_route_declares_its_live_and_its_demo_answer():
    # GIVEN the route table
    model_routes = ROUTES.model_routes()
    # THEN each model route names a Hugging Face answer and an offline twin, in their own modules
    assert {r.name for r in model_routes} >= {"generate", "chat", "predict"}
    for route in model_routes:
        assert route.model is not None
        assert route.model.live.target.startswith("shared.upstreams.huggingface:")  # type: ignore[attr-defined]
        assert route.model.demo.target.startswith("shared.upstreams.demo:")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/generate", {"inputs": "Hi"}),
        ("/api/generate", {"inputs": "Hi", "stream": True}),
        ("/api/chat", {"messages": [{"role": "user", "content": "Hi"}]}),
        ("/api/chat", {"messages": [{"role": "user", "content": "Hi"}], "stream": True}),
        ("/api/predict", {"inputs": "Hi"}),
    ],
)
def test_the_demo_upstream_answers_every_model_route_without_reading_the_token(settings, upstream, path, body):
    # GIVEN demo mode and a token source that fails if anything asks it
    client = Client(ProxyApp(settings.with_changes(demo_mode=True, demo_word_delay=0.0), token_source=NoToken()))
    # WHEN a model route is asked
    resp = post_json(client, path, body)
    # THEN it answers, marked demo, and nothing went upstream
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.headers["X-HFProxy-Mode"] == "demo"
    assert upstream.received == []


class NoToken:
    def __call__(self, settings) -> str:
        raise AssertionError("the demo read the token")

    def configured(self, settings) -> bool:
        return False


@pytest.mark.parametrize(("host", "sent"), [("router.huggingface.co", True), ("owner-space.hf.space", False)])
def test_an_organization_pays_when_hf_bill_to_is_set(settings, monkeypatch, host, sent):
    # GIVEN HF_BILL_TO, and a call to a Hugging Face API or to somewhere else (the network stays
    # untouched: the transport's send is replaced by one that records what it would send)
    from shared import errors
    from shared.deadline import Deadline
    from shared.upstreams import call as call_module

    seen: dict = {}

    def record(method, url, *, headers, **kwargs):
        seen.update(headers)
        raise errors.upstream_unreachable()

    monkeypatch.setattr(call_module.transport, "send", record)
    call = call_module.UpstreamCall(lambda: TEST_TOKEN, settings.with_changes(hf_bill_to="my-org"), Deadline.after(5))
    with pytest.raises(errors.ProxyError):
        call.open("POST", f"https://{host}/v1/chat/completions", {})
    # THEN only Hugging Face is told which organization pays
    assert (seen.get("X-HF-Bill-To") == "my-org") is sent
