"""lambda_handler with the real event shapes: HTTP API (2.0), REST API (1.0), Function URL."""

from __future__ import annotations

import json
import time

import pytest

from functions.aws_lambda import handler
from tests.conftest import TEST_TOKEN
from tests.fakes.http_server import Reply
from tests.fakes.lambda_context import LambdaContext
from tests.functions.aws_lambda import events

SHAPES = list(events.SHAPES)
PROMPT = "a distinctive private prompt about my knee"


def invoke(event, context=None):
    resp = handler.lambda_handler(event, context or LambdaContext())
    body = resp.get("body") or ""
    if resp.get("isBase64Encoded"):
        import base64

        body = base64.b64decode(body).decode()
    headers = resp.get("headers") or {k: v[-1] for k, v in resp.get("multiValueHeaders", {}).items()}
    return resp["statusCode"], {k.lower(): v for k, v in headers.items()}, body


def post(shape, payload, **kwargs):
    headers = {"content-type": "application/json", "origin": "https://app.example", **kwargs.pop("headers", {})}
    return events.load(shape, body=json.dumps(payload), headers=headers, **kwargs)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("base64_body", [False, True])
def test_generate_through_each_event_shape(lambda_env, shape, base64_body):
    status, headers, body = invoke(post(shape, {"inputs": "Hello"}, base64_body=base64_body))
    assert status == 200, body
    assert json.loads(body) == [{"generated_text": "Hello ... and the fake model continues."}]
    assert headers["access-control-allow-origin"] == "https://app.example"
    assert lambda_env.received[-1].headers["authorization"] == f"Bearer {TEST_TOKEN}"
    assert lambda_env.received[-1].json() == {"inputs": "Hello", "parameters": {"max_new_tokens": 512}}


@pytest.mark.parametrize("shape", SHAPES)
def test_health_and_preflight_through_each_event_shape(lambda_env, shape):
    status, _, body = invoke(events.load(shape, method="GET", path="/api/health", body=None))
    assert status == 200 and json.loads(body)["status"] == "ok"
    status, headers, _ = invoke(
        events.load(
            shape,
            method="OPTIONS",
            body=None,
            headers={"origin": "https://app.example", "access-control-request-method": "POST"},
        )
    )
    assert status == 204
    assert headers["access-control-allow-origin"] == "https://app.example"


@pytest.mark.parametrize("shape", SHAPES)
def test_errors_keep_the_envelope_through_each_shape(lambda_env, shape):
    status, headers, body = invoke(post(shape, {"inputs": 5}))
    assert status == 400 and json.loads(body)["code"] == "validation_error"
    assert headers["content-type"] == "application/json"
    status, _, body = invoke(post(shape, {"inputs": "Hi"}, headers={"origin": "https://evil.example"}))
    assert status == 403 and json.loads(body)["code"] == "origin_not_allowed"


@pytest.mark.parametrize("shape", SHAPES)
def test_body_that_is_not_base64_gets_a_400_envelope(lambda_env, shape, capsys, recwarn):
    # GIVEN an event that says its body is base64 but it is not
    event = post(shape, {"inputs": "Hi"})
    event["body"], event["isBase64Encoded"] = "%%% not base64 %%%", True
    # WHEN it is invoked
    status, _, body = invoke(event)
    # THEN a 400 envelope, nothing sent upstream, and the refusal counted in the invocation's EMF line
    assert status == 400 and json.loads(body)["code"] == "invalid_body_encoding"
    assert lambda_env.received == []
    (doc,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert doc["status"] == 400 and doc["code"] == "invalid_body_encoding" and doc["Requests"] == [1.0]
    assert not [w for w in recwarn if "No application metrics" in str(w.message)]


@pytest.mark.parametrize("shape", SHAPES)
def test_the_handlers_own_refusal_is_built_by_the_core(lambda_env, shape):
    # GIVEN an event serverless-wsgi cannot translate, from an allowed browser origin
    event = post(shape, {"inputs": "Hi"})
    event["body"], event["isBase64Encoded"] = "%%% not base64 %%%", True
    context = LambdaContext()
    # WHEN it is invoked
    status, headers, body = invoke(event, context)
    # THEN the refusal is like every answer of the core: envelope, CORS for the origin, the request id
    assert status == 400 and json.loads(body)["code"] == "invalid_body_encoding"
    assert headers["access-control-allow-origin"] == "https://app.example"
    assert headers["x-request-id"] == context.aws_request_id
    assert headers["vary"] == "Origin" and headers["cache-control"] == "no-store"


@pytest.mark.parametrize("shape", SHAPES)
def test_the_handlers_own_refusal_of_a_head_has_no_body(lambda_env, shape):
    # GIVEN a HEAD event with a header value serverless-wsgi refuses (a newline in it)
    event = events.load(shape, method="HEAD", path="/api/health", headers={"x-note": "line one\nline two"})
    # WHEN it is invoked
    status, headers, body = invoke(event)
    # THEN a 400 whose length is announced and whose body is not sent (RFC 9110 section 9.3.2)
    assert status == 400 and body == "" and int(headers["content-length"]) > 0


def test_request_id_is_the_lambda_request_id(lambda_env):
    context = LambdaContext()
    _, headers, _ = invoke(post("http_api_v2", {"inputs": "Hi"}), context)
    assert headers["x-request-id"] == context.aws_request_id


def test_deadline_comes_from_the_time_lambda_has_left(lambda_env, monkeypatch):
    # GIVEN an invocation with 1.5 s left (margin 1 s) and an upstream that takes 5 s
    lambda_env.enqueue(Reply(json=[{"generated_text": "late"}], delay=5.0))
    started = time.monotonic()
    status, _, body = invoke(post("http_api_v2", {"inputs": "Hi"}), LambdaContext(timeout_ms=1500))
    # THEN the function answers 504 well before Lambda would kill it
    assert status == 504 and json.loads(body)["code"] == "upstream_timeout"
    assert time.monotonic() - started < 1.5  # Lambda stops it at 1.5 s; a deadline not kept answers at 5 s


@pytest.mark.parametrize(
    ("reply", "payload"),
    [
        (Reply(json=[{"generated_text": "x" * 300}], trickle=0.1, trickle_head=True), {"inputs": "Hi"}),
        (Reply(json=[{"generated_text": "x" * 300}], trickle=0.1, sized=False), {"inputs": "Hi"}),
        (Reply(json=[{"generated_text": "x" * 300}], trickle=0.1, headers={"Connection": "close"}), {"inputs": "Hi"}),
        (Reply(json=[{"generated_text": "x" * 300}], trickle=0.1), {"inputs": "Hi", "stream": True}),
        (Reply(stream=[b"data:{}\n\n"] * 200, stream_delay=0.05), {"inputs": "Hi", "stream": True}),
    ],
    ids=["headers trickle", "body ends at close", "Connection: close", "stream asked, plain body", "endless stream"],
)
def test_an_invocation_always_ends_with_the_envelope_before_lambda_would_kill_it(lambda_env, reply, payload):
    # GIVEN an invocation with 2 s left (margin 1 s) and an upstream that never finishes in time
    lambda_env.enqueue(reply)
    started = time.monotonic()
    status, headers, body = invoke(post("http_api_v2", payload), LambdaContext(timeout_ms=2000))
    elapsed = time.monotonic() - started
    # THEN the function returned our JSON envelope, 504, before the platform's 2 s were up
    assert elapsed < 2.0, elapsed
    assert status == 504 and headers["content-type"] == "application/json"
    assert json.loads(body)["code"] == "upstream_timeout"


def test_no_token_configured_is_a_500_not_demo(lambda_env, monkeypatch):
    monkeypatch.delenv("HF_TOKEN")
    handler.app.configure(None)
    status, headers, body = invoke(post("http_api_v2", {"inputs": "Hi"}))
    assert status == 500 and "HF_TOKEN" in json.loads(body)["error"]
    assert "x-hfproxy-mode" not in headers
    assert lambda_env.received == []


def test_one_emf_line_carries_metrics_and_the_request_record_not_content(lambda_env, caplog, capsys):
    # GIVEN an upstream that echoes our token back in its answer and a header
    lambda_env.enqueue(
        Reply(json=[{"generated_text": f"{PROMPT} Bearer {TEST_TOKEN}"}], headers={"X-Echo": f"Bearer {TEST_TOKEN}"})
    )
    caplog.set_level("INFO", logger="hfproxy")
    # WHEN one request goes through the handler
    context = LambdaContext()
    status, headers, body = invoke(post("http_api_v2", {"inputs": PROMPT}), context)
    assert status == 200
    # THEN the answer and its headers are free of the token
    assert TEST_TOKEN not in body and TEST_TOKEN not in json.dumps(headers)
    # AND the invocation printed one EMF document: the metrics, plus the request's figures as metadata
    printed = capsys.readouterr().out
    emf = [json.loads(line) for line in printed.splitlines() if '"_aws"' in line]
    assert len(emf) == 1
    (doc,) = emf
    metric_names = {m["Name"] for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"Requests", "Upstream2xx", "UpstreamLatency"} <= metric_names
    assert doc["status"] == 200 and doc["upstream_status"] == 200 and doc["path"] == "/api/generate"
    assert doc["prompt_chars"] == len(PROMPT) and doc["model"] == "openai-community/gpt2"
    assert doc["request_id"] == context.aws_request_id
    # AND neither that line nor any log record holds the token or the prompt
    assert TEST_TOKEN not in printed and PROMPT not in printed
    for record in caplog.records:
        dumped = json.dumps(record.__dict__, default=str)
        assert TEST_TOKEN not in dumped and PROMPT not in dumped


def test_a_failed_request_is_in_the_emf_line_with_its_error_code(lambda_env, capsys):
    # GIVEN an upstream that rejects our token
    lambda_env.enqueue(Reply(401, json={"error": "Invalid credentials in Authorization header"}))
    # WHEN a request goes through the handler
    status, _, _ = invoke(post("http_api_v2", {"inputs": "Hi"}))
    # THEN the invocation's EMF document records the status and the stable error code
    (doc,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert status == doc["status"] == 502 and doc["code"] == "upstream_auth_failed"
    assert doc["upstream_status"] == 401


@pytest.mark.parametrize("upstream_status", [200, 503, None])
def test_the_emf_document_is_the_one_powertools_own_flush_writes(capsys, upstream_status):
    # GIVEN a request record, with and without an upstream call
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    from shared.telemetry import RequestRecord

    record = RequestRecord(
        "rid-1", "POST", "/api/generate", status=200, upstream_status=upstream_status, upstream_ms=4.5
    )
    # WHEN our telemetry writes it, and powertools' add_metric / add_metadata / flush_metrics write the same figures
    handler.PowertoolsTelemetry().record(record)
    reference = Metrics(namespace="hfproxy", service="hfproxy")
    for key, value in record.fields().items():
        reference.add_metadata(key=key, value=value)
    reference.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
    if upstream_status is not None:
        reference.add_metric(name=f"Upstream{upstream_status // 100}xx", unit=MetricUnit.Count, value=1)
        reference.add_metric(name="UpstreamLatency", unit=MetricUnit.Milliseconds, value=4.5)
    reference.flush_metrics()
    ours, theirs = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    # THEN the two documents are the same but for the time they were written
    for doc in (ours, theirs):
        doc["_aws"].pop("Timestamp")
    assert ours == theirs


def test_another_metrics_object_in_the_process_does_not_change_our_dimensions(capsys):
    # GIVEN another powertools Metrics in the process that adds a dimension of its own
    # (powertools keeps one dimension set for every Metrics object in a process)
    from aws_lambda_powertools import Metrics

    from shared.telemetry import RequestRecord

    other = Metrics(namespace="other", service="other")
    other.add_dimension(name="tenant", value="t1")
    try:
        # WHEN our telemetry writes a record
        handler.PowertoolsTelemetry().record(RequestRecord("rid-2", "GET", "/api/health", status=200))
    finally:
        other.clear_metrics()
    # THEN our document has our service as its one dimension
    ours = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert ours["service"] == "hfproxy" and "tenant" not in ours
    assert ours["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]


def test_concurrent_records_each_leave_one_whole_emf_line(capfd):
    # GIVEN one telemetry object, as a process serving several invocations at once has
    import threading

    from shared.telemetry import RequestRecord

    telemetry = handler.PowertoolsTelemetry()
    record = RequestRecord("rid-1", "GET", "/api/health", status=200, upstream_status=200, upstream_ms=1.0)

    def invocations() -> None:
        for _ in range(200):
            telemetry.record(record)

    # WHEN 16 threads write records at once
    threads = [threading.Thread(target=invocations) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN every line is one whole EMF document (capfd: the process's own stdout, not a Python stand-in)
    lines = capfd.readouterr().out.split("\n")[:-1]
    assert len(lines) == 3200
    assert all(json.loads(line)["request_id"] == "rid-1" for line in lines)


def test_powertools_metrics_disabled_writes_no_emf_line(lambda_env, capsys, monkeypatch):
    # GIVEN POWERTOOLS_METRICS_DISABLED, which powertools' flush_metrics honours
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    # WHEN a request goes through the handler
    status, _, _ = invoke(events.load("http_api_v2", method="GET", path="/api/health"))
    # THEN it is served and no EMF document is printed
    assert status == 200 and '"_aws"' not in capsys.readouterr().out


def test_function_url_with_a_null_authorizer_is_served(lambda_env):
    # GIVEN a Function URL with auth type NONE, which sends "authorizer": null (Lambda developer guide,
    # "Invoking Lambda function URLs", request payload)
    event = post("function_url", {"inputs": "Hello"})
    event["requestContext"]["authorizer"] = None
    # WHEN it is invoked, THEN it is answered like any other request
    status, _, body = invoke(event)
    assert status == 200, body
