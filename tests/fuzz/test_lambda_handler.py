"""Generated requests through the Lambda handler in every real event shape (HTTP API 2.0, REST API
1.0, Function URL; plain and base64 bodies, including base64 that does not decode): never a 5xx or a
traceback (in the answer or the logs), always the JSON envelope, nothing forwarded unless valid."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from functions.aws_lambda import handler
from tests.conftest import MODEL_PATH, TEST_TOKEN, function_env
from tests.fakes.lambda_context import LambdaContext
from tests.functions.aws_lambda import events
from tests.fuzz.strategies import (
    ALLOWED_ORIGIN,
    MAX_BODY,
    MAX_PROMPT,
    bodies,
    check_answer,
    check_forwarded,
    content_types,
    fuzz,
    methods,
    origins,
    paths,
    valid_payloads,
)

SHAPES = sorted(events.SHAPES)
event_header_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20).filter(
    lambda n: n not in {"content-type", "content-length", "origin", "host"}
)
event_header_values = st.text(max_size=60)  # API Gateway hands headers over as JSON strings: any Unicode


@pytest.fixture
def lambda_env(monkeypatch, upstream):
    """GIVEN the function's environment pointing at the fake upstream, with small limits."""
    with function_env(
        monkeypatch,
        HF_INFERENCE_URL=upstream.url + MODEL_PATH,
        ALLOWED_ORIGINS=ALLOWED_ORIGIN,
        MAX_PROMPT_CHARS=str(MAX_PROMPT),
        MAX_BODY_BYTES=str(MAX_BODY),
        MAX_NEW_TOKENS="50",
    ):
        yield upstream


def invoke(event: dict) -> tuple[int, dict[str, str], bytes]:
    resp = handler.lambda_handler(event, LambdaContext())
    body = resp.get("body") or ""
    raw = base64.b64decode(body) if resp.get("isBase64Encoded") else body.encode()
    headers = resp.get("headers") or {k: v[-1] for k, v in (resp.get("multiValueHeaders") or {}).items()}
    return resp["statusCode"], {k.lower(): v for k, v in headers.items()}, raw


def json_post(shape: str, body: bytes, as_base64: bool = False, headers: dict[str, str] | None = None):
    """An explicit example: a JSON POST to /api/generate, without an Origin."""
    return example(
        shape=shape,
        method="POST",
        path="/api/generate",
        body=body,
        as_base64=as_base64,
        content_type="application/json",
        origin=None,
        headers=headers or {},
    )


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@fuzz(900)
@given(
    shape=st.sampled_from(SHAPES),
    method=methods.map(str.upper),
    path=paths,
    body=bodies,
    as_base64=st.booleans(),
    content_type=content_types,
    origin=origins,
    headers=st.dictionaries(event_header_names, event_header_values, max_size=4),
)
@json_post("http_api_v2", b'{"inputs": "\xff\xfe"}', as_base64=True)
# a header value with a newline: werkzeug refuses it while serverless-wsgi builds the environ
@json_post("rest_api_v1", b'{"inputs": "hi"}', headers={"x-note": "line one\nline two"})
def test_any_event_gets_an_envelope_and_only_valid_ones_go_upstream(
    lambda_env, capsys, shape, method, path, body, as_base64, content_type, origin, headers
):
    lambda_env.reset()
    headers = {**headers, "content-type": content_type}
    if origin is not None:
        headers["origin"] = origin
    # Bodies that are not UTF-8 reach Lambda base64-encoded, as API Gateway sends binary bodies.
    event = events.load(
        shape, method=method, path=path, body=body, headers=headers, base64_body=as_base64 or not _utf8(body)
    )
    status, out_headers, out = invoke(event)
    check_answer(status, out_headers, out, token=TEST_TOKEN, head=method == "HEAD")
    check_forwarded(lambda_env.received, token=TEST_TOKEN)
    if lambda_env.received:
        assert status == 200 and method == "POST" and len(lambda_env.received) == 1
    logs = capsys.readouterr()
    assert "Traceback" not in logs.out + logs.err
    assert TEST_TOKEN not in logs.out + logs.err


@fuzz(300)
@given(
    shape=st.sampled_from(SHAPES),
    garbage=st.text(max_size=80).filter(lambda s: s.strip()),
)
@example(shape="rest_api_v1", garbage="%%% not base64 %%%")
@example(shape="function_url", garbage="abc")  # wrong padding
@example(shape="http_api_v2", garbage="\x80")  # not ASCII: base64 raises ValueError, not binascii.Error
@example(shape="http_api_v2", garbage="eyJpbnB1dHMiOiAiaGkifQ")  # valid JSON, padding missing
def test_base64_bodies_that_do_not_decode_are_a_400(lambda_env, shape, garbage):
    lambda_env.reset()
    event = events.load(shape, body=b"{}", headers={"content-type": "application/json"})
    event["body"], event["isBase64Encoded"] = garbage, True
    status, headers, out = invoke(event)
    data = check_answer(status, headers, out, token=TEST_TOKEN)
    if status != 200:
        assert status == 400 and data["code"] in {"invalid_body_encoding", "invalid_json", "validation_error"}
        assert lambda_env.received == []


@fuzz(300)
@given(shape=st.sampled_from(SHAPES), payload=valid_payloads(), as_base64=st.booleans())
def test_valid_requests_are_forwarded_through_every_shape(lambda_env, shape, payload, as_base64):
    lambda_env.reset()
    body = json.dumps(payload).encode()
    headers = {"content-type": "application/json", "origin": ALLOWED_ORIGIN}
    status, out_headers, out = invoke(events.load(shape, body=body, headers=headers, base64_body=as_base64))
    check_answer(status, out_headers, out, token=TEST_TOKEN)
    if len(body) > MAX_BODY:
        assert status == 413 and lambda_env.received == []
        return
    assert status == 200, out
    assert out_headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert len(lambda_env.received) == 1
    check_forwarded(lambda_env.received, token=TEST_TOKEN)
