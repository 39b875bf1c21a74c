"""What every figure shares: the upstream process, the request, the environment, the local server
in its own process, fresh processes."""

from __future__ import annotations

import http.client
import json
import os
import random
import string
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MODEL_PATH = "/hf-inference/models/openai-community/gpt2"
# Not a real token (only the loopback fake sees it), but shaped like one (hf_ and 34 letters), so
# the redaction does the work a real token costs it, no more (a word of the fake's answers in it
# would not). Made here, so no token-shaped literal sits in the repository.
TOKEN = "hf_" + "".join(random.Random(27).choices(string.ascii_letters, k=34))
PAYLOAD = {"inputs": "Once upon a time", "parameters": {"max_new_tokens": 20}}


class UpstreamClient:
    """Asks the fake upstream how many TCP connections it accepted."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.host, self.port = url[len("http://") :].split("/")[0].split(":")

    def _call(self, method: str, path: str) -> dict:
        conn = http.client.HTTPConnection(self.host, int(self.port), timeout=5)
        try:
            conn.request(method, path, body=b"" if method == "POST" else None)
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()

    def connections(self) -> int:
        """TCP connections accepted since the last reset (this query's own is not counted)."""
        return self._call("GET", "/_bench/connections")["connections"]

    def reset(self) -> None:
        self._call("POST", "/_bench/reset")


class Upstream(UpstreamClient):
    """The fake upstream (``bench.upstream``) in a child process, for one ``with`` block."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay

    def __enter__(self) -> Upstream:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.upstream", "--delay", str(self.delay)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        url = self.proc.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError("the fake upstream did not start")
        super().__init__(url)
        return self

    def __exit__(self, *exc) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def proxy_env(upstream_url: str, **extra: str) -> dict[str, str]:
    """The environment a deployed function would have: a token and the upstream's URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE", "POWERTOOLS"))}
    env.update(HF_TOKEN=TOKEN, HF_INFERENCE_URL=upstream_url + MODEL_PATH, PYTHONPATH=str(ROOT), **extra)
    return env


def start_local_server(env: dict[str, str], stderr: Any = subprocess.DEVNULL, banner: bool = False) -> Any:
    """`make serve`'s server (``python -m functions.local.server``) in its own process on a free
    loopback port, live (a token configured, not demo mode): the process and the port its banner names
    (and the banner itself, when asked)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "functions.local.server", "--host", "127.0.0.1", "--port", "0", "--env-file", ""],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    line = proc.stdout.readline() if proc.stdout else ""  # "hfproxy on http://127.0.0.1:PORT - live - ..."
    if "http://127.0.0.1:" not in line or "DEMO" in line:
        proc.kill()
        raise RuntimeError(f"the local server did not start live: {line!r}")
    port = int(line.split("http://127.0.0.1:")[1].split()[0])
    return (proc, port, line) if banner else (proc, port)


def run_probe(name: str, env: dict[str, str], *args: str, timeout: float = 120) -> dict:
    """Run ``bench.probes <name>`` in a fresh interpreter; its result comes back as JSON in a file."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            [sys.executable, "-m", "bench.probes", name, out.name, *args],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
        )
        return json.loads(Path(out.name).read_text())


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def free_port() -> int:
    """A loopback port nothing listens on now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, ...]] = []
        self.missed: list[str] = []

    def add(self, figure: str, ours: str, reference: str, ratio: str, target: str, ok: bool | None) -> None:
        self.rows.append((figure, ours, reference, ratio, target, {True: "yes", False: "NO", None: "-"}[ok]))
        if ok is False:
            self.missed.append(figure)

    def render(self) -> str:
        head = ("figure", "ours", "baseline / reference", "ratio", "target", "ok")
        lines = [f"| {' | '.join(head)} |", f"|{'|'.join('---' for _ in head)}|"]
        lines += [f"| {' | '.join(row)} |" for row in self.rows]
        return "\n".join(lines)
