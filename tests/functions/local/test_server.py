"""The local server (`make serve`): real HTTP on loopback, .env loading, demo fallback, one write."""

from __future__ import annotations

import socket
from contextlib import ExitStack

import pytest
import requests

from functions.local.server import local_settings, serve
from shared.app import ProxyApp
from shared.setting_rules import TOKEN_VARIABLES
from tests.fakes.http_server import running as serving


@pytest.fixture
def clean_env(monkeypatch):
    for name in (*TOKEN_VARIABLES, "HF_TOKEN_SECRET_ARN", "DEMO_MODE", "HF_INFERENCE_URL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def running():
    with ExitStack() as stack:
        yield lambda settings: stack.enter_context(serving(serve(ProxyApp(settings), port=0)))


def test_without_a_token_the_local_server_runs_in_demo_mode(clean_env, running, tmp_path):
    base = running(local_settings(str(tmp_path / "absent.env")))
    resp = requests.post(f"{base}/api/generate", json={"inputs": "Hello"}, timeout=5)
    assert resp.status_code == 200
    assert resp.headers["X-HFProxy-Mode"] == "demo"
    assert requests.get(f"{base}/api/health", timeout=5).json()["mode"] == "demo"


def test_dotenv_supplies_the_token_but_never_overrides_the_environment(clean_env, tmp_path, upstream):
    env_file = tmp_path / ".env"
    env_file.write_text(f"HF_TOKEN=from-dotenv\nHF_INFERENCE_URL={upstream.url}/from-dotenv\n")
    clean_env.setenv("HF_INFERENCE_URL", f"{upstream.url}/from-env")
    settings = local_settings(str(env_file))
    assert settings.hf_token == "from-dotenv"
    assert settings.hf_inference_url == f"{upstream.url}/from-env"
    assert settings.demo_mode is False


def test_live_request_through_the_real_server(clean_env, running, settings, upstream):
    base = running(settings)
    resp = requests.post(
        f"{base}/api/generate", json={"inputs": "Hi"}, headers={"Origin": "http://x.example"}, timeout=5
    )
    assert resp.status_code == 200
    assert resp.json() == [{"generated_text": "Hi ... and the fake model continues."}]
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


def test_each_response_leaves_in_one_segment_with_nodelay(clean_env, running, settings):
    # GIVEN the real server; WHEN we read the raw answer to one request
    base = running(settings)
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        first = sock.recv(65536)
        rest = b""
        while chunk := sock.recv(65536):
            rest += chunk
    # THEN the status line, headers and whole body came in the first read (one write on the server)
    head, _, body = first.partition(b"\r\n\r\n")
    length = int(
        next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    )
    assert len(body) == length, (first, rest)


def test_a_head_then_a_get_share_one_connection(clean_env, running, settings):
    # GIVEN the real server and one keep-alive connection
    import http.client

    base = running(settings)
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    # WHEN a HEAD is followed by a GET on it
    conn.request("HEAD", "/api/health")
    head = conn.getresponse()
    head_body, length = head.read(), head.headers["Content-Length"]
    sock = conn.sock
    conn.request("GET", "/api/health")
    got = conn.getresponse()
    # THEN the HEAD announced the GET's length and sent no body, so the GET's answer is read whole, on the same socket
    assert head.status == got.status == 200 and head_body == b""
    assert got.read() and int(length) == int(got.headers["Content-Length"])
    assert conn.sock is sock
    conn.close()
