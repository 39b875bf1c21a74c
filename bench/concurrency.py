"""50 requests at once through the local server (``make serve``'s entry point, its own process)
to an upstream that takes 1 s each: the wall time shows whether requests wait for each other."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time

from bench.common import PAYLOAD, ROOT, Upstream, proxy_env

CLIENTS = 50
UPSTREAM_DELAY = 1.0


def _start_server(env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "functions.local.server", "--port", "0", "--env-file", ""],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = proc.stdout.readline()  # "hfproxy on http://127.0.0.1:PORT - live"
    if "http://127.0.0.1:" not in line or "DEMO" in line:
        proc.kill()
        raise RuntimeError(f"the local server did not start live: {line!r}")
    return proc, int(line.split("http://127.0.0.1:")[1].split()[0])


def measure() -> dict:
    body = json.dumps(PAYLOAD).encode()
    with Upstream(delay=UPSTREAM_DELAY) as upstream:
        proc, port = _start_server(proxy_env(upstream.url))
        try:
            statuses: list[int] = []
            lock = threading.Lock()
            gate = threading.Barrier(CLIENTS + 1)

            def client() -> None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                gate.wait()
                conn.request("POST", "/api/generate", body=body, headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                conn.close()
                with lock:
                    statuses.append(resp.status)

            threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
            for t in threads:
                t.start()
            gate.wait()
            started = time.perf_counter()
            for t in threads:
                t.join()
            wall = time.perf_counter() - started
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return {"seconds": wall, "ok": statuses.count(200), "clients": CLIENTS, "upstream_delay": UPSTREAM_DELAY}


if __name__ == "__main__":
    print(measure())
