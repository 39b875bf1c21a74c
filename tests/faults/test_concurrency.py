"""Concurrent requests in one warm process (the local server, any threaded WSGI host) share the
upstream connection pool without discarding connections: a second wave reuses the first's."""

from __future__ import annotations

import logging
import threading

from tests.conftest import client_for, post_json
from tests.fakes.hf_inference import echo_generation
from tests.fakes.http_server import Reply

WAVE = 30


def test_concurrent_waves_reuse_pooled_upstream_connections(settings, upstream, caplog):
    from shared.upstreams import transport

    transport.reset_pools()
    caplog.set_level(logging.WARNING)
    # GIVEN an upstream that holds each answer 0.2 s, so a whole wave is in flight at once
    upstream.default = lambda req: Reply(json=[{"generated_text": req.json()["inputs"]}], delay=0.2)
    client = client_for(settings)
    statuses: list[int] = []

    def call(n: int) -> None:
        statuses.append(post_json(client, "/api/generate", {"inputs": f"wave {n}"}).status_code)

    try:
        for _ in range(2):  # WHEN two waves of 30 concurrent requests go through the same warm app
            threads = [threading.Thread(target=call, args=(n,)) for n in range(WAVE)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        upstream.default = echo_generation
    # THEN every request succeeded, the second wave opened no new connections, and urllib3 never
    # had to throw a connection away ("Connection pool is full, discarding connection")
    assert statuses == [200] * (2 * WAVE)
    assert upstream.connections <= WAVE
    assert not [r for r in caplog.records if "pool is full" in r.getMessage()]
