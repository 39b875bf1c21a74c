"""The streaming Lambda function's server: what it adds to a streamed answer's first chunk.

The function's own server (``python -m functions.aws_lambda.stream``, as the Lambda Web Adapter
starts it, with the adapter's request-context headers) in front of the fake upstream, against the
same stream asked of the fake directly; both over keep-alive connections, interleaved. The figure
is the median time from sending the request to reading the first event, ours minus direct.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time

from bench.common import ROOT, TOKEN, free_port

CHAT = json.dumps({"messages": [{"role": "user", "content": "Hi"}], "stream": True})
ADAPTER_HEADERS = {
    "x-amzn-request-context": json.dumps({"requestId": "bench", "http": {"sourceIp": "203.0.113.7"}}),
    "x-amzn-lambda-context": json.dumps({"request_id": "bench", "deadline": 4102444800000}),
}


def _first_event(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    conn.request("POST", path, CHAT, {"Content-Type": "application/json", **headers})
    resp = conn.getresponse()
    seen = b""
    while b"\n\n" not in seen:
        piece = resp.read1(65536)
        if not piece:
            raise RuntimeError("the stream ended before its first event")
        seen += piece
    elapsed = time.perf_counter() - started
    resp.read()  # to its end, so the connection is reused
    return elapsed


def measure(upstream_url: str, rounds: int) -> dict:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE"))}
    env.update(PORT=str(port), HF_TOKEN=TOKEN, HF_CHAT_URL=upstream_url + "/v1/chat/completions", PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "functions.aws_lambda.stream"]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE)
    try:
        proc.stdout.readline()  # listening
        # its log lines go on to stdout: drained, or a full pipe would stall the server
        threading.Thread(target=proc.stdout.read, daemon=True).start()
        host, upstream_port = upstream_url[len("http://") :].split(":")
        ours = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        direct = http.client.HTTPConnection(host, int(upstream_port), timeout=10)
        for _ in range(50):  # warm: imports, pools, the first request's lazy work
            _first_event(ours, "/api/chat", ADAPTER_HEADERS)
            _first_event(direct, "/v1/chat/completions", {"Authorization": f"Bearer {TOKEN}"})
        a, b = [], []
        for _ in range(rounds):
            a.append(_first_event(ours, "/api/chat", ADAPTER_HEADERS))
            b.append(_first_event(direct, "/v1/chat/completions", {"Authorization": f"Bearer {TOKEN}"}))
        return {"ours_ms": statistics.median(a) * 1000, "direct_ms": statistics.median(b) * 1000}
    finally:
        proc.terminate()
        proc.wait(10)
