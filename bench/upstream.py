"""The benchmarks' own fake HF upstream, on 127.0.0.1: ``python -m bench.upstream [--delay S]``.

Standard library only, so ``bench/`` does not depend on ``tests/``. It answers a POST with ``messages`` the way the
router's Chat Completions does (streamed when asked), any other POST the way HF text generation
does (``[{"generated_text": ...}]``, echoing the prompt), over HTTP/1.1
keep-alive, each answer in ONE send with TCP_NODELAY set (headers and body in two sends would
stall keep-alive clients ~40 ms: Nagle + delayed ACK). As a process it prints its base URL on
stdout, then serves until stdin closes. ``GET /_bench/connections`` answers how many TCP
connections it accepted before that request (the query's own is not counted);
``POST /_bench/reset`` forgets them.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONNECTIONS_PATH = "/_bench/connections"
RESET_PATH = "/_bench/reset"


class FakeUpstream(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.delay = delay
        self.connections = 0
        self._lock = threading.Lock()
        self.url = f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> FakeUpstream:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def count(self, delta: int = 1, reset: bool = False) -> int:
        with self._lock:
            self.connections = 0 if reset else self.connections + delta
            return self.connections


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeUpstream

    def setup(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.count()
        super().setup()

    def log_message(self, format: str, *args) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == CONNECTIONS_PATH:
            self._answer(200, {"connections": self.server.count(0) - 1})
        else:
            self._answer(404, {"error": "not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == RESET_PATH:
            self._answer(200, {"connections": self.server.count(reset=True)})
            return
        try:
            asked = json.loads(body)
            prompt = asked.get("inputs", "")
        except (ValueError, AttributeError):
            asked, prompt = {}, ""
        if isinstance(asked, dict) and "messages" in asked:
            if asked.get("stream"):
                self._stream(["The", " fake", " model", " streams."])
            else:
                self._answer(200, _completion(asked.get("model") or "fake"))
            return
        if self.server.delay:
            time.sleep(self.server.delay)  # a slow model, not synchronisation
        self._answer(200, [{"generated_text": f'{prompt} ... and the fake model continues.\nIt "quotes" too.'}])

    def _stream(self, words: list[str]) -> None:
        """A chat stream, chunked: headers and the first event in one write, then the rest."""
        head = "HTTP/1.1 200 Fake\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
        events = [f'data: {{"choices":[{{"index":0,"delta":{{"content":"{w}"}}}}]}}\n\n' for w in words]
        chunks = [f"{len(e.encode()):x}\r\n{e}\r\n".encode() for e in [*events, "data: [DONE]\n\n"]]
        self.wfile.write(head.encode() + chunks[0])
        self.wfile.write(b"".join(chunks[1:]) + b"0\r\n\r\n")

    def _answer(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode()
        head = f"HTTP/1.1 {status} Fake\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        self.wfile.write(head.encode() + data)


def _completion(model: str) -> dict:
    """A Chat Completions answer as the router writes one (usage included)."""
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1764806400,
        "model": model,
        "choices": [
            {
                "index": 0,
                # escapes as a model's text has them (a newline, quotes): the body is not plain text
                "message": {"role": "assistant", "content": 'The fake model answers.\nIt "quotes" too.'},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args()
    fake = FakeUpstream(args.delay).start()
    print(fake.url, flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    fake.stop()


if __name__ == "__main__":
    main()
