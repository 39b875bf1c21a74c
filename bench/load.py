"""Load check: many concurrent clients against the `make serve` server and a slow loopback upstream.

    make load                      # 500 requests, 50 at a time, upstream answers in 1 s
    .venv/bin/python -m bench.load --requests 1000 --concurrency 100 --delay 0.5

Starts the fake HF upstream (bench/upstream.py, a real HTTP server on 127.0.0.1) with a fixed delay,
starts the proxy exactly as `make serve` does (``python -m functions.local.server``, in its own
process) pointing at it, then drives it from threads, each with its own keep-alive connection.
Prints errors and latency percentiles. Only loopback is ever contacted; the run is bounded by
--requests and --timeout and stops by itself. Exit status 1 if any request failed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from bench.common import MODEL_PATH, start_local_server
from bench.upstream import FakeUpstream

TOKEN = "hf_load-test-token"  # not a real token: the upstream is a loopback fake


def start_proxy(upstream_url: str, log) -> tuple[subprocess.Popen, int]:
    env = {
        **os.environ,
        "HF_TOKEN": TOKEN,
        "HF_INFERENCE_URL": upstream_url + MODEL_PATH,
        "REQUEST_DEADLINE_SECONDS": "25",
    }
    return start_local_server(env, stderr=log)


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def drive(port: int, total: int, concurrency: int, timeout: float) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    issued = iter(range(total))

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        while True:
            with lock:
                n = next(issued, None)
            if n is None:
                break
            prompt = f"load request {n}"
            body = json.dumps({"inputs": prompt})
            started = time.perf_counter()
            try:
                conn.request("POST", "/api/generate", body, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                data = resp.read()
                elapsed = time.perf_counter() - started
                ok = resp.status == 200 and json.loads(data)[0]["generated_text"].startswith(prompt)
                outcome = None if ok else f"HTTP {resp.status}: {data[:120]!r}"
            except (OSError, http.client.HTTPException, ValueError) as exc:
                elapsed = time.perf_counter() - started
                outcome = f"{type(exc).__name__}: {exc}"
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            with lock:
                latencies.append(elapsed)
                if outcome:
                    errors.append(outcome)
        conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--delay", type=float, default=1.0, help="seconds the fake upstream takes per answer")
    parser.add_argument("--timeout", type=float, default=30.0, help="client timeout per request")
    args = parser.parse_args(argv)

    upstream = FakeUpstream(delay=args.delay).start()
    with tempfile.TemporaryFile("w+") as log:
        proxy, port = start_proxy(upstream.url, log)
        try:
            latencies, errors, wall = drive(port, args.requests, args.concurrency, args.timeout)
        finally:
            proxy.terminate()
            proxy.wait(timeout=10)
            upstream.stop()
        log.seek(0)
        pool_warnings = sum("pool is full" in line for line in log)

    ms = sorted(x * 1000 for x in latencies)
    ideal = args.requests / args.concurrency * args.delay
    print(f"requests {args.requests}, concurrency {args.concurrency}, upstream delay {args.delay * 1000:.0f} ms")
    print(f"errors {len(errors)}")
    print(f"wall {wall:.2f} s (ideal {ideal:.2f} s), {args.requests / wall:.1f} req/s")
    print(
        "latency ms: "
        + ", ".join(f"p{q} {percentile(ms, q):.0f}" for q in (50, 90, 99))
        + f", max {ms[-1]:.0f}, mean {statistics.fmean(ms):.0f}"
    )
    print(f"upstream connections opened {upstream.connections}, pool-full warnings {pool_warnings}")
    for line in sorted(set(errors))[:10]:
        print("  error:", line)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
