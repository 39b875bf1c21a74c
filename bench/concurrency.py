"""50 requests at once through the local server (``make serve``'s entry point, its own process)
to an upstream that takes 1 s each: the wall time shows whether requests wait for each other."""

from __future__ import annotations

import http.client
import json
import threading
import time

from bench.common import PAYLOAD, Upstream, proxy_env, start_local_server

CLIENTS = 50
UPSTREAM_DELAY = 1.0


def measure() -> dict:
    body = json.dumps(PAYLOAD).encode()
    with Upstream(delay=UPSTREAM_DELAY) as upstream:
        proc, port = start_local_server(proxy_env(upstream.url))
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
