"""`make serve`'s server against the same fake, side by side: what it adds to one warm chat, and how
many requests a second it serves next to Portkey's gateway (issue 27).

The server starts as `make serve` starts it (``python -m functions.local.server``, its own process,
no limits configured); Portkey's open-source gateway (``@portkey-ai/gateway``, Node, a bench-only
npm install under bench/node/) starts with its own ``start-server.js --headless`` and reaches the
fake as an OpenAI-compatible custom host (https://portkey.ai/docs/product/ai-gateway/universal-api).
Every subject gets the same chat request, the same client, the same rounds, interleaved.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from bench.common import ROOT, TOKEN, free_port

MODEL = "Qwen/Qwen2.5-7B-Instruct"
CHAT = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 20})
PORTKEY = ROOT / "bench" / "node" / "node_modules" / "@portkey-ai" / "gateway" / "build" / "start-server.js"


@contextmanager
def local_server(upstream_url: str):
    """The `make serve` server in front of the fake's chat endpoint; yields its port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE"))}
    env.update(HF_TOKEN=TOKEN, HF_CHAT_URL=upstream_url + "/v1/chat/completions", PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "functions.local.server", "--port", "0", "--env-file", ""]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()  # "hfproxy on http://127.0.0.1:PORT - live - ..."
        yield int(line.split("http://127.0.0.1:")[1].split()[0])
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def portkey(upstream_url: str):
    """Portkey's gateway, or None when node or the package is missing (the row then says so)."""
    node = shutil.which("node")
    if node is None or not PORTKEY.exists():
        yield None
        return
    port = free_port()
    proc = subprocess.Popen([node, str(PORTKEY), f"--port={port}", "--headless"], stdout=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:  # a spinner, then the URL it listens on
            if f":{port}" in line:
                break
        threading.Thread(target=proc.stdout.read, daemon=True).start()  # drained, never blocking it
        headers = {"x-portkey-provider": "openai", "x-portkey-custom-host": upstream_url + "/v1"}
        yield port, headers
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _post(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> None:
    conn.request(
        "POST", path, CHAT, {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}", **headers}
    )
    resp = conn.getresponse()
    body = resp.read()
    if resp.status != 200 or b"chat.completion" not in body:
        raise RuntimeError(f"{path}: HTTP {resp.status}")


def warm_chat(upstream_url: str, rounds: int) -> dict[str, float]:
    """Median ms of one warm chat, ours and direct, with http.client and with the openai SDK."""
    import openai  # the Python SDK as users install it (requirements-dev.txt)

    host, upstream_port = upstream_url[len("http://") :].split(":")
    with local_server(upstream_url) as port:
        ours = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        direct = http.client.HTTPConnection(host, int(upstream_port), timeout=10)
        sdk_ours = openai.OpenAI(api_key="anything", base_url=f"http://127.0.0.1:{port}/api/v1", max_retries=0)
        sdk_direct = openai.OpenAI(api_key=TOKEN, base_url=upstream_url + "/v1", max_retries=0)
        subjects = {
            "http.client ours": lambda: _post(ours, "/api/chat", {}),
            "http.client direct": lambda: _post(direct, "/v1/chat/completions", {}),
            "openai ours": lambda: _sdk(sdk_ours),
            "openai direct": lambda: _sdk(sdk_direct),
        }
        times: dict[str, list[float]] = {name: [] for name in subjects}
        for round_ in range(rounds + 100):  # the first 100 warm every path up and are not counted
            for name, call in subjects.items():
                started = time.perf_counter()
                call()
                if round_ >= 100:
                    times[name].append(time.perf_counter() - started)
    return {name: statistics.median(t) * 1000 for name, t in times.items()}


def _sdk(client) -> None:
    answer = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}], max_tokens=20)
    if not answer.choices:
        raise RuntimeError("the SDK read no choices")


def _rate(port: int, path: str, headers: dict[str, str], clients: int, seconds: float) -> float:
    """Requests a second from ``clients`` keep-alive connections over ``seconds``."""
    done = [0] * clients
    stop = time.perf_counter() + seconds

    def drive(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.perf_counter() < stop:
            _post(conn, path, headers)
            done[i] += 1
        conn.close()

    threads = [threading.Thread(target=drive, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.perf_counter() - started)


def throughput(upstream_url: str, clients: int, seconds: float, rounds: int) -> dict[str, float | None]:
    """Median requests a second over ``rounds`` interleaved runs: ours, Portkey's, the fake's own."""
    upstream_port = int(upstream_url.rsplit(":", 1)[1])
    with local_server(upstream_url) as port, portkey(upstream_url) as gateway:
        subjects = {"ours": (port, "/api/chat", {}), "direct": (upstream_port, "/v1/chat/completions", {})}
        if gateway is not None:
            subjects["portkey"] = (gateway[0], "/v1/chat/completions", gateway[1])
        for target in subjects.values():
            _rate(*target, clients=clients, seconds=0.5)  # warm: JIT, pools, lazy imports
        got: dict[str, list[float]] = {name: [] for name in subjects}
        for _ in range(rounds):
            for name, target in subjects.items():
                got[name].append(_rate(*target, clients=clients, seconds=seconds))
    out: dict[str, float | None] = {name: statistics.median(r) for name, r in got.items()}
    out.setdefault("portkey", None)
    return out


def portkey_installed() -> bool:
    return Path(PORTKEY).exists()
