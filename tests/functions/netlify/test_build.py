"""The Netlify build command (functions/netlify/build.py): the rule it writes, and what it refuses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from functions.netlify import build as netlify_build
from functions.netlify.build import BuildError, backend_base, redirect_rule

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("raw", "base"),
    [
        ("https://my-hfproxy.vercel.app", "https://my-hfproxy.vercel.app"),
        (" https://my-hfproxy.vercel.app/ ", "https://my-hfproxy.vercel.app"),
        ("https://my-hfproxy.vercel.app/api", "https://my-hfproxy.vercel.app"),
        (
            "https://abc123.execute-api.eu-west-1.amazonaws.com/Prod/",
            "https://abc123.execute-api.eu-west-1.amazonaws.com/Prod",
        ),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ],
)
def test_backend_url_is_normalised_to_a_base(raw, base):
    assert backend_base(raw) == base


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "my-hfproxy.vercel.app",
        "http://my-hfproxy.vercel.app",
        "ftp://x.example",
        "https://x.example/?a=1",
        "https://u:p@x.example",
        "https://x.example/a b",
    ],
)
def test_unusable_backend_urls_fail_the_build_with_the_variable_named(raw):
    with pytest.raises(BuildError, match="HFPROXY_BACKEND_URL"):
        backend_base(raw)


def test_rule_is_a_forced_200_rewrite_signed_only_when_a_secret_is_set():
    assert (
        redirect_rule("https://b.example", signed=True)
        == "/api/*  https://b.example/api/:splat  200!  Sign=PROXY_SIGNATURE_SECRET"
    )
    assert redirect_rule("https://b.example", signed=False) == "/api/*  https://b.example/api/:splat  200!"


def test_build_publishes_the_page_with_its_redirects(tmp_path):
    # GIVEN the deploy-button variables, WHEN the build runs
    publish = tmp_path / "dist" / "netlify"
    warnings = netlify_build.build(
        {"HFPROXY_BACKEND_URL": "https://b.example", "PROXY_SIGNATURE_SECRET": "s3cr3t-value"}, publish=publish
    )
    # THEN the demo page is published unchanged beside a _redirects with the signed rule, no warning
    assert (publish / "index.html").read_bytes() == (ROOT / "public" / "index.html").read_bytes()
    rules = [line for line in (publish / "_redirects").read_text().splitlines() if not line.startswith("#")]
    assert rules == ["/api/*  https://b.example/api/:splat  200!  Sign=PROXY_SIGNATURE_SECRET"]
    assert warnings == []
    assert "s3cr3t-value" not in (publish / "_redirects").read_text()  # Netlify reads it per request


def test_without_a_secret_the_build_warns_that_the_backend_is_unprotected(tmp_path):
    warnings = netlify_build.build({"HFPROXY_BACKEND_URL": "https://b.example"}, publish=tmp_path / "out")
    assert len(warnings) == 1 and "PROXY_SIGNATURE_SECRET" in warnings[0]


def test_the_command_fails_loudly_without_a_backend_url(tmp_path):
    # GIVEN Netlify runs the build command from netlify.toml with no HFPROXY_BACKEND_URL
    result = subprocess.run(
        [sys.executable, "functions/netlify/build.py"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "Set HFPROXY_BACKEND_URL" in result.stderr


def test_netlify_toml_runs_the_python_build_and_publishes_its_output():
    import tomllib

    config = tomllib.loads((ROOT / "netlify.toml").read_text())
    assert config["build"]["command"] == "python3 functions/netlify/build.py"
    assert ROOT / config["build"]["publish"] == netlify_build.PUBLISH
    assert set(config["template"]["environment"]) == {"HFPROXY_BACKEND_URL", "PROXY_SIGNATURE_SECRET"}
    assert "functions" not in config["build"]  # no Netlify Functions: they cannot run Python
