"""The Lambda bundle: what `sam build` puts in the zip, and that it runs on its own.

`sam build` runs `make build-HfProxyFunction` (template.yaml, `BuildMethod: makefile`), so running
that target into a temporary ARTIFACTS_DIR builds the same directory without the SAM CLI (no
Docker, no credentials; pip fetches Lambda-platform wheels from PyPI). `make check-sam` also runs
the real `sam build` and re-runs these tests on its output (HFPROXY_SAM_BUILD_DIR).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MODEL_PATH, TEST_TOKEN

ROOT = Path(__file__).resolve().parents[3]
SIZE_BUDGET_BYTES = 26 * 1024 * 1024  # unzipped; Lambda's hard limit is 250 MB
SAM_BUILD_DIR = os.environ.get("HFPROXY_SAM_BUILD_DIR")
BUILDS = ["make build-HfProxyFunction"] + (["sam build"] if SAM_BUILD_DIR else [])

REQUIRED = [
    "shared/__init__.py",
    "shared/app.py",
    "functions/__init__.py",
    "functions/aws_lambda/handler.py",
    "serverless_wsgi.py",
    "werkzeug",
    "aws_lambda_powertools",
    "pydantic",
    "pydantic_core",
    "urllib3",
    "certifi",
]
# Test and build tools, the AWS SDK (the runtime provides boto3), and everything in the repo that
# is not the function: none of it may be shipped.
FORBIDDEN = [
    "requests",  # the transport uses urllib3 directly; requests is the tests' client
    "moto",
    "pytest",
    "_pytest",
    "hypothesis",
    "boto3",
    "botocore",
    "s3transfer",
    "cfnlint",
    "samtranslator",
    "ruff",
    "gradio",
    "tests",
    "events",
    "public",
    "node_modules",
    "functions/local",
    ".venv",
    ".env",
    "template.yaml",
    "Makefile",
    "requirements-dev.txt",
]


@pytest.fixture(scope="module", params=BUILDS)
def bundle(request, tmp_path_factory) -> Path:
    if request.param == "sam build":
        return Path(SAM_BUILD_DIR).resolve()
    out = tmp_path_factory.mktemp("bundle")
    subprocess.run(["make", "-s", "build-HfProxyFunction", f"ARTIFACTS_DIR={out}"], cwd=ROOT, check=True)
    return out


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def test_bundle_holds_the_code_and_runtime_dependencies(bundle):
    missing = [name for name in REQUIRED if not (bundle / name).exists()]
    assert missing == []


def test_bundle_holds_no_test_tools_sdk_or_repo_files(bundle):
    shipped = [name for name in FORBIDDEN if (bundle / name).exists()]
    assert shipped == []


def test_every_top_level_entry_is_our_code_or_an_installed_requirement(bundle):
    """Catches anything else the build might sweep in (a stray folder, a README, a dev package)."""
    owned = {"shared", "functions", "__pycache__"}
    for record in bundle.glob("*.dist-info/RECORD"):
        owned.add(record.parent.name)
        owned.update(line.split("/", 1)[0].split(",", 1)[0] for line in record.read_text().splitlines())
    installed = {p.name.split("-")[0].lower().replace("_", "-") for p in bundle.glob("*.dist-info")}
    runtime = {
        line.split("==")[0].strip().lower().replace("_", "-")
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    # the Makefile's LAMBDA_LEAVE_OUT: on AWS the limits count in DynamoDB, not Redis
    assert runtime - {"redis"} <= installed and "redis" not in installed
    assert sorted(p.name for p in bundle.iterdir() if p.name not in owned) == []


def test_bundle_fits_the_size_budget(bundle):
    size = tree_size(bundle)
    print(f"\nLambda bundle ({bundle.name}): {size / 1024 / 1024:.1f} MiB unzipped")
    assert size <= SIZE_BUDGET_BYTES, f"{size / 1024 / 1024:.1f} MiB"


# Runs inside the bundle with -I -S: only the stdlib and the bundle are importable, as on Lambda
# minus the runtime's boto3 (which these requests must not need).
INVOKE = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])

class Context:  # https://docs.aws.amazon.com/lambda/latest/dg/python-context.html
    function_name = "hfproxy-HfProxyFunction"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:hfproxy-HfProxyFunction"
    aws_request_id = "bundle-test-request"
    log_group_name = "/aws/lambda/hfproxy-HfProxyFunction"
    log_stream_name = "stream"
    def get_remaining_time_in_millis(self):
        return 28000

module, _, name = sys.argv[2].rpartition(".")
handler = getattr(__import__(module.replace("/", "."), fromlist=[name]), name)
results = [handler(json.load(open(path)), Context()) for path in sys.argv[3:]]
print(json.dumps({"results": results, "boto3": "boto3" in sys.modules}))
"""


def test_bundled_handler_answers_the_user_events_on_its_own(bundle, upstream):
    """What `sam local invoke -e events/...` does, without Docker: the template's handler string,
    loaded from the bundle alone, answers the README's events; generate reaches the (fake) upstream."""
    # GIVEN the function's environment as template.yaml sets it, with a plain token parameter
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HF_TOKEN": TEST_TOKEN,
        "HF_TOKEN_SECRET_ARN": "",
        "ALLOWED_ORIGINS": "https://app.example",
        "HF_INFERENCE_URL": upstream.url + MODEL_PATH,
        "CHAT_MODELS": "",
        "REQUEST_DEADLINE_SECONDS": "26",
        "POWERTOOLS_SERVICE_NAME": "hfproxy",
        "POWERTOOLS_METRICS_NAMESPACE": "hfproxy",
        "AWS_REGION": "us-east-1",
    }
    events = [ROOT / "events" / f"{name}.json" for name in ("health", "preflight", "generate")]
    # WHEN a Python 3.12 with no site-packages invokes the handler from the bundle
    assert sys.version_info[:2] == (3, 12), "the bundle holds CPython 3.12 wheels: run the suite on 3.12"
    run = subprocess.run(
        [sys.executable, "-I", "-S", "-c", INVOKE, str(bundle), "functions/aws_lambda/handler.lambda_handler"]
        + [str(e) for e in events],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    health, preflight, generate = report["results"]
    # THEN health is ok, the preflight is answered by the function, and generate went upstream
    assert health["statusCode"] == 200 and json.loads(health["body"])["status"] == "ok"
    assert preflight["statusCode"] == 204
    assert preflight["headers"]["Access-Control-Allow-Origin"] == "https://app.example"
    assert generate["statusCode"] == 200, generate
    assert upstream.received[-1].headers["authorization"] == f"Bearer {TEST_TOKEN}"
    # AND boto3 (not in the bundle, and not importable here) was never needed
    assert report["boto3"] is False


def test_every_module_ships_a_pyc_the_runtime_uses_without_checking_mtimes(bundle):
    """/var/task is read-only, so a missing or stale .pyc means compiling on every cold start; zips
    keep mtimes to 2 s, so only hash-based unchecked .pyc (PEP 552, flags == 1) are safe."""
    stale = []
    for source in bundle.rglob("*.py"):
        pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-312.pyc"
        if not pyc.is_file() or int.from_bytes(pyc.read_bytes()[4:8], "little") != 1:
            stale.append(str(source.relative_to(bundle)))
    assert stale == []
