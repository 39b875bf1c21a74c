"""End to end with Netlify's own CLI (a test tool only): `netlify build --offline` runs our Python
build command, then `netlify dev --offline` serves the published page and proxies /api/* with the
signed rewrite to the Python proxy on loopback, which checks the x-nf-sign JWS.

netlify dev signs with the value it finds in its own env map, built from netlify.toml and the
project's .env files, not from the process environment (netlify-cli src/utils/proxy.ts
serveRedirect reads ``env[match.signingSecret]``; src/utils/dev.ts getDotEnvVariables), so the
secret goes in the site's .env here, as a developer would put it.
"""

from __future__ import annotations

import os
import subprocess

import pytest
import requests

from functions.local.server import serve
from shared.app import ProxyApp
from shared.settings import Settings
from tests.deploy_tools import TOOLS_BIN, copy_checkout, free_port, tool, wait_for_http
from tests.fakes.http_server import running

pytestmark = pytest.mark.deploy_tools

SECRET = "netlify-dev-signing-secret-" * 3
OTHER = "a-different-backend-secret-" * 3


@pytest.fixture(scope="module")
def backend():
    """GIVEN the Python proxy on loopback (demo mode: no upstream needed), requiring a signed proxy."""
    proxy = ProxyApp(Settings(demo_mode=True, proxy_signature_secret=SECRET))
    with running(serve(proxy, port=0)) as url:
        yield proxy, url


@pytest.fixture(scope="module")
def site(backend, tmp_path_factory):
    """WHEN the site is built and served by Netlify's CLI in front of it."""
    netlify = tool("netlify")
    tool("deno")  # netlify dev downloads Deno unless one is on PATH, and there is no network here
    _proxy, backend_url = backend
    project = copy_checkout(tmp_path_factory.mktemp("netlify-site"))
    env = {
        **os.environ,
        "PATH": f"{TOOLS_BIN}{os.pathsep}{os.environ['PATH']}",
        "NETLIFY_TELEMETRY_DISABLED": "1",
        "HFPROXY_BACKEND_URL": backend_url,
        "PROXY_SIGNATURE_SECRET": SECRET,
    }
    built = subprocess.run(
        [str(netlify), "build", "--offline"], cwd=project, env=env, capture_output=True, text=True, timeout=300
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert "Sign=PROXY_SIGNATURE_SECRET" in (project / "dist" / "netlify" / "_redirects").read_text()
    (project / ".env").write_text(f"PROXY_SIGNATURE_SECRET={SECRET}\n")
    port = free_port()
    dev = subprocess.Popen(
        [str(netlify), "dev", "--offline", "--no-open", "--port", str(port), "--staticServerPort", str(free_port())],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", dev)
        yield f"http://127.0.0.1:{port}"
    finally:
        dev.terminate()
        try:
            dev.wait(timeout=20)
        except subprocess.TimeoutExpired:
            dev.kill()
            dev.wait(timeout=10)


def test_the_site_serves_the_demo_page(site):
    page = requests.get(f"{site}/", timeout=10)
    assert page.status_code == 200
    assert "<title>hfproxy demo</title>" in page.text
    assert requests.get(f"{site}/app.js", timeout=10).status_code == 200


def test_signed_rewrite_reaches_the_backend_and_it_accepts_the_signature(site, backend):
    # THEN /api/generate through Netlify is signed with the shared secret and answered by the proxy
    resp = requests.post(f"{site}/api/generate", json={"inputs": "Hello"}, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.headers["X-HFProxy-Mode"] == "demo"
    assert resp.json()[0]["generated_text"].startswith("Hello ")
    assert requests.get(f"{site}/api/health", timeout=30).json()["status"] == "ok"


def test_the_same_call_straight_to_the_backend_is_refused(site, backend):
    _proxy, backend_url = backend
    resp = requests.post(f"{backend_url}/api/generate", json={"inputs": "Hello"}, timeout=10)
    assert resp.status_code == 401 and resp.json()["code"] == "proxy_signature_invalid"


def test_when_the_backend_secret_differs_the_rewrite_gets_401(site, backend):
    # GIVEN the backend's secret no longer matches the site's
    proxy, _url = backend
    proxy.configure(Settings(demo_mode=True, proxy_signature_secret=OTHER))
    try:
        resp = requests.post(f"{site}/api/generate", json={"inputs": "Hello"}, timeout=30)
    finally:
        proxy.configure(Settings(demo_mode=True, proxy_signature_secret=SECRET))
    # THEN the signature fails and Netlify passes the proxy's 401 envelope through
    assert resp.status_code == 401
    assert resp.json()["code"] == "proxy_signature_invalid"
