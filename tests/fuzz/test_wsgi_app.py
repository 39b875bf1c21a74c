"""Thousands of generated requests through the WSGI app: never a 5xx, never a traceback, always the
JSON envelope, and nothing reaches the upstream (with our token) unless the request was valid."""

from __future__ import annotations

import json

from hypothesis import example, given
from hypothesis import strategies as st
from werkzeug.test import Client

from shared.app import ProxyApp
from tests.conftest import TEST_TOKEN
from tests.fuzz.strategies import (
    ALLOWED_ORIGIN,
    MAX_BODY,
    MAX_PROMPT,
    SPECIAL_BODIES,
    bodies,
    check_answer,
    check_forwarded,
    content_types,
    extra_headers,
    fuzz,
    header_values,
    methods,
    origins,
    paths,
    payloads_with_one_wrong_field,
    valid_payloads,
    value_at,
)


def send(client: Client, method: str, path: str, body: bytes, headers: dict[str, str], environ=None):
    resp = client.open(path, method=method, data=body, headers=headers, environ_overrides=environ or {})
    return resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, resp.get_data()


@fuzz(1500)
@given(
    method=methods,
    path=paths,
    body=bodies,
    content_type=content_types,
    origin=origins,
    headers=extra_headers,
    content_length=st.one_of(st.none(), header_values, st.sampled_from(["-1", "1e3", "²", "٣", " 12 ", "99999999999"])),
)
@example(
    method="POST",
    path="/api/generate",
    body=b"{}",
    content_type="application/json",
    origin=None,
    headers={},
    content_length="²",
)
def test_any_request_gets_an_envelope_and_only_valid_ones_go_upstream(
    fuzz_settings, upstream, method, path, body, content_type, origin, headers, content_length
):
    # GIVEN a warm app and a fresh upstream record
    upstream.reset()
    client = Client(ProxyApp(fuzz_settings))
    headers = {**headers, "Content-Type": content_type}
    if origin is not None:
        headers["Origin"] = origin
    environ = {} if content_length is None else {"CONTENT_LENGTH": content_length}
    # WHEN anything is sent
    status, out_headers, out = send(client, method, path, body, headers, environ)
    # THEN a well-formed answer, and only a well-formed request with our token went upstream
    # werkzeug's test client upper-cases the method it puts in the environ (EnvironBuilder)
    check_answer(status, out_headers, out, token=TEST_TOKEN, head=method.upper() == "HEAD")
    check_forwarded(upstream.received, token=TEST_TOKEN)
    if upstream.received:
        assert status == 200 and method.upper() == "POST" and len(upstream.received) == 1


@fuzz(400)
@given(body=st.sampled_from(SPECIAL_BODIES) | st.binary(max_size=MAX_BODY))
def test_malformed_bodies_are_400_or_413_and_never_forwarded(fuzz_settings, upstream, body):
    upstream.reset()
    client = Client(ProxyApp(fuzz_settings))
    status, headers, out = send(client, "POST", "/api/generate", body, {"Content-Type": "application/json"})
    data = check_answer(status, headers, out, token=TEST_TOKEN)
    try:
        parsed = json.loads(body)
        plausible = isinstance(parsed, dict) and any(
            isinstance(parsed.get(k), str) for k in ("inputs", "input", "prompt")
        )
    except (ValueError, RecursionError):
        plausible = False
    if not plausible:
        assert status in (400, 413), data
        assert data["code"] in {"invalid_json", "validation_error", "body_too_large"}
        assert upstream.received == []


@fuzz(800)
@given(pair=payloads_with_one_wrong_field())
def test_a_wrong_type_in_any_field_is_a_400_naming_the_field_without_echoing_it(fuzz_settings, upstream, pair):
    payload, field = pair
    upstream.reset()
    client = Client(ProxyApp(fuzz_settings))
    body = json.dumps(payload).encode()
    status, headers, out = send(client, "POST", "/api/generate", body, {"Content-Type": "application/json"})
    data = check_answer(status, headers, out, token=TEST_TOKEN)
    if len(body) > MAX_BODY:
        assert (status, data["code"]) == (413, "body_too_large")
    else:
        assert (status, data["code"]) == (400, "validation_error"), data
        named = [d["field"] for d in data["details"]]
        assert any(f == field or f.startswith(field + ".") for f in named), (field, named)
        # the rejected value is not echoed back
        wrong = value_at(payload, field)
        if isinstance(wrong, str) and len(wrong) >= 8:  # shorter ones may be words of the message
            assert json.dumps(wrong)[1:-1] not in json.dumps(data["details"])
    assert upstream.received == []


@fuzz(400)
@given(payload=valid_payloads(), origin=st.sampled_from([None, ALLOWED_ORIGIN]))
def test_every_valid_request_is_forwarded_once_in_the_hf_shape(fuzz_settings, upstream, payload, origin):
    upstream.reset()
    client = Client(ProxyApp(fuzz_settings))
    headers = {"Content-Type": "application/json", **({"Origin": origin} if origin else {})}
    body = json.dumps(payload).encode()
    status, out_headers, out = send(client, "POST", "/api/generate", body, headers)
    check_answer(status, out_headers, out, token=TEST_TOKEN)
    if len(body) > MAX_BODY:
        assert status == 413 and upstream.received == []
        return
    assert status == 200, out
    assert len(upstream.received) == 1
    check_forwarded(upstream.received, token=TEST_TOKEN)
    forwarded = upstream.received[0].json()
    prompt = next(payload[k] for k in ("inputs", "input", "prompt") if k in payload)
    assert forwarded["inputs"] == prompt
    # always the max_new_tokens it is charged for: the caller's, else MAX_NEW_TOKENS
    sent_parameters = {"max_new_tokens": fuzz_settings.max_new_tokens, **payload.get("parameters", {})}
    assert forwarded.get("parameters", {}) == sent_parameters
    assert forwarded.get("options", {}) == payload.get("options", {})


@fuzz(10)
@given(extra=st.integers(min_value=0, max_value=3))
def test_prompt_at_the_limit_is_forwarded_and_over_it_is_refused(fuzz_settings, upstream, extra):
    upstream.reset()
    client = Client(ProxyApp(fuzz_settings))
    prompt = "é" * (MAX_PROMPT + extra)  # characters, not bytes: 2 bytes each in UTF-8
    status, headers, out = send(
        client,
        "POST",
        "/api/generate",
        json.dumps({"inputs": prompt}, ensure_ascii=False).encode(),
        {"Content-Type": "application/json"},
    )
    data = check_answer(status, headers, out, token=TEST_TOKEN)
    if extra == 0:
        assert status == 200 and upstream.received[0].json()["inputs"] == prompt
    else:
        assert (status, data["code"]) == (400, "validation_error")
        assert prompt not in out.decode()
        assert upstream.received == []
