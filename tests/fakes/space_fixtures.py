"""Fixtures for the Llama Space tests: loopback fakes per Gradio generation, and a real Gradio;
the browser's body and the call that sends it.

Registered for the whole suite by ``pytest_plugins`` in tests/conftest.py.
The real server runs the installed ``gradio`` package (a dev dependency only) in a subprocess on
127.0.0.1, once per test session; analytics off and no share link, so nothing leaves the machine.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from shared.settings import Settings
from shared.upstreams import gradio_space
from tests.conftest import TEST_TOKEN, client_for, post_json
from tests.fakes import llama_space
from tests.fakes.gradio_space import FakeSpace

ROOT = Path(__file__).resolve().parents[2]
STARTUP_LIMIT = 90.0  # seconds; a cold `import gradio` on a small CI machine takes ~5-15 s

SERVE = """
import sys
from tests.fakes import llama_space
build = getattr(llama_space, sys.argv[2])
build().queue(default_concurrency_limit=4).launch(
    server_name="127.0.0.1", server_port=int(sys.argv[1]), share=False, show_error=False, quiet=True
)
"""


@pytest.fixture(autouse=True)
def _fresh_discovery() -> Iterator[None]:
    """Each test discovers its Space afresh (the cache is per warm process, tests are not)."""
    gradio_space.forget()
    yield
    gradio_space.forget()


@pytest.fixture
def start_space() -> Iterator[Callable[[FakeSpace], FakeSpace]]:
    started: list[FakeSpace] = []

    def start(space: FakeSpace) -> FakeSpace:
        started.append(space.start())
        return space

    yield start
    for space in started:
        space.stop()


def space_settings(url: str, **changes) -> Settings:
    """The Space's endpoint named, as most tests want; ``llama_space_api_name=None`` discovers it."""
    base = Settings(
        hf_token=TEST_TOKEN,
        llama_space_url=url,
        llama_space_api_name="predict",
        request_deadline=10.0,
        deadline_margin=0.2,
    )
    return base.with_changes(**changes)


# What the seed's demo page sends to /api/predict, and what the Space stand-in answers to it.
PROMPT = "What helps with a sore knee after running?"
BROWSER_BODY = {
    "inputs": PROMPT,
    "parameters": {"model": "llama-2-13b-chat", "max_new_tokens": 200, "temperature": 0.3, "top_p": 0.9},
}
EXPECTED = llama_space.expected(PROMPT, "llama-2-13b-chat", 200, 0.3)


def predict(settings: Settings, body=BROWSER_BODY, **kwargs):
    """POST /api/predict through the WSGI app (the browser's body unless told otherwise)."""
    return post_json(client_for(settings), "/api/predict", body, **kwargs)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def real_gradio() -> Iterator[str]:
    """GIVEN the seed Space's stand-in (a Blocks app) served by the real, current Gradio on 127.0.0.1."""
    yield from _serve_real_gradio("build_blocks")


@pytest.fixture(scope="session")
def real_gradio_interface() -> Iterator[str]:
    """GIVEN the stand-in as an ``Interface`` of a function named ``ask_llama``, on the real Gradio."""
    yield from _serve_real_gradio("build_interface")


def _serve_real_gradio(builder: str) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "PYTHONPATH": str(ROOT),
    }
    cache = ROOT / ".pytest_cache"
    log = open(cache / f"real_gradio_{builder}.log", "w") if cache.is_dir() else None
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(port), builder],
        cwd=ROOT,
        env=env,
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log:
            log.close()


def _wait_ready(url: str, proc: subprocess.Popen) -> None:
    """Poll /config until Gradio answers (bounded); fail with the reason if it never does."""
    limit = time.monotonic() + STARTUP_LIMIT
    while time.monotonic() < limit:
        if proc.poll() is not None:
            raise RuntimeError(f"gradio exited with {proc.returncode}; see .pytest_cache/real_gradio_*.log")
        try:
            if requests.get(url + "/config", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)  # readiness polling of a subprocess, not test synchronisation
    raise RuntimeError(f"gradio did not answer {url}/config within {STARTUP_LIMIT} s")
