"""The Lambda bundle with sign-in (``LAMBDA_EXTRAS=requirements-auth.txt``): what it adds, and that
the handler verifies a real JWT from it alone. The default bundle (test_bundle.py) stays without
PyJWT and cryptography, whose compiled library alone is ~14 MB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MODEL_PATH, TEST_TOKEN
from tests.fakes import identity_provider
from tests.fakes.http_server import FakeServer
from tests.functions.aws_lambda.test_bundle import INVOKE, ROOT, SIZE_BUDGET_BYTES, tree_size

# The default budget plus what sign-in needs, measured: cryptography and cffi ~15.5 MB, PyJWT 0.2 MB.
AUTH_SIZE_BUDGET_BYTES = SIZE_BUDGET_BYTES + 18 * 1024 * 1024


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle-auth")
    subprocess.run(
        ["make", "-s", "build-HfProxyFunction", f"ARTIFACTS_DIR={out}", "LAMBDA_EXTRAS=requirements-auth.txt"],
        cwd=ROOT,
        check=True,
    )
    return out


def test_the_auth_bundle_adds_pyjwt_and_cryptography_and_fits_its_budget(bundle):
    for name in ("jwt", "cryptography", "shared/auth/jwt_users.py"):
        assert (bundle / name).exists(), name
    assert "redis" not in {p.name for p in bundle.iterdir()}
    size = tree_size(bundle)
    print(f"\nLambda bundle with sign-in: {size / 1024 / 1024:.1f} MiB unzipped")
    assert size <= AUTH_SIZE_BUDGET_BYTES, f"{size / 1024 / 1024:.1f} MiB"


def test_the_bundled_handler_verifies_a_real_jwt_on_its_own(bundle, upstream, tmp_path):
    # GIVEN an identity provider on loopback and a token it signed (Ed25519 and RSA)
    server = FakeServer().start()
    try:
        idp = identity_provider.start(server)
        event = json.loads((ROOT / "events" / "generate.json").read_text())
        events = []
        for name, authorization in {
            "user": f"Bearer {idp.token('ed-1')}",
            "forged": f"Bearer {idp.token('rsa-1', aud='another-app')}",
        }.items():
            event["headers"]["authorization"] = authorization
            path = tmp_path / f"{name}.json"
            path.write_text(json.dumps(event))
            events.append(str(path))
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HF_TOKEN": TEST_TOKEN,
            "ALLOWED_ORIGINS": "https://app.example",
            "HF_INFERENCE_URL": upstream.url + MODEL_PATH,
            "AUTH_JWKS_URL": idp.jwks_url,
            "AUTH_ISSUER": identity_provider.ISSUER,
            "AUTH_AUDIENCE": identity_provider.AUDIENCE,
            "AUTH_REQUIRED": "true",
            "POWERTOOLS_SERVICE_NAME": "hfproxy",
            "AWS_REGION": "us-east-1",
        }
        # WHEN a Python 3.12 with no site-packages invokes the handler from the bundle
        run = subprocess.run(
            [sys.executable, "-I", "-S", "-c", INVOKE, str(bundle), "functions/aws_lambda/handler.lambda_handler"]
            + events,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.stop()
    assert run.returncode == 0, run.stderr[-3000:]
    user, forged = json.loads(run.stdout.strip().splitlines()[-1])["results"]
    # THEN the user's call went upstream with the server's token, and the other was refused
    assert user["statusCode"] == 200, user
    assert upstream.received[-1].headers["authorization"] == f"Bearer {TEST_TOKEN}"
    assert forged["statusCode"] == 401 and json.loads(forged["body"])["code"] == "token_invalid"
    assert len(upstream.received) == 1
