"""SnapStart's runtime hooks: registered only where the runtime offers them; before the snapshot
they import what a first model request needs and nothing that calls out or reads a token."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# A stand-in for Lambda's snapshot_restore_py (the managed runtime's library): it records the hooks.
FAKE_RUNTIME = """
import json, sys, types
hooks = {"before": [], "after": []}
fake = types.ModuleType("snapshot_restore_py")
fake.register_before_snapshot = lambda f, *a, **k: hooks["before"].append((f, a, k))
fake.register_after_restore = lambda f, *a, **k: hooks["after"].append((f, a, k))
sys.modules["snapshot_restore_py"] = fake
"""


def run(script: str) -> dict:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HF_TOKEN": "hf_not-used-by-the-hooks-00"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_without_the_runtime_library_nothing_is_registered_or_imported():
    # GIVEN no snapshot_restore_py (tests, make serve, Vercel), WHEN the handler is imported
    got = run(
        "import json, sys; from functions.aws_lambda import handler, snapstart;"
        "print(json.dumps({'registered': snapstart.register(handler.app), 'pydantic': 'pydantic' in sys.modules}))"
    )
    # THEN no hook is registered and the first request's imports stay deferred
    assert got == {"registered": False, "pydantic": False}


def test_before_the_snapshot_the_first_requests_imports_are_done_and_nothing_is_called():
    # GIVEN the Lambda runtime's hook library, WHEN the handler is imported and Lambda runs the hooks
    got = run(
        FAKE_RUNTIME
        + "from functions.aws_lambda import handler\n"
        + "loaded_at_import = 'pydantic' in sys.modules\n"
        + "[f(*a, **k) for f, a, k in reversed(hooks['before'])]\n"
        + "[f(*a, **k) for f, a, k in hooks['after']]\n"
        + "from functions.aws_lambda import secret\n"
        + "print(json.dumps({'hooks': {k: len(v) for k, v in hooks.items()}, 'loaded_at_import': loaded_at_import,"
        + " 'loaded': sorted(m for m in ('pydantic', 'urllib3', 'shared.schemas.generate', 'shared.schemas.chat',"
        + " 'shared.upstreams.huggingface', 'shared.upstreams.demo', 'shared.auth', 'boto3') if m in sys.modules),"
        + " 'settings_read': handler.app._settings is not None, 'secret_read': secret.SECRETS_MANAGER._secret is not None}))"
    )
    # THEN one hook of each kind is registered, and importing the handler did not run them
    assert got["hooks"] == {"before": 1, "after": 1} and not got["loaded_at_import"]
    # AND before the snapshot pydantic, the request models, the upstream clients and urllib3 were imported
    assert got["loaded"] == [
        "pydantic",
        "shared.auth",
        "shared.schemas.chat",
        "shared.schemas.generate",
        "shared.upstreams.demo",
        "shared.upstreams.huggingface",
        "urllib3",
    ]
    # AND neither the settings nor the token source were read (the snapshot holds no secret)
    assert got["settings_read"] is False and got["secret_read"] is False
