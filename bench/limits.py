"""What the spend limits add per request: the same request through the core with no limit, with
all three limits on the memory store, and on Redis over loopback, interleaved in one process.

Redis runs as a real ``redis-server`` (Debian's package, as in the suite) on a free port. The
reference for "one round trip" is a bare redis-py ``PING`` on the same connection pool.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

from bench.common import PAYLOAD, TOKEN, free_port, median

LIMITS = {"rate_limit_per_minute": 10**9, "client_daily_tokens": 10**12, "daily_token_budget": 10**12}


@contextmanager
def redis_server() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (make test installs it: apt-get install redis-server)")
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        if not any("Ready to accept connections" in line for line in proc.stdout):
            raise RuntimeError("redis-server did not start")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


SCRIPT_INSIDE = {"get", "incrby", "expireat"}  # what CHARGE_SCRIPT calls on the server


def commands(client) -> dict[str, int]:
    """Commands the Redis server has run, by name (INFO commandstats, which also counts the
    commands a script runs inside the server); INFO itself excluded."""
    stats = client.info("commandstats")
    return {k.removeprefix("cmdstat_"): v["calls"] for k, v in stats.items() if k != "cmdstat_info"}


def round_trips(before: dict[str, int], after: dict[str, int], requests: int) -> float:
    """Commands sent over the network per request: everything but what runs inside the script."""
    sent = {k: after[k] - before.get(k, 0) for k in after if k not in SCRIPT_INSIDE}
    return sum(sent.values()) / requests


def measure(upstream_url: str, rounds: int) -> dict[str, float]:
    """Median seconds per request for each subject, Redis's own round trip, and the commands
    the Redis store sent per request."""
    import redis

    from bench.common import MODEL_PATH
    from shared.app import ProxyApp
    from shared.settings import Settings

    body = json.dumps(PAYLOAD).encode()
    base = Settings(hf_token=TOKEN, hf_inference_url=upstream_url + MODEL_PATH)

    def call(app: ProxyApp) -> None:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/generate",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "203.0.113.7",
            "wsgi.input": io.BytesIO(body),
        }
        status: list[str] = []
        b"".join(app(environ, lambda s, h, e=None: status.append(s)))
        assert status[0].startswith("200"), status

    with redis_server() as url:
        subjects = {
            "none": ProxyApp(base),
            "memory": ProxyApp(base.with_changes(**LIMITS)),
            "redis": ProxyApp(base.with_changes(**LIMITS, quota_store="redis", redis_url=url)),
        }
        ping = redis.Redis.from_url(url)
        times: dict[str, list[float]] = {name: [] for name in [*subjects, "ping"]}
        for _ in range(50):  # warm every pool first
            for app in subjects.values():
                call(app)
        before = commands(ping)
        for _ in range(100):
            call(subjects["redis"])
        per_request = round_trips(before, commands(ping), 100)
        for _ in range(rounds):  # interleaved, so a busy moment hits every subject alike
            for name, app in subjects.items():
                started = time.perf_counter()
                call(app)
                times[name].append(time.perf_counter() - started)
            started = time.perf_counter()
            ping.ping()
            times["ping"].append(time.perf_counter() - started)
    return {**{name: median(values) for name, values in times.items()}, "commands": per_request}
