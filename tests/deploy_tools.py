"""Build-check tools (Vercel's and Netlify's CLIs, from .tools/) and helpers for tests that drive them.

The tools are Node programs used only to check our deploy configuration the way the platforms
read it; nothing deployed needs Node. CI installs them (`.ci/run` -> `make tools`) and sets CI,
so there a missing tool FAILS the test; on a developer machine without them the test is skipped
with the command that installs them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
TOOLS_BIN = ROOT / ".tools" / "node_modules" / ".bin"


def tool(name: str) -> Path:
    path = TOOLS_BIN / name
    if path.exists():
        return path
    message = f"{path} is missing: run `make tools` (npm install of the pinned .tools/package-lock.json)"
    if os.environ.get("CI") or os.environ.get("HFPROXY_REQUIRE_DEPLOY_TOOLS"):
        pytest.fail(message)
    pytest.skip(message)


def copy_checkout(dest: Path) -> Path:
    """What a platform receives from git: tracked and unignored files only, no .venv or node_modules."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 90.0) -> None:
    """Poll until ``url`` answers (any status) or fail with the process's output; no fixed sleeps."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out = process.stdout.read() if process.stdout else ""
            pytest.fail(f"{process.args[0]} exited with {process.returncode} before {url} answered:\n{out}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.2)  # poll interval, bounded by the deadline above
    pytest.fail(f"{url} did not answer within {timeout} s")
