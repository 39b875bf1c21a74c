"""No request smuggling through a malformed header block (issue 28, failure 4): a header line that
is not ``name: value`` is a 400 and the connection closes, so no byte after it is read as a request.

The attack: ``Content-Length : 46`` (whitespace before the colon) or a line without a colon made
http.server's parser end the header block early; the body was then read as the next request (a
``400 invalid_json``, then a ``200`` for a smuggled ``GET /api/openapi.json`` on the same connection).
"""

from __future__ import annotations

import json

import pytest

from tests.functions.local.test_hardening import connect, started  # noqa: F401

SMUGGLED = b"GET /api/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n"
BODY = json.dumps({"inputs": "Hello"}).encode()


def attack(header_line: bytes, body: bytes = SMUGGLED) -> bytes:
    return (
        b"POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + header_line
        + b"\r\n\r\n"
        + body
    )


def everything_answered(port: int, raw: bytes) -> list[tuple[int, dict, bytes]]:
    """Every response the server sends on one connection to ``raw``, read until it closes."""
    sock = connect(port)
    sock.sendall(raw)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    answers = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        length = int(headers.get("content-length", len(rest)))
        answers.append((int(lines[0].split()[1]), headers, rest[:length]))
        data = rest[length:]
    return answers


MALFORMED_HEADER_LINES = [
    b"Content-Length : %d" % len(SMUGGLED),  # whitespace before the colon (RFC 9112 section 5.1)
    b"Content-Length\t: %d" % len(SMUGGLED),
    b"Transfer-Encoding : chunked",
    b"X-Note: fine\r\nno colon on this line",
    b"X-Folded: a\r\n b",  # obs-fold (section 5.2)
    b"X-Folded: a\r\n\tb",
    b"Bad(Name): x",  # not a token (RFC 9110 section 5.1)
    b"X-Null: a\x00b",
    b"X-Cr: a\rb",
    b"X-Vt: a\x0bb",  # any control but HTAB (RFC 9110 section 5.5)
    b"Content-Length: %d\r\nno colon after the length" % len(SMUGGLED),
    b"X Note: a space in the name",
    b"X-N\xc3\xb6te: a name that is not ASCII",
    b": an empty name",
    b"X-Note: a bare LF ends this line\nContent-Length: 0",  # lines end with CRLF (section 2.2)
    b"Host: a second host",  # exactly one Host (section 3.2)
]
MALFORMED_REQUEST_LINES = [
    b"POST  /api/generate HTTP/1.1",  # two spaces (RFC 9112 section 3)
    b"POST\t/api/generate HTTP/1.1",
    b"POST /api/generate HTTP/1.1 ",
    b"POST /api/generate",  # HTTP/0.9
    b"POST /api/generate http/1.1",
    b"POST /api/gen erate HTTP/1.1",
    b"PO(ST /api/generate HTTP/1.1",  # a method is a token
]
MALFORMED_HEADS = [
    *(attack(line) for line in MALFORMED_HEADER_LINES),
    *(
        line + b"\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(SMUGGLED) + SMUGGLED
        for line in MALFORMED_REQUEST_LINES
    ),
    b"POST /api/generate HTTP/1.1\r\n Host: x\r\nContent-Length: 2\r\n\r\n{}"
    + SMUGGLED,  # space before the first field
]


@pytest.mark.parametrize("raw", MALFORMED_HEADS)
def test_a_malformed_head_is_one_400_and_the_connection_closes(started, raw):  # noqa: F811
    port = started()
    # WHEN a request's line or header block is malformed, a smuggled request where its body would be
    answers = everything_answered(port, raw)
    # THEN exactly one answer: a 400 envelope, the connection closed; the smuggled GET is never answered
    assert len(answers) == 1, [a[0] for a in answers]
    status, headers, body = answers[0]
    assert status == 400 and json.loads(body)["code"] == "bad_request"
    assert headers["connection"] == "close"


LEGAL_HEADS = [
    # spacing RFC 9110 allows around a value, and an empty value
    b"POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Type:application/json\r\nX-Empty:\r\n"
    b"X-Spaced:   padded   \r\nContent-Length: %d\r\n\r\n" % len(BODY),
    # one CRLF before the request line, a query, obs-text in a value, tchar punctuation in a name
    b"\r\nPOST /api/generate?x=1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"X-Latin: caf\xe9\r\nX-Odd!#$%%&'*+.^_`|~: ok\r\nContent-Length: %d\r\n\r\n" % len(BODY),
]


@pytest.mark.parametrize("head", LEGAL_HEADS)
def test_a_well_formed_request_with_odd_but_legal_headers_is_served(started, head):  # noqa: F811
    port = started()
    # WHEN it comes with its body, then two more requests on the connection
    raw = head + BODY + SMUGGLED + b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    # THEN all three are answered (keep-alive is unharmed)
    assert [a[0] for a in everything_answered(port, raw)] == [200, 200, 200]


@pytest.mark.parametrize(
    "raw",
    [
        attack(b"Content-Length : 2") + b"\r\nOrigin: https://app.example",  # refused header block
        b"POST /api/generate HTTP/1.1\r\nOrigin: https://app.example\r\nContent-Length: x\r\n\r\n",
        b"POST /api/generate HTTP/1.1\r\nOrigin: https://app.example\r\nContent-Length: 5\r\n\r\nab",
    ],
)
def test_the_servers_own_refusals_are_built_by_the_core(started, raw):  # noqa: F811
    # GIVEN a server allowing one browser origin
    from shared.settings import Settings

    port = started(Settings(demo_mode=True, allowed_origins=("https://app.example",)))
    # WHEN it refuses a request itself, before the app runs
    (status, headers, body), *_ = everything_answered(port, raw)
    # THEN the refusal carries what every answer of the core does
    assert 400 <= status < 500 and set(json.loads(body)) >= {"error", "code"}
    assert len(headers["x-request-id"]) == 32 and headers["vary"] == "Origin"
    assert headers["cache-control"] == "no-store"
    if b"Content-Length : " not in raw:  # the Origin header was read: the page may read the refusal
        assert headers["access-control-allow-origin"] == "https://app.example"


@pytest.mark.parametrize(("path", "openai"), [("/api/v1/responses", True), ("/api/generate", False)])
def test_the_servers_own_refusal_answers_in_the_paths_error_shape(started, path, openai):  # noqa: F811
    # GIVEN a body declared larger than the server accepts, on an OpenAI path and on our own
    port = started()
    raw = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999\r\n\r\n"
    (status, _, body), *_ = everything_answered(port, raw.encode())
    # THEN 413, in the shape the path's clients parse (OpenAI's error object, or our envelope)
    error = json.loads(body)["error"]
    assert status == 413 and (error["code"] == "body_too_large" if openai else isinstance(error, str))


def test_http11_needs_a_host_and_http10_does_not(started):  # noqa: F811
    port = started()
    # RFC 9112 section 3.2: a server MUST answer 400 to an HTTP/1.1 request without Host
    assert [a[0] for a in everything_answered(port, b"GET /api/health HTTP/1.1\r\n\r\n" + SMUGGLED)] == [400]
    assert [a[0] for a in everything_answered(port, b"GET /api/health HTTP/1.0\r\n\r\n")] == [200]


@pytest.mark.parametrize(
    ("length", "extra", "continued", "status"),
    [
        (len(BODY), b"", True, 200),
        (99999999, b"", False, 413),  # too large: refused at once
        (len(BODY), b"Transfer-Encoding: chunked\r\n", False, 400),  # ambiguous framing: refused at once
    ],
)
def test_100_continue_only_when_the_body_will_be_read(started, length, extra, continued, status):  # noqa: F811
    # GIVEN a client that waits for 100 Continue before it sends its body (RFC 9110 section 10.1.1)
    port = started()
    sock = connect(port)
    sock.sendall(
        b"POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Expect: 100-continue\r\nContent-Length: %d\r\n%s\r\n" % (length, extra)
    )
    # WHEN the server has read the head
    first = sock.recv(65536)
    # THEN a body it will read is asked for; one it refuses is refused at once, never asked for
    assert first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n") is continued
    if continued:
        sock.sendall(BODY)
        first = first.removeprefix(b"HTTP/1.1 100 Continue\r\n\r\n") or sock.recv(65536)
    assert first.split(b" ", 2)[1] == str(status).encode()
    sock.close()


@pytest.mark.parametrize(
    ("fields", "size", "status"),
    [(100, 10, 200), (101, 10, 431), (20, 3000, 200), (30, 3000, 431)],  # 100 fields at most; 64 KiB in all
)
def test_the_header_block_has_a_field_count_and_a_size_limit(started, fields, size, status):  # noqa: F811
    # GIVEN a GET whose header block has ``fields`` fields (Host and Connection among them) of about ``size`` bytes each
    port = started()
    extra = b"".join(b"X-F%d: %s\r\n" % (i, b"v" * size) for i in range(fields - 2))  # with Host and Connection
    raw = b"GET /api/health HTTP/1.1\r\nHost: x\r\n" + extra + b"Connection: close\r\n\r\n"
    # THEN it is served up to the limits and refused with 431 beyond them
    assert [a[0] for a in everything_answered(port, raw)] == [status]


CHUNKED_HEAD = (
    b"POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"%x\r\n%s\r\n0\r\n\r\n" % (len(BODY), BODY), 200),  # the control
        (b"%x;name=value\r\n%s\r\n0\r\nX-Trailer: ok\r\n\r\n" % (len(BODY), BODY), 200),  # extension, trailer
        (b"%x\n%s\r\n0\r\n\r\n" % (len(BODY), BODY), 400),  # a bare LF after the size
        (b" %x \r\n%s\r\n0\r\n\r\n" % (len(BODY), BODY), 400),  # spaces around the size
        (b"\x0b%x\r\n%s\r\n0\r\n\r\n" % (len(BODY), BODY), 400),  # a control before it
        (b"%x\r\n%s\r\n0\r\n\n" % (len(BODY), BODY), 400),  # a bare LF ending the trailers
        (b"%x\r\n%s\r\n0\r\nX Bad trailer\r\n\r\n" % (len(BODY), BODY), 400),  # a trailer that is no field
    ],
)
def test_chunked_framing_is_read_as_strictly_as_the_head(started, body, status):  # noqa: F811
    # GIVEN a chunked body, then a pipelined request where a looser reader would resume
    port = started()
    then = SMUGGLED.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")  # so the connection ends
    answers = everything_answered(port, CHUNKED_HEAD + body + then)
    # THEN a well-framed body is answered and the next request too; a malformed one is one 400, then close
    expected = [200, 200] if status == 200 else [400]
    assert [a[0] for a in answers][: len(expected)] == expected and len(answers) == len(expected)


@pytest.mark.parametrize(
    ("host", "status"),
    [
        (b"a b", 400),  # RFC 9112 section 3.2: an invalid Host value MUST get a 400
        (b"a/b", 400),
        (b"user@example.com", 400),  # userinfo is not part of Host
        (b"[::1", 400),
        (b"example.com:http", 400),
        (b"%zz.example", 400),
        (b"[:]", 400),  # an IP-literal must be an IPv6 address (RFC 3986 section 3.2.2) or IPvFuture
        (b"[1.2.3.4]", 400),
        (b"[::1::2]", 400),
        (b"[::1%25eth0]", 400),  # no zone id in a Host
        (b"[V1.x]", 200),  # IPvFuture's "v" is case-insensitive
        (b"[2001:db8::a]:443", 200),
        (b"%4a%4A.example", 200),
        (b"example.com", 200),
        (b"127.0.0.1:8000", 200),
        (b"[::1]:8000", 200),
        (b"xn--bcher-kva.example", 200),
        (b"", 200),  # an empty host is a valid (empty) reg-name (RFC 3986 section 3.2.2)
    ],
)
def test_the_host_value_is_checked(started, host, status):  # noqa: F811
    # GIVEN a GET whose one Host field holds ``host``
    port = started()
    raw = b"GET /api/health HTTP/1.1\r\nHost: " + host + b"\r\n\r\n"
    raw += b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"  # then another request
    # THEN a valid host is served; an invalid one is one 400 and the end of the connection
    answers = [a[0] for a in everything_answered(port, raw)]
    assert answers == ([400] if status == 400 else [200, 200])


def test_a_lowercase_head_is_not_head_and_keeps_its_body(started):  # noqa: F811
    # GIVEN "head" (methods are case-sensitive: not HEAD), then a GET, on one connection
    port = started()
    raw = b"head /api/health HTTP/1.1\r\nHost: x\r\n\r\n"
    raw += b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    # WHEN both are answered
    answers = everything_answered(port, raw)
    # THEN each sends the body its Content-Length announces, so the two are read apart
    assert [status for status, _, _ in answers] == [200, 200]
    assert all(json.loads(body)["status"] == "ok" for _, _, body in answers)


def test_the_servers_own_refusal_of_a_head_has_no_body(started):  # noqa: F811
    # GIVEN a HEAD with a transfer coding the server does not implement
    port = started()
    # WHEN the server refuses it
    ((status, headers, body),) = everything_answered(
        port, b"HEAD /api/health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"
    )
    # THEN the refusal announces the envelope's length and sends no body before it closes
    assert status == 501 and body == b"" and int(headers["content-length"]) > 0
