"""What a new instance does for its first request (docs/benchmarks.md, "Cold start"): no scan of
the installed distributions for pydantic plugins, and nothing it does not use (boto3, redis, the
spend limits' policy and stores, the event-stream relay)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import MODEL_PATH, TEST_TOKEN

ROOT = Path(__file__).resolve().parents[3]
FIRST_REQUEST = """
import json, sys
from tests.functions.aws_lambda import events
from tests.fakes.lambda_context import LambdaContext
from functions.aws_lambda.handler import lambda_handler
import os
event = events.load("http_api_v2", body=json.dumps({"inputs": "Hi"}), headers={"content-type": "application/json"})
status = lambda_handler(event, LambdaContext())["statusCode"]
import pydantic.plugin._loader as plugins
print(json.dumps({"status": status, "loaded": [m for m in MODULES if m in sys.modules],
                  "plugins_scanned": plugins._plugins is not None, "setting": os.environ.get("PYDANTIC_DISABLE_PLUGINS")}))
"""
MODULES = [
    "boto3",
    "redis",
    "pydantic",
    "urllib3",
    "shared.limits.policy",
    "shared.limits.stores",
    "shared.upstreams.sse",
]


def first_request(upstream, **env: str) -> dict:
    environment = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HF_TOKEN": TEST_TOKEN}
    environment.update(HF_INFERENCE_URL=upstream.url + MODEL_PATH, **env)
    script = f"MODULES = {MODULES!r}\n" + FIRST_REQUEST
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_first_request_loads_only_what_it_uses(upstream):
    # GIVEN a fresh process, WHEN the handler is imported and answers one generate request
    got = first_request(upstream)
    # THEN it answered, with pydantic and urllib3 loaded but no AWS SDK (no secret ARN), no Redis
    # client, no spend-limit policy or store (no limit set), no event-stream relay (no stream asked)
    assert got["status"] == 200
    assert got["loaded"] == ["pydantic", "urllib3"]
    # AND pydantic did not scan the installed distributions for plugins
    assert got["setting"] == "__all__" and got["plugins_scanned"] is False


def test_an_operators_plugin_setting_is_kept(upstream):
    # GIVEN PYDANTIC_DISABLE_PLUGINS set to "" (load them all), WHEN the first request is answered
    got = first_request(upstream, PYDANTIC_DISABLE_PLUGINS="")
    # THEN the setting stands, and pydantic looked for plugins
    assert got["setting"] == "" and got["plugins_scanned"] is True
