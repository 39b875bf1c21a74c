"""`make serve`'s server against the same fake, side by side: what it adds to one warm chat, and how
many requests a second it serves next to Portkey's gateway (issue 27), and the streaming function's first chunk.

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

from bench import concurrency, stream
from bench.common import MODEL_PATH, ROOT, TOKEN, Table, free_port, proxy_env, start_local_server

MODEL = "Qwen/Qwen2.5-7B-Instruct"
STREAM_ROUNDS = int(os.environ.get("BENCH_STREAM_ROUNDS", "300"))
LOCAL_ROUNDS = int(os.environ.get("BENCH_LOCAL_ROUNDS", "1000"))
RATE_CLIENTS, RATE_SECONDS, RATE_ROUNDS = 8, 3.0, 3
CHAT = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 20})
PORTKEY = ROOT / "bench" / "node" / "node_modules" / "@portkey-ai" / "gateway" / "build" / "start-server.js"


@contextmanager
def serving(upstream_url: str):
    """The `make serve` server in front of the fake's chat endpoint, its default workers; yields its
    port and how many worker processes its banner names."""
    proc, port, banner = start_local_server(
        proxy_env(upstream_url, HF_CHAT_URL=upstream_url + "/v1/chat/completions"), banner=True
    )
    try:
        yield port, int(banner.split(" worker processes")[0].rsplit(" ", 1)[1]) if "worker processes" in banner else 1
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


@contextmanager
def floor_server(upstream_url: str):
    """The same server with nothing of ours in its app (``python -m bench.floor``): yields its port."""
    env = proxy_env(upstream_url, HF_CHAT_URL=upstream_url + "/v1/chat/completions")
    proc = subprocess.Popen([sys.executable, "-m", "bench.floor"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        yield int(proc.stdout.readline())
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def warm_chat(upstream_url: str, rounds: int) -> dict[str, float]:
    """Median ms of one warm chat, ours and direct, with http.client and with the openai SDK, and
    through the floor server (http.client)."""
    import openai  # the Python SDK as users install it (requirements-dev.txt)

    host, upstream_port = upstream_url[len("http://") :].split(":")
    with serving(upstream_url) as (port, _), floor_server(upstream_url) as floor_port:
        floor = http.client.HTTPConnection("127.0.0.1", floor_port, timeout=10)
        ours = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        direct = http.client.HTTPConnection(host, int(upstream_port), timeout=10)
        sdk_ours = openai.OpenAI(api_key="anything", base_url=f"http://127.0.0.1:{port}/api/v1", max_retries=0)
        sdk_direct = openai.OpenAI(api_key=TOKEN, base_url=upstream_url + "/v1", max_retries=0)
        subjects = {
            "http.client ours": lambda: _post(ours, "/api/chat", {}),
            "http.client direct": lambda: _post(direct, "/v1/chat/completions", {}),
            "http.client floor": lambda: _post(floor, "/api/chat", {}),
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
    with serving(upstream_url) as (port, workers), portkey(upstream_url) as gateway:
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
    out["workers"] = workers
    return out


def stream_first_chunk(table: Table, env: dict, event: str) -> None:
    got = stream.measure(env["HF_INFERENCE_URL"].removesuffix(MODEL_PATH), STREAM_ROUNDS)
    added = got["ours_ms"] - got["direct_ms"]
    table.add(
        f"streaming function (AWS): first chunk of a streamed chat, median of {STREAM_ROUNDS} interleaved",
        f"{got['ours_ms']:.2f} ms",
        f"{got['direct_ms']:.2f} ms direct to the fake",
        f"+{added:.2f} ms",
        "≤ +5 ms",
        added <= 5.0,
    )


def server_rows(table: Table, env: dict, event: str) -> None:
    """`make serve`'s server: one warm chat over direct (two clients), and requests a second next to Portkey."""
    upstream_url = env["HF_INFERENCE_URL"].removesuffix(MODEL_PATH)
    got = warm_chat(upstream_url, LOCAL_ROUNDS)
    for client in ("http.client", "openai"):
        ours, direct = got[f"{client} ours"], got[f"{client} direct"]
        table.add(
            f"local server: warm chat, {client}{' SDK' if client == 'openai' else ''} keep-alive, "
            f"median of {LOCAL_ROUNDS} interleaved",
            f"{ours:.2f} ms",
            f"{direct:.2f} ms direct to the fake",
            f"+{ours - direct:.2f} ms",
            "≤ +0.50 ms",
            ours - direct <= 0.5,
        )
    floor, direct = got["http.client floor"], got["http.client direct"]
    table.add(
        "  the floor: the same server, its app one pooled urllib3 forward and nothing else (bench/floor.py)",
        f"{floor:.2f} ms",
        f"{direct:.2f} ms direct to the fake",
        f"+{floor - direct:.2f} ms",
        "(reported)",
        None,
    )
    rate = throughput(upstream_url, RATE_CLIENTS, RATE_SECONDS, RATE_ROUNDS)
    peer = rate["portkey"]
    table.add(
        f"local server: chats a second, {RATE_CLIENTS} keep-alive clients, "
        f"median of {RATE_ROUNDS} × {RATE_SECONDS:g} s",
        f"{rate['ours']:.0f}/s ({rate['workers']:.0f} workers)",
        f"{peer:.0f}/s Portkey gateway (one Node process)" if peer else "Portkey not installed (make bench does)",
        f"{rate['ours'] / peer:.2f}" if peer else "-",
        "≥ 1.30",
        rate["ours"] / peer >= 1.3 if peer else False,
    )
    table.add(
        "  the fake itself, same clients",
        f"{rate['direct']:.0f}/s",
        "-",
        f"{rate['ours'] / rate['direct']:.2f}",
        "(reference)",
        None,
    )


def local_concurrency(table: Table) -> None:
    got = concurrency.measure()
    ok = got["ok"] == got["clients"] and got["seconds"] <= 1.5
    table.add(
        f"local server: {got['clients']} concurrent requests, upstream {got['upstream_delay']:.0f} s each",
        f"{got['seconds']:.2f} s ({got['ok']}/{got['clients']} ok)",
        f"{got['upstream_delay']:.2f} s upstream",
        f"{got['seconds'] / got['upstream_delay']:.2f}",
        "≤ 1.5 s",
        ok,
    )
