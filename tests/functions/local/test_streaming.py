"""Streaming through the real local server: each event leaves as it arrives; a client that hangs up
stops the upstream call. Read over a raw socket, so nothing on the client side buffers."""

from __future__ import annotations

import json
import socket
import threading
from wsgiref.simple_server import make_server

import pytest

from functions.local.handler import Handler
from functions.local.server import ThreadingWSGIServer
from shared.app import ProxyApp
from tests.fakes import hf_chat
from tests.fakes.http_server import running
from tests.fakes.telemetry import Recorder

BODY = json.dumps({"messages": [{"role": "user", "content": "Hello"}], "stream": True}).encode()


class ObservedServer(ThreadingWSGIServer):
    """The real server, reporting when a connection is done and any error it would print."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.errors: list[str] = []
        self.connection_done = threading.Event()

    def handle_error(self, request, client_address) -> None:
        import sys

        self.errors.append(repr(sys.exc_info()[1]))

    def shutdown_request(self, request) -> None:
        super().shutdown_request(request)
        self.connection_done.set()


@pytest.fixture
def observed(chat_settings):
    telemetry = Recorder()
    httpd = make_server(
        "127.0.0.1",
        0,
        ProxyApp(chat_settings, telemetry=telemetry),
        server_class=ObservedServer,
        handler_class=Handler,
    )
    with running(httpd):
        yield httpd, telemetry


@pytest.fixture
def server(observed):
    httpd, telemetry = observed
    return httpd.server_port, telemetry


def open_stream(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    head = (
        f"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(BODY)}\r\n\r\n"
    ).encode()
    sock.sendall(head + BODY)
    return sock


def read_until(sock: socket.socket, marker: bytes, buffer: bytes = b"") -> bytes:
    while marker not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before {marker!r}: {buffer!r}")
        buffer += chunk
    return buffer


def dechunked(body: bytes) -> bytes:
    """A chunked body's data (RFC 9112 section 7.1)."""
    out = b""
    while True:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return out
        out, body = out + body[:size], body[size + 2 :]


def test_each_event_leaves_the_server_before_the_upstream_has_finished(server, upstream):
    port, telemetry = server
    # GIVEN an upstream that sends one word and then holds the rest until the test says so
    reply = hf_chat.words_stream(["Rest", " well"], gate_after=1)
    upstream.enqueue(reply)
    with open_stream(port) as sock:
        # WHEN we read the raw answer up to the end of the first event
        received = read_until(sock, b"\r\n\r\n")
        head, _, body = received.partition(b"\r\n\r\n")
        body = read_until(sock, b"\n\n", body)
        # THEN headers and the first word are here while the upstream is still mid-stream
        assert not reply.finished.is_set()
        assert b'"content": "Rest"' in body
        lines = head.decode().lower().split("\r\n")
        assert lines[0].endswith("200 ok")
        assert "content-type: text/event-stream; charset=utf-8" in lines
        assert "x-accel-buffering: no" in lines
        assert not [line for line in lines if line.startswith("content-length")]
        assert "transfer-encoding: chunked" in lines  # HTTP/1.1: the connection outlives the stream
        # WHEN the upstream finishes, THEN the rest follows and the body ends with the stream
        hf_chat.gate_of(reply).set()
        body = read_until(sock, b"\r\n0\r\n\r\n", body)
    assert dechunked(body).endswith(b"data: [DONE]\n\n")
    assert len(telemetry.seen(1)) == 1
    assert [r.stream_end for r in telemetry.records] == ["done"]


def test_a_client_that_hangs_up_stops_the_upstream_call(observed, upstream):
    httpd, telemetry = observed
    port = httpd.server_port
    # GIVEN a long upstream stream (100 words, 20 ms apart), held after the first word
    reply = hf_chat.words_stream([f" w{i}" for i in range(100)], gate_after=1, stream_delay=0.02)
    upstream.enqueue(reply)
    sock = open_stream(port)
    read_until(sock, b"\n\n", read_until(sock, b"\r\n\r\n").partition(b"\r\n\r\n")[2])
    # WHEN the browser goes away after the first word
    sock.close()
    hf_chat.gate_of(reply).set()
    # THEN the proxy notices on its next writes and drops the upstream connection early
    assert reply.aborted.wait(5), "the upstream was never told"
    assert not reply.finished.is_set()
    assert len(reply.sent) < 90  # early, not at the end (100); how early depends on the machine's pace
    # AND the request is recorded exactly once, as abandoned
    assert len(telemetry.seen(1)) == 1
    assert telemetry.records[0].stream_end == "client_gone"
    # AND the server takes the hang-up in its stride: no error, no traceback in the console
    assert httpd.connection_done.wait(5)
    assert httpd.errors == []


@pytest.mark.parametrize("second", ["stream", "plain"])
def test_two_answers_after_a_stream_share_one_tcp_connection(server, upstream, second):
    port, _ = server
    # GIVEN a streamed chat answer on a keep-alive connection (http.client: one TCP connection)
    import http.client

    upstream.enqueue(hf_chat.words_stream(["one", " two"]), hf_chat.words_stream(["three"]))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json"}
    conn.request("POST", "/api/chat", BODY, headers)
    first = conn.getresponse()
    assert first.getheader("Transfer-Encoding") == "chunked"
    assert first.read().endswith(b"data: [DONE]\n\n")
    sock = conn.sock
    # WHEN the client's next request goes out (a stream again, or a plain answer)
    if second == "stream":
        conn.request("POST", "/api/chat", BODY, headers)
    else:
        conn.request("GET", "/api/health")
    again = conn.getresponse()
    body = again.read()
    # THEN it is answered on the same socket: the stream did not close the connection
    assert conn.sock is sock and again.status == 200
    assert body.endswith(b"data: [DONE]\n\n") if second == "stream" else b'"status"' in body
    conn.close()


def test_an_http_1_0_client_gets_a_stream_ended_by_close(server, upstream):
    port, _ = server
    upstream.enqueue(hf_chat.words_stream(["old"]))
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(
        f"POST /api/chat HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: {len(BODY)}\r\n\r\n".encode()
        + BODY
    )
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"chunked" not in head.lower() and body.endswith(b"data: [DONE]\n\n")
