"""A loopback fake of a Hugging Face Space, speaking one Gradio generation's wire protocol.

It follows ``docs/upstreams.md`` ("Gradio Space"), one style per constructor:

- :meth:`FakeSpace.gradio3` (3.37, the original Llama-2 Spaces): ``/config`` without
  ``api_prefix``/``protocol``; ``POST /run/{name}`` and ``/api/{name}`` with ``{"data"}`` answer
  ``{"data", "is_generating", "duration", "average_duration"}``; an unknown name is 500
  ``{"error": "This app has no endpoint /api/x/."}``; a failing function is 500 ``{"error": str|null}``.
- :meth:`FakeSpace.gradio4` (4.44): ``POST /api/predict`` is 404 "join the queue"; ``POST
  /call/{name}`` -> ``{"event_id"}``, ``GET /call/{name}/{id}`` streams ``generating`` /
  ``complete`` / ``error`` (``data: null``, as up to 6.12) / ``heartbeat`` events.
- :meth:`FakeSpace.contract`: no Gradio ``/config``; ``POST /api/predict`` takes the seed's
  documented ``{"inputs", "parameters"}`` and answers ``{"generated_text"}``.

Answers go out in one write with TCP_NODELAY; an event stream sends its headers with its first
event in one write, then one write per later event (chunked, as uvicorn sends it). ``override``
replaces the next answer to one kind of request, to stage faults.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes import llama_space
from tests.fakes.http_server import Received, Reply, _Server

HEARTBEAT = "event: heartbeat\ndata: null\n\n"


@dataclass
class EventStream:
    """An SSE answer: ``events`` are (seconds to wait first, raw event text)."""

    events: list[tuple[float, str]]
    status: int = 200


@dataclass
class FakeSpace:
    version: str | None  # None: not a Gradio app (a contract Space)
    api_name: str = "predict"
    prefix: str = ""
    received: list[Received] = field(default_factory=list)
    overrides: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    error_event_data: str = "null"  # what an `error` event carries (null up to Gradio 6.12)
    generating_first: bool = False  # stream a partial `generating` event before `complete`
    other_endpoints: tuple[str, ...] = ()  # more named endpoints /info lists (not callable)

    @classmethod
    def gradio3(cls, **kw) -> FakeSpace:
        return cls("3.37.0", **kw)

    @classmethod
    def gradio4(cls, **kw) -> FakeSpace:
        return cls("4.44.1", **kw)

    @classmethod
    def contract(cls, **kw) -> FakeSpace:
        return cls(None, **kw)

    # --- server lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeSpace:
        self._stop = threading.Event()
        self._events: dict[str, list] = {}
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def override(self, kind: str, answer: Reply | EventStream) -> None:
        """Answer the next request of ``kind`` (config, info, run, call, events, contract) so."""
        self.overrides[kind].append(answer)

    def paths(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.received]

    # --- the protocol -----------------------------------------------------------------------------

    def answer(self, req: Received) -> Reply | EventStream:
        kind, name, event_id = self._classify(req)
        if self.overrides[kind]:
            return self.overrides[kind].popleft()
        if kind == "config":
            return self._config()
        if kind == "info":
            named = {f"/{name}": {"parameters": []} for name in (self.api_name, *self.other_endpoints)}
            return Reply(json={"named_endpoints": named, "unnamed_endpoints": {}})
        if kind == "contract":
            return self._contract(req)
        if kind == "run":
            return self._run(req, name)
        if kind == "call":
            return self._call(req, name)
        if kind == "events":
            return self._stream(event_id)
        if kind == "queue_only":
            return Reply(
                404,
                json={
                    "detail": "This API endpoint does not accept direct HTTP POST requests. "
                    "Please join the queue to use this API."
                },
            )
        return Reply(404, json={"detail": "Not Found"})

    def _classify(self, req: Received) -> tuple[str, str, str]:
        path = req.path.split("?")[0]
        if req.method == "GET" and path == "/config":
            return "config", "", ""
        if self.version is None:
            return ("contract" if (req.method, path) == ("POST", "/api/predict") else "other"), "", ""
        if path.startswith(self.prefix):
            path = path[len(self.prefix) :]
        parts = path.strip("/").split("/")
        major = int(self.version.split(".")[0])
        if req.method == "GET" and parts == ["info"]:
            return "info", "", ""
        if req.method == "POST" and len(parts) == 2 and parts[0] in ("run", "api"):
            return ("run" if major < 4 else "queue_only"), parts[1], ""
        if major >= 4 and req.method == "POST" and len(parts) == 2 and parts[0] == "call":
            return "call", parts[1], ""
        if major >= 4 and req.method == "GET" and len(parts) == 3 and parts[0] == "call":
            return "events", parts[1], parts[2]
        return "other", "", ""

    def _config(self) -> Reply:
        if self.version is None:
            return Reply(404, json={"detail": "Not Found"})
        config: dict[str, Any] = {
            "version": self.version,
            "mode": "blocks",
            "components": [{"id": 1, "type": "textbox"}],
            "dependencies": [{"api_name": self.api_name, "inputs": [1, 2, 3, 4], "outputs": [5]}],
        }
        if not self.version.startswith("3."):
            config["protocol"] = "sse_v3"
        if self.prefix:
            config["api_prefix"] = self.prefix
        return Reply(json=config)

    def _contract(self, req: Received) -> Reply:
        body = req.json()
        p = body.get("parameters", {})
        try:
            text = llama_space.respond(body["inputs"], p["model"], p["max_new_tokens"], p["temperature"])
        except Exception as exc:  # the seed's generate_response(): {"error": str(e)}
            return Reply(json={"error": str(exc)})
        return Reply(json={"generated_text": text})

    def _run(self, req: Received, name: str) -> Reply:
        if name != self.api_name:
            return Reply(500, json={"error": f"This app has no endpoint /api/{name}/."})
        try:
            output = llama_space.respond(*req.json()["data"])
        except llama_space.SpaceError as exc:
            return Reply(500, json={"error": str(exc)})  # gr.Error: shown (show_error or isinstance Error)
        except Exception:
            return Reply(500, json={"error": None})
        return Reply(json={"data": [output], "is_generating": False, "duration": 0.01, "average_duration": 0.01})

    def _call(self, req: Received, name: str) -> Reply:
        if name != self.api_name:
            return Reply(500, body=b"Internal Server Error", content_type="text/plain; charset=utf-8")
        event_id = uuid.uuid4().hex
        with self._lock:
            self._events[event_id] = req.json()["data"]
        return Reply(json={"event_id": event_id})

    def _stream(self, event_id: str) -> EventStream:
        with self._lock:
            data = self._events.pop(event_id, None)
        if data is None:
            return EventStream([(0, 'event: error\ndata: "404: Not Found"\n\n')])
        try:
            output = llama_space.respond(*data)
        except Exception:
            return EventStream([(0, f"event: error\ndata: {self.error_event_data}\n\n")])
        events = [(0, HEARTBEAT)]
        if self.generating_first:
            events.append((0, f"event: generating\ndata: {json.dumps([output[:5]])}\n\n"))
        events.append((0, f"event: complete\ndata: {json.dumps([output])}\n\n"))
        return EventStream(events)


def _handler_for(space: FakeSpace) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            received = Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            with space._lock:
                space.received.append(received)
            answer = space.answer(received)
            if isinstance(answer, EventStream):
                self._stream(answer)
            else:
                self._reply(answer)

        def _reply(self, reply: Reply) -> None:
            if reply.delay and space._stop.wait(reply.delay):
                return
            payload = reply.payload()
            head = [
                f"HTTP/1.1 {reply.status} Fake",
                f"Content-Type: {reply.content_type}",
                f"Content-Length: {len(payload)}",
                *(f"{k}: {v}" for k, v in reply.headers.items()),
            ]
            self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)

        def _stream(self, answer: EventStream) -> None:
            head = (
                f"HTTP/1.1 {answer.status} Fake\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
                "Transfer-Encoding: chunked\r\n\r\n"
            ).encode()
            for delay, text in answer.events:
                if delay and space._stop.wait(delay):
                    return
                data = text.encode()
                try:
                    self.wfile.write(head + f"{len(data):x}\r\n".encode() + data + b"\r\n")
                except OSError:  # the proxy gave up (its deadline): stop streaming
                    self.close_connection = True
                    return
                head = b""
            self.wfile.write(head + b"0\r\n\r\n")

        do_GET = do_POST = _serve

    return Handler
