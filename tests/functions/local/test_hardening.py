"""The local server over real sockets: bad framing is a 4xx JSON envelope, fast, never a 500 or
an HTML page; HTTP/1.1 keep-alive; a cap on open connections; the peer address in the environ."""

from __future__ import annotations

import json
import socket
import time
from contextlib import ExitStack

import pytest

from functions.local.handler import Handler
from functions.local.server import ThreadingWSGIServer, serve
from shared.adapter import CLIENT_IP_KEY
from shared.app import ProxyApp
from shared.settings import Settings
from tests.fakes.http_server import running

BODY = json.dumps({"inputs": "Hello"}).encode()


@pytest.fixture
def started():
    with ExitStack() as stack:

        def start(settings: Settings | None = None, static: bool = True, **attrs):
            httpd = serve(ProxyApp(settings or Settings(demo_mode=True)), port=0, static=static)
            for key, value in attrs.items():
                setattr(httpd, key, value)
            stack.enter_context(running(httpd))
            return httpd.server_port

        yield start


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One response, framed by Content-Length (or by close when there is none)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"closed before the headers: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    if "content-length" in headers:
        while len(body) < int(headers["content-length"]):
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    else:
        while chunk := sock.recv(65536):
            body += chunk
    return status, headers, body


def exchange(port: int, raw: bytes) -> tuple[int, dict[str, str], dict]:
    with connect(port) as sock:
        sock.sendall(raw)
        status, headers, body = read_response(sock)
    assert headers["content-type"] == "application/json", body
    return status, headers, json.loads(body)


def post(body: bytes, extra: str = "", length: int | None = None) -> bytes:
    declared = f"Content-Length: {len(body) if length is None else length}\r\n" if length != -1 else ""
    return (
        f"POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{declared}{extra}\r\n"
    ).encode() + body


def chunked(body: bytes, size: int = 7) -> bytes:
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in parts) + b"0\r\n\r\n"


def test_a_body_shorter_than_its_content_length_is_a_quick_400(started, monkeypatch):
    # GIVEN a server that waits at most 1 s for a pausing client's body
    monkeypatch.setattr(Handler, "body_timeout", 1.0)
    port = started()
    with connect(port) as sock:
        # WHEN the client declares 100 bytes, sends 10 and waits
        sock.sendall(post(BODY[:10], length=100))
        began = time.monotonic()
        status, headers, body = read_response(sock)
    # THEN a 400 envelope comes back within the body timeout (+ generous margin), not a 500
    assert time.monotonic() - began < 1.0 + 5
    assert status == 400 and json.loads(body)["code"] == "incomplete_body"
    assert headers["connection"] == "close"


def test_a_body_trickled_byte_by_byte_is_cut_off_at_the_body_deadline(started, monkeypatch):
    # GIVEN a 1 s budget for the whole body (each pause below is well under it)
    monkeypatch.setattr(Handler, "body_timeout", 1.0)
    port = started()
    with connect(port) as sock:
        sock.sendall(post(b"", length=len(BODY)))
        began = time.monotonic()
        # WHEN the client sends one byte every 0.2 s (the whole body would take ~4 s)
        for byte in BODY:
            try:
                sock.sendall(bytes([byte]))
            except OSError:  # the server has answered and closed
                break
            time.sleep(0.2)  # pacing the slow client, not synchronisation
            if time.monotonic() - began > 1.0 + 5:
                break
        status, _, body = read_response(sock)
    # THEN the 400 comes at the deadline, not after the last byte
    assert status == 400 and json.loads(body)["code"] == "incomplete_body"
    assert time.monotonic() - began < len(BODY) * 0.2


def test_a_chunked_body_trickled_is_cut_off_too(started, monkeypatch):
    monkeypatch.setattr(Handler, "body_timeout", 1.0)
    port = started()
    with connect(port) as sock:
        sock.sendall(post(b"", "Transfer-Encoding: chunked\r\n", length=-1))
        began = time.monotonic()
        for byte in b"5" * 40:  # a chunk-size line that never ends, one byte at a time
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.2)
        status, _, body = read_response(sock)
    assert status == 400 and json.loads(body)["code"] == "invalid_chunked_body"
    assert time.monotonic() - began < 40 * 0.2


@pytest.mark.parametrize("path", ["/" + "a" * 300, "/%00", "/a%00b.html", "/" + "x/" * 200])
def test_any_path_gets_a_json_answer(started, path):
    port = started()
    status, _, payload = exchange(port, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert status == 404 and payload["code"] == "not_found"


def test_a_chunked_body_reaches_the_app(started):
    port = started()
    status, headers, payload = exchange(port, post(chunked(BODY), "Transfer-Encoding: chunked\r\n", length=-1))
    assert status == 200, payload
    assert headers["x-hfproxy-mode"] == "demo"


def test_a_chunked_body_over_the_limit_is_413(started):
    port = started(Settings(demo_mode=True, max_body_bytes=10_000))
    big = json.dumps({"inputs": "x" * 20_000}).encode()
    status, _, payload = exchange(port, post(chunked(big, 4096), "Transfer-Encoding: chunked\r\n", length=-1))
    assert status == 413 and payload["code"] == "body_too_large"


@pytest.mark.parametrize(
    "extra",
    [
        f"Content-Length: {len(BODY) + 1}\r\n",  # a second, different Content-Length
        "Transfer-Encoding: chunked\r\n",  # Content-Length and Transfer-Encoding together
    ],
)
def test_ambiguous_framing_is_refused(started, extra):
    port = started()
    status, headers, payload = exchange(port, post(BODY, extra))
    assert status == 400 and payload["code"] == "invalid_content_length"
    assert headers["connection"] == "close"


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", 431, "headers_too_large"),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414, "uri_too_long"),
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "http_version_not_supported"),
        (b"NONSENSE\r\n\r\n", 400, "bad_request"),
        (post(b"{}", "Transfer-Encoding: gzip\r\n", length=-1), 501, "not_implemented"),
        (post(b"zz\r\n", "Transfer-Encoding: chunked\r\n", length=-1), 400, "invalid_chunked_body"),
    ],
)
def test_every_refusal_is_the_json_envelope(started, raw, status, code):
    port = started()
    got_status, _, payload = exchange(port, raw)
    assert (got_status, payload["code"]) == (status, code)
    assert set(payload) == {"error", "code"}


def test_one_keep_alive_connection_carries_many_requests(started):
    port = started()
    with connect(port) as sock:
        for _ in range(5):
            sock.sendall(post(BODY))
            status, headers, body = read_response(sock)
            assert status == 200 and json.loads(body)
            assert headers.get("connection") != "close"
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, _ = read_response(sock)
        assert status == 200
    assert Handler.protocol_version == "HTTP/1.1"


def test_connections_beyond_the_cap_get_503_server_busy(started):
    port = started(max_connections=2)
    idle = [connect(port), connect(port)]
    try:
        # GIVEN two open connections holding both slots (each proven served once)
        for sock in idle:
            sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_response(sock)[0] == 200
        # WHEN a third client connects, THEN it is refused with the envelope
        status, headers, payload = exchange(port, b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == 503 and payload["code"] == "server_busy"
        assert headers["retry-after"] == "1"
    finally:
        for sock in idle:
            sock.close()


def test_the_peer_address_is_in_the_environ():
    seen: list[dict] = []

    def app(environ, start_response):
        seen.append(environ)
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
        return [b"{}"]

    httpd = ThreadingWSGIServer(("127.0.0.1", 0), Handler)
    httpd.set_app(app)
    with running(httpd), connect(httpd.server_port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(sock)[0] == 200
    assert seen[0][CLIENT_IP_KEY] == "127.0.0.1"
