"""Hypothesis strategies for what a browser, a script or an attacker can send, and the checks every
answer must pass whatever was sent.

Runs are derandomized (the same examples every run, so CI cannot flake) with no example database.
"""

from __future__ import annotations

import json
import re
import string

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st


def fuzz(examples: int):
    """Hypothesis settings for a fuzz test; the fixtures (fake upstream) are reset inside each example."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


MAX_PROMPT = 200  # the fuzzed servers run with MAX_PROMPT_CHARS=200 and MAX_BODY_BYTES=2048
MAX_BODY = 2048
ALLOWED_ORIGIN = "https://app.example"
PROMPT_KEYS = ("inputs", "input", "prompt")
PARAMETER_KEYS = {
    "max_new_tokens",
    "temperature",
    "top_p",
    "top_k",
    "repetition_penalty",
    "return_full_text",
    "do_sample",
    "num_return_sequences",
    "seed",
    "stop",
    "max_time",
}
OPTION_KEYS = {"use_cache", "wait_for_model"}
SNAKE = re.compile(r"^[a-z]+(_[a-z]+)*$")

# --- JSON of any shape, including what the strict parser must refuse ------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),  # json.dumps writes NaN/Infinity
    st.text(max_size=40),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=20,
)
prompts = st.text(min_size=1, max_size=MAX_PROMPT).filter(lambda s: s.strip())


def _dump(value) -> bytes:
    return json.dumps(value).encode()


@st.composite
def valid_payloads(draw) -> dict:
    """A request the proxy must accept and forward."""
    payload: dict = {draw(st.sampled_from(PROMPT_KEYS)): draw(prompts)}
    params = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "max_new_tokens": st.integers(1, 50),
                "temperature": st.floats(0, 100, allow_nan=False),
                "top_p": st.floats(0, 1, allow_nan=False),
                "top_k": st.integers(1, 1000),
                "repetition_penalty": st.floats(0, 100, allow_nan=False),
                "return_full_text": st.booleans(),
                "do_sample": st.booleans(),
                "num_return_sequences": st.integers(1, 10),
                "seed": st.integers(0, 2**64 - 1),
                "stop": st.lists(st.text(min_size=1, max_size=64), max_size=8),
                "max_time": st.floats(0.001, 120, allow_nan=False),
            },
        )
    )
    if params or draw(st.booleans()):
        payload["parameters"] = params
    options = draw(st.fixed_dictionaries({}, optional={k: st.booleans() for k in OPTION_KEYS}))
    if options:
        payload["options"] = options
    return payload


# A value of the wrong type for each field (strict: no coercion of "5" to 5, no bool as int).
finite = st.floats(allow_nan=False, allow_infinity=False)
words = st.text(max_size=10)
WRONG = {
    "prompt": st.one_of(st.integers(), finite, st.booleans(), st.lists(words), st.dictionaries(words, words)),
    "max_new_tokens": st.one_of(words, st.booleans(), finite, st.lists(st.integers()), st.integers(max_value=0)),
    "temperature": st.one_of(words, st.booleans(), st.lists(finite), st.floats(100.001, 1e300)),
    "top_p": st.one_of(words, st.booleans(), st.floats(1.0001, 1e300), st.floats(-1e300, -0.0001)),
    "top_k": st.one_of(words, st.booleans(), finite, st.integers(max_value=0)),
    "repetition_penalty": st.one_of(words, st.booleans(), st.floats(-1e300, -0.0001)),
    "return_full_text": st.one_of(words, st.integers(), finite),
    "do_sample": st.one_of(st.sampled_from(["true", "false", "1"]), st.integers(), finite),
    "num_return_sequences": st.one_of(words, st.booleans(), st.integers(min_value=11), st.integers(max_value=0)),
    "seed": st.one_of(words, st.booleans(), st.integers(min_value=2**64), st.integers(max_value=-1)),
    "stop": st.one_of(
        words, st.integers(), st.lists(st.integers(), min_size=1), st.lists(st.text(min_size=1), min_size=9)
    ),
    "max_time": st.one_of(words, st.booleans(), st.floats(-1e300, 0), st.floats(120.001, 1e300)),
    "use_cache": st.one_of(words, st.integers(), finite),
    "wait_for_model": st.one_of(words, st.integers(), finite),
    "parameters": st.one_of(words, st.integers(), st.lists(st.integers()), st.booleans()),
    "options": st.one_of(words, st.integers(), st.lists(st.integers()), st.booleans()),
    "unknown": st.just(1),  # an extra key: refused, never forwarded with our token
}


@st.composite
def payloads_with_one_wrong_field(draw) -> tuple[dict, str]:
    """A valid request with exactly one field replaced by a value the schema must refuse."""
    payload = draw(valid_payloads())
    field = draw(st.sampled_from(sorted(WRONG)))
    value = draw(WRONG[field])
    if field == "prompt":
        key = next(k for k in PROMPT_KEYS if k in payload)
        payload[key] = value
        return payload, key
    if field in PARAMETER_KEYS:
        payload.setdefault("parameters", {})[field] = value
        return payload, f"parameters.{field}"
    if field in OPTION_KEYS:
        payload.setdefault("options", {})[field] = value
        return payload, f"options.{field}"
    if field == "unknown":
        payload["parameters_extra"] = value
        return payload, "parameters_extra"
    payload[field] = value
    return payload, field


def value_at(payload: dict, field: str):
    """The value at a dotted field name ("parameters.seed"), or None."""
    value = payload
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _nested(depth: int) -> bytes:
    return b'{"inputs": ' + b"[" * depth + b"]" * depth + b"}"


# Bodies that must never be forwarded, whatever else the request says.
SPECIAL_BODIES = [
    b"",
    b"   ",
    b"\xff\xfe\x00{",  # not UTF-8
    b'{"inputs": "caf\xe9"}',  # Latin-1, not UTF-8
    b'{"inputs": "\xed\xa0\x80"}',  # a UTF-8-encoded surrogate
    _nested(100_000)[:MAX_BODY],  # deeply nested, cut at the cap: invalid
    b"[" * 1000 + b"]" * 1000,  # deeply nested, under the cap
    _nested(900),
    b'{"inputs": "hi", "parameters": {"seed": ' + b"9" * 5000 + b"}}",  # huge number, over the int digit limit
    b'{"inputs": "hi", "parameters": {"temperature": 1e999}}',  # overflows to inf
    b'{"inputs": "hi", "parameters": {"temperature": NaN}}',
    b'{"inputs": "hi", "parameters": {"top_p": -Infinity}}',
    b'{"inputs": "hi", "inputs": "again"}',  # duplicate keys
    b'{"inputs": "hi", "parameters": {"top_k": 5, "top_k": 6}}',
    b'"just a string"',
    b"[]",
    b"null",
    b"123",
    b'{"inputs": "' + b"a" * (MAX_PROMPT + 1) + b'"}',  # one over the prompt limit
    b'{"inputs": "' + b"a" * (MAX_BODY + 10) + b'"}',  # over the body cap
    b'{"inputs": "hi"} trailing',
    b'{"inputs": "\\ud800"}',  # a lone surrogate escape
    b"\x00\x00\x00\x00",
    b'\xef\xbb\xbf{"inputs": "BOM"}',
]

bodies = st.one_of(
    st.binary(max_size=MAX_BODY + 64),
    json_values.map(_dump),
    valid_payloads().map(_dump),
    payloads_with_one_wrong_field().map(lambda pair: _dump(pair[0])),
    st.sampled_from(SPECIAL_BODIES),
    st.text(max_size=300).map(str.encode),
)
content_types = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "APPLICATION/JSON",
            "application/problem+json",
            "text/plain",
            "text/plain;charset=UTF-8",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz",
            "",
            ";",
            "application/",
        ]
    ),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=40),
)
methods = st.one_of(
    st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "post", "TRACE"]),
    st.text(alphabet=string.ascii_letters, min_size=1, max_size=10),
)
paths = st.one_of(
    st.sampled_from(
        ["/api/generate", "/api/generate/", "/api/chat", "/api/health", "/", "/api", "/api/GENERATE", "//api/generate"]
    ),
    st.text(alphabet=string.ascii_letters + string.digits + "/._-~%", max_size=60).map(lambda s: "/" + s),
)
origins = st.one_of(
    st.none(),
    st.sampled_from(
        [ALLOWED_ORIGIN, ALLOWED_ORIGIN + "/", "https://evil.example", "null", "", "https://app.example.evil"]
    ),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
)
header_names = st.text(alphabet=string.ascii_letters + string.digits + "-", min_size=1, max_size=20).filter(
    lambda n: n.lower() not in {"content-type", "content-length", "origin", "host", "transfer-encoding"}
)
header_values = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=60)
extra_headers = st.dictionaries(header_names, header_values, max_size=4)


# --- what every answer must satisfy ---------------------------------------------------------------


def check_answer(
    status: int, headers: dict[str, str], body: bytes, *, token: str, head: bool = False
) -> dict | list | None:
    """Never a 5xx, never a traceback or the token, always JSON; an error is always the envelope.
    ``head``: the answer to a HEAD, whose body is empty whatever the status (RFC 9110 section 9.3.2)."""
    text = body.decode("utf-8")
    assert status < 500, text
    assert "Traceback" not in text and 'File "' not in text
    assert token not in text and all(token not in v for v in headers.values())
    if status == 204:
        assert body == b""
        return None
    if head:  # the GET's (or the error's) headers: JSON, its length announced, not sent
        assert body == b"" and headers.get("content-type") == "application/json"
        assert headers.get("content-length", "").isdigit() and int(headers["content-length"]) > 0
        return None
    assert headers.get("content-type") == "application/json"
    data = json.loads(text)
    if status >= 400:
        assert isinstance(data, dict) and set(data) <= {"error", "code", "details"}, data
        assert isinstance(data["error"], str) and data["error"].endswith(".")
        assert SNAKE.match(data["code"]), data["code"]
    return data


def check_forwarded(forwarded: list, *, token: str, max_prompt: int = MAX_PROMPT) -> None:
    """Whatever reached the upstream is a well-formed HF request carrying the server's token."""
    for received in forwarded:
        assert received.headers["authorization"] == f"Bearer {token}"
        data = received.json()
        if "messages" in data:  # /api/chat: the OpenAI-style body the chat route builds
            assert isinstance(data["messages"], list) and data["messages"] and isinstance(data.get("model"), str)
            continue
        assert set(data) <= {"inputs", "parameters", "options"}
        assert isinstance(data["inputs"], str) and data["inputs"].strip() and len(data["inputs"]) <= max_prompt
        assert set(data.get("parameters", {})) <= PARAMETER_KEYS
        assert set(data.get("options", {})) <= OPTION_KEYS
