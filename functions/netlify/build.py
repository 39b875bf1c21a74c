"""Netlify build command: publish the demo page with a rule that proxies /api/* to the Python function.

Netlify Functions cannot run Python (https://docs.netlify.com/build/functions/overview/ lists
TypeScript, JavaScript and Go), so the Netlify site is static and rewrites ``/api/*`` with status
200 to the proxy deployed on Vercel or AWS. netlify.toml cannot read environment variables
(only ``signed`` names one), so this script, run by Netlify's build with its Python, writes the
rule into ``<publish>/_redirects`` from HFPROXY_BACKEND_URL, which the Deploy-to-Netlify flow asks
for (``[template.environment]``). With PROXY_SIGNATURE_SECRET set, the rule carries
``Sign=PROXY_SIGNATURE_SECRET`` so Netlify adds the ``x-nf-sign`` JWS the backend checks
(signed proxy redirects: https://docs.netlify.com/routing/redirects/rewrites-proxies/#signed-proxy-redirects;
``Sign=`` is the _redirects spelling in Netlify's parser, netlify/build packages/redirect-parser).

Standard library only, Python 3.8+: it runs in Netlify's build image, not in our virtualenv.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

BACKEND_VARIABLE = "HFPROXY_BACKEND_URL"
SECRET_VARIABLE = "PROXY_SIGNATURE_SECRET"
ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "public"
PUBLISH = ROOT / "dist" / "netlify"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class BuildError(Exception):
    """A setting the deployer must fix; the message names it (never a secret's value)."""


def backend_base(raw: str | None) -> str:
    """The backend's origin (plus any stage path), without a trailing slash or ``/api``."""
    value = (raw or "").strip()
    if not value:
        raise BuildError(
            f"Set {BACKEND_VARIABLE} to the URL of your deployed Python proxy "
            "(for example https://my-hfproxy.vercel.app) in Site configuration > Environment variables."
        )
    parts = urlsplit(value)
    if any(ch.isspace() for ch in value) or parts.query or parts.fragment or parts.username or not parts.hostname:
        raise BuildError(f"{BACKEND_VARIABLE} must be a plain URL such as https://my-hfproxy.vercel.app.")
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        raise BuildError(f"{BACKEND_VARIABLE} must start with https:// (plain http only for a loopback test).")
    path = parts.path.rstrip("/")
    if path.endswith("/api"):
        path = path[: -len("/api")]
    return f"{parts.scheme}://{parts.netloc}{path}"


def redirect_rule(base: str, signed: bool) -> str:
    """One _redirects line: ``/api/*`` rewritten (200, forced) to the backend, signed if asked."""
    rule = f"/api/*  {base}/api/:splat  200!"
    return f"{rule}  Sign={SECRET_VARIABLE}" if signed else rule


def build(env: dict, source: Path = SOURCE, publish: Path = PUBLISH) -> list[str]:
    """Copy the page to ``publish`` and write its _redirects; returns warnings for the build log."""
    base = backend_base(env.get(BACKEND_VARIABLE))
    signed = bool((env.get(SECRET_VARIABLE) or "").strip())
    if publish.exists():
        shutil.rmtree(publish)
    shutil.copytree(source, publish)
    (publish / "_redirects").write_text(
        f"# Written by functions/netlify/build.py from {BACKEND_VARIABLE}; do not edit.\n"
        + redirect_rule(base, signed)
        + "\n"
    )
    warnings = []
    if not signed:
        warnings.append(
            f"{SECRET_VARIABLE} is not set: /api/* is proxied unsigned, so the backend cannot refuse "
            "traffic that bypasses this site. Set the same random value here and on the backend."
        )
    return warnings


def main() -> int:
    env = dict(os.environ)
    try:
        warnings = build(env)
    except BuildError as exc:
        print(f"hfproxy build failed: {exc}", file=sys.stderr)
        return 1
    for warning in warnings:
        print(f"hfproxy warning: {warning}", file=sys.stderr)
    print(f"hfproxy: published {PUBLISH} with /api/* proxied to {backend_base(env.get(BACKEND_VARIABLE))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
