"""The local server's worker processes (functions/local/workers.py): several processes on one
socket, never with counts that would then split, and none left behind when the server ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from functions.local import workers
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[3]


def start(*args: str, **env: str) -> tuple[subprocess.Popen, str]:
    environment = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), **env}  # no token: demo mode
    command = [sys.executable, "-m", "functions.local.server", "--port", "0", "--env-file", "", *args]
    proc = subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    line = proc.stdout.readline() if proc.stdout else ""
    return proc, line


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (Linux's /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def gone(pid: int, within: float = 10.0) -> bool:
    """Whether ``pid`` has exited (or is a zombie) before ``within`` seconds pass."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)  # polling a process we do not own; the deadline bounds it
    return False


def test_two_workers_answer_and_stop_with_the_server():
    # GIVEN the server started with two worker processes
    proc, banner = start("--workers", "2")
    try:
        assert "2 worker processes" in banner, banner
        port = int(banner.split("http://127.0.0.1:")[1].split()[0])
        (child,) = children(proc.pid)
        # WHEN many clients call it at once
        with ThreadPoolExecutor(8) as pool:
            statuses = list(
                pool.map(
                    lambda _: requests.get(f"http://127.0.0.1:{port}/api/health", timeout=10).status_code, range(40)
                )
            )
        # THEN every call is answered
        assert statuses == [200] * 40
    finally:
        # AND when the server is stopped, its worker stops with it
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    assert gone(child)


def test_a_worker_does_not_outlive_a_killed_server():
    # GIVEN two workers, WHEN the first process is killed outright (no chance to stop the other)
    proc, banner = start("--workers", "2")
    (child,) = children(proc.pid)
    proc.kill()
    proc.wait(timeout=10)
    # THEN the worker notices and exits by itself
    assert gone(child)


def test_several_workers_with_in_process_counts_are_refused():
    # GIVEN spend limits on the memory store, WHEN two workers are asked for
    proc, _ = start("--workers", "2", RATE_LIMIT_PER_MINUTE="10")
    # THEN the server does not start, and says why
    assert proc.wait(timeout=20) == 2
    assert "QUOTA_STORE=redis or dynamodb" in (proc.stderr.read() if proc.stderr else "")


PER_CORE = min(os.cpu_count() or 1, workers.MAX_DEFAULT)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (Settings(), PER_CORE),  # no limits: one per core
        (Settings(rate_limit_per_minute=10), 1),  # counted in this process: one
        (Settings(rate_limit_per_minute=10, quota_store="redis", redis_url="redis://127.0.0.1:1"), PER_CORE),
    ],
)
def test_the_default_is_one_per_core_unless_counts_live_in_the_process(settings, expected):
    count = workers.default_count(settings)
    assert count == expected and workers.refusal(settings, count) is None


def test_without_fork_the_server_runs_one_process(monkeypatch):
    # GIVEN a platform without os.fork (Windows)
    monkeypatch.delattr(os, "fork")
    # THEN the default is one process, and more are refused with the reason
    assert workers.default_count(Settings()) == 1
    assert "os.fork" in (workers.refusal(Settings(), 2) or "")
