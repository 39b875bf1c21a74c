"""`make serve` serves the demo page from public/ beside the proxy, without touching the core."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from functions.local.server import serve
from functions.local.static import PUBLIC_DIR
from shared.app import ProxyApp
from shared.settings import Settings
from tests.fakes.http_server import running


@pytest.fixture
def base_url():
    with running(serve(ProxyApp(Settings(demo_mode=True)), port=0, static=True)) as url:
        yield url


def test_root_is_the_demo_page_and_its_assets_are_served(base_url):
    page = requests.get(f"{base_url}/", timeout=5)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert page.content == (PUBLIC_DIR / "index.html").read_bytes()
    script = requests.get(f"{base_url}/app.js", timeout=5)
    assert script.headers["Content-Type"].startswith("text/javascript")
    assert script.headers["X-Content-Type-Options"] == "nosniff"
    assert requests.head(f"{base_url}/style.css", timeout=5).text == ""


def test_api_paths_still_go_to_the_core(base_url):
    resp = requests.post(f"{base_url}/api/generate", json={"inputs": "Hi"}, timeout=5)
    assert resp.status_code == 200 and resp.headers["X-HFProxy-Mode"] == "demo"
    missing = requests.get(f"{base_url}/api/index.html", timeout=5)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


@pytest.mark.parametrize("path", ["/../Makefile", "/%2e%2e/Makefile", "/..%2fMakefile", "/nope.html", "/.hidden"])
def test_nothing_outside_public_is_served(base_url, path):
    # GIVEN traversal attempts and missing files, THEN the core's JSON 404 answers, never a file
    resp = requests.get(f"{base_url}{path}", timeout=5)
    assert resp.status_code == 404
    assert resp.json()["code"] == "not_found"
    assert "PYTHON ?=" not in resp.text


def test_the_public_folder_is_the_repository_one():
    assert PUBLIC_DIR == Path(__file__).resolve().parents[3] / "public"
