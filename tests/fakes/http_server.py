"""A scriptable HTTP/1.1 server on 127.0.0.1 for fake upstreams: real sockets, real parsing.

Each answer goes out in ONE ``sendall`` with TCP_NODELAY set; headers and body in two sends would
stall keep-alive clients ~40 ms (Nagle + delayed ACK). Tests queue :class:`Reply` objects; every
request the server receives is recorded as a :class:`Received` so tests can assert what the proxy
sent upstream (headers, body), and ``connections`` counts accepted TCP connections.
:func:`served` starts a fake for a fixture; :func:`running` serves any other loopback server (the
local proxy, a page origin) for a test.
"""

from __future__ import annotations

import json
import select
import socket
import ssl
import struct
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from socketserver import ThreadingTCPServer
from typing import Any, Protocol, TypeVar


class _Startable(Protocol):
    def start(self) -> Any: ...
    def stop(self) -> None: ...


S = TypeVar("S", bound=_Startable)


def served(server: S) -> Iterator[S]:
    """For a fixture, ``yield from served(FakeServer())``: a loopback fake (anything with ``start()``
    and ``stop()``: FakeServer, RedisServer, MotoServer) started for the fixture's scope, then stopped."""
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def running(server: Any) -> Iterator[str]:
    """Serve ``server`` (a socketserver bound to 127.0.0.1, port 0) from a daemon thread; yield its
    base URL; on exit stop it, close its socket and wait for the thread."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class Reply:
    status: int = 200
    json: Any = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a slow upstream), cut short at shutdown
    drop: bool = False  # close the connection without answering
    truncate: bool = False  # promise the full Content-Length, send half the body, then close
    reset: bool = False  # promise the full Content-Length, send half the body, then abort with a TCP RST
    trickle: float = 0.0  # send headers at once, then the body one byte every `trickle` seconds
    trickle_head: bool = False  # with `trickle`: the status line and headers trickle too
    sized: bool = True  # False: no Content-Length, `Connection: close`, the body ends at close
    content_type: str = "application/json"
    # A streamed answer (server-sent events): each bytes piece is written as it comes, headers
    # with the first one; a threading.Event in the list holds the rest until a test sets it.
    stream: list[bytes | threading.Event] | None = None
    stream_delay: float = 0.0  # seconds between pieces (a model writing tokens)
    chunked: bool = True  # False: no Content-Length and no chunking, the body ends at close
    sent: list[bytes] = field(default_factory=list)  # pieces written so far (counted as each write starts)
    finished: threading.Event = field(default_factory=threading.Event)  # every piece was written
    aborted: threading.Event = field(default_factory=threading.Event)  # the client hung up first

    def payload(self) -> bytes:
        if self.body is not None:
            return self.body
        return json.dumps(self.json).encode() if self.json is not None else b""


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Responder = Callable[[Received], Reply]


class FakeServer:
    def __init__(self, default: Responder | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls  # a server-side context: HTTPS on the same loopback port
        self.tls_refused = 0  # TLS handshakes the client broke off (it did not trust our certificate)
        self.replies: deque[Reply | Responder] = deque()
        self.default = default or (lambda req: Reply(json={"ok": True}))
        self.received: list[Received] = []
        self.connections = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self.port = self._server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def enqueue(self, *replies: Reply | Responder) -> None:
        self.replies.extend(replies)

    def next_reply(self, received: Received) -> Reply:
        with self._lock:
            self.received.append(received)
            queued = self.replies.popleft() if self.replies else self.default
        return queued(received) if callable(queued) else queued

    def reset(self) -> None:
        with self._lock:
            self.replies.clear()
            self.received.clear()
            self.connections = 0


class _Server(ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def _handler_for(fake: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with fake._lock:
                fake.connections += 1
            self.refused = False
            if fake.tls is not None:
                try:
                    self.request = fake.tls.wrap_socket(self.request, server_side=True)
                except (ssl.SSLError, OSError):
                    self.refused = True
                    with fake._lock:
                        fake.tls_refused += 1
            super().setup()

        def handle(self) -> None:
            if not self.refused:
                super().handle()

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = fake.next_reply(Received(self.command, self.path, headers, body))
            if reply.delay and fake._stop.wait(reply.delay):
                return
            if reply.drop:
                self.close_connection = True
                return
            if reply.stream is not None:
                self._stream(reply)
                return
            payload = reply.payload()
            lines = [f"HTTP/1.1 {reply.status} Fake", f"Content-Type: {reply.content_type}"]
            lines.append(f"Content-Length: {len(payload)}" if reply.sized else "Connection: close")
            if not reply.sized or reply.headers.get("Connection") == "close":
                self.close_connection = True
            lines += [f"{k}: {v}" for k, v in reply.headers.items()]
            head = ("\r\n".join(lines) + "\r\n\r\n").encode()
            if reply.truncate or reply.reset:
                payload = payload[: len(payload) // 2]
                self.close_connection = True
            if reply.trickle:
                if reply.trickle_head:
                    payload, head = head + payload, b""
                self.wfile.write(head)
                for byte in payload:
                    if fake._stop.wait(reply.trickle):
                        return
                    try:
                        self.wfile.write(bytes([byte]))
                    except OSError:  # the proxy gave up and hung up: that is the point
                        return
            else:
                self.wfile.write(head + payload)
            if reply.reset:  # SO_LINGER 0: close() sends RST instead of FIN (socket(7))
                self.wfile.flush()
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()

        def _stream(self, reply: Reply) -> None:
            """Write the pieces one by one; stop as soon as the client (the proxy) hangs up."""
            self.close_connection = True
            lines = [f"HTTP/1.1 {reply.status} Fake", f"Content-Type: {reply.content_type}"]
            # Said, not only done: a connection closed without "Connection: close" goes back to the
            # proxy's pool, and its next request may take it just as it closes (a 502 in ~1 of 8 tries).
            lines += ["Transfer-Encoding: chunked"] * reply.chunked + ["Connection: close"]
            lines += [f"{k}: {v}" for k, v in reply.headers.items() if k.lower() != "connection"]
            pending = ("\r\n".join(lines) + "\r\n\r\n").encode()
            try:
                for index, piece in enumerate(reply.stream or []):
                    if isinstance(piece, threading.Event):
                        if pending:  # the headers go out before we wait
                            self.wfile.write(pending)
                            pending = b""
                        piece.wait(10)
                        continue
                    if index and reply.stream_delay and fake._stop.wait(reply.stream_delay):
                        return
                    if self._client_gone():
                        reply.aborted.set()
                        return
                    frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if reply.chunked else piece
                    reply.sent.append(piece)  # before the write: a client that has read it finds it counted
                    self.wfile.write(pending + frame)
                    pending = b""
                self.wfile.write(pending + (b"0\r\n\r\n" if reply.chunked else b""))
                reply.finished.set()
            except (BrokenPipeError, ConnectionResetError):
                reply.aborted.set()

        def _client_gone(self) -> bool:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            try:
                return self.connection.recv(1, socket.MSG_PEEK) == b""
            except OSError:
                return True

        do_GET = do_POST = do_PUT = do_DELETE = _serve

    return Handler
