"""`vercel build` (Vercel's own CLI, offline) on a copy of the checkout: the output has one Python
function serving /api/*, a runtime-only bundle, the pinned Python, maxDuration above our deadline,
and the function it built answers requests through Vercel's own handler shim: buffered through
``vc_handler``, and streamed (chat) through the HTTP server the shim runs on the platform.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tomllib
from importlib.metadata import requires
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from shared.settings import Settings
from tests.conftest import MODEL_PATH, TEST_TOKEN
from tests.deploy_tools import ROOT, copy_checkout, tool
from tests.fakes import hf_chat

pytestmark = pytest.mark.deploy_tools

# @vercel/python adds these to every Python function for its own handler (vc_init.py imports
# werkzeug; uvicorn serves ASGI apps): the platform's shim, not our dependencies.
VERCEL_SHIM = {"werkzeug", "uvicorn", "click", "h11"}
TEST_TOOLS = {"pytest", "moto", "boto3", "botocore", "hypothesis", "cfn-lint", "aws-sam-translator", "ruff", "pyjwt"}
AWS_ONLY = {"aws-lambda-powertools", "serverless-wsgi", "python-dotenv"}


def _norm(name: str) -> str:
    return name.lower().replace("_", "-")


def _closure(names: set[str]) -> set[str]:
    """Distribution names that installing ``names`` pulls in (from this venv's metadata)."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = _norm(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        for spec in requires(name) or []:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return seen


def _python312_bin() -> Path:
    """A real 3.12 bin dir holding python3.12 and pip3.12 (pyenv's, else the PATH's; not a shim)."""
    prefix = (
        subprocess.run(["pyenv", "prefix", "3.12"], capture_output=True, text=True) if shutil.which("pyenv") else None
    )
    if prefix is not None and prefix.returncode == 0:
        return Path(prefix.stdout.strip().splitlines()[0]) / "bin"
    found = shutil.which("pip3.12") and shutil.which("python3.12")
    if found and "shims" not in Path(found).parts:
        return Path(found).parent
    pytest.fail("vercel build needs python3.12 and pip3.12 (pyenv 3.12, or Debian's python3.12 with pip)")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """GIVEN the checkout as Vercel receives it, WHEN `vercel build` runs offline."""
    vercel = tool("vercel")
    project = copy_checkout(tmp_path_factory.mktemp("vercel-project"))
    (project / ".vercel").mkdir()
    # What `vercel link` writes; the ids are placeholders, nothing is sent anywhere.
    (project / ".vercel" / "project.json").write_text(
        json.dumps({"projectId": "prj_hfproxy_ci", "orgId": "team_hfproxy_ci", "settings": {"framework": None}})
    )
    python_bin = _python312_bin()
    env = {
        **os.environ,
        "PATH": f"{python_bin}{os.pathsep}{os.environ['PATH']}",
        "VERCEL_TELEMETRY_DISABLED": "1",
        # the builder's uv must use this interpreter, never download one (no network here)
        "UV_PYTHON": str(python_bin / "python3.12"),
        "UV_PYTHON_DOWNLOADS": "never",
    }
    result = subprocess.run(
        [str(vercel), "build", "--yes"], cwd=project, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return project / ".vercel" / "output"


def _vc_config(output: Path) -> dict:
    return json.loads((output / "functions" / "api" / "index.func" / ".vc-config.json").read_text())


def test_output_routes_api_to_one_python_function_and_serves_the_page(built):
    routes = json.loads((built / "config.json").read_text())["routes"]
    assert {"src": "^/api(?:/(.*))$", "dest": "/api/index", "check": True} in routes
    functions = [p.parent.relative_to(built / "functions") for p in (built / "functions").rglob(".vc-config.json")]
    assert functions == [Path("api/index.func")]
    assert (built / "static" / "index.html").read_bytes() == (ROOT / "public" / "index.html").read_bytes()
    assert (built / "static" / "app.js").exists()


def test_function_runtime_is_pinned_and_outlives_the_proxy_deadline(built):
    config = _vc_config(built)
    assert config["runtime"] == "python3.12"
    assert config["handler"] == "vc__handler__python.vc_handler"
    # the platform's limit must be above our own deadline, so the proxy's 504 answers first
    assert config["maxDuration"] > Settings().request_deadline + Settings().deadline_margin


def test_bundle_holds_the_core_and_runtime_dependencies_only(built):
    files = set(_vc_config(built)["filePathMap"])
    ours = {f for f in files if not f.startswith("_vendor/")}
    assert {"api/index.py", "shared/app.py", "shared/proxy_signature.py"} <= ours
    # the core and the entry only: no tests, tools, other adapters, docs or dotfiles
    assert {f for f in ours if f.split("/")[0] not in {"api", "shared"}} <= {"vercel.json"}, ours
    vendored = {_norm(f.split("/")[1].split("-")[0]) for f in files if f.startswith("_vendor/") and ".dist-info/" in f}
    runtime = tomllib.loads((ROOT / "api" / "pyproject.toml").read_text())["project"]["dependencies"]
    wanted = {_norm(Requirement(r).name) for r in runtime}
    assert wanted <= vendored
    assert vendored <= _closure(wanted) | VERCEL_SHIM, vendored - _closure(wanted) - VERCEL_SHIM
    assert not vendored & (TEST_TOOLS | AWS_ONLY)


def test_runtime_manifest_pins_match_requirements_txt():
    pins = {
        _norm(Requirement(line).name): str(Requirement(line).specifier)
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    project = tomllib.loads((ROOT / "api" / "pyproject.toml").read_text())["project"]
    assert project["requires-python"].startswith("==3.12")
    for dep in map(Requirement, project["dependencies"]):
        assert pins[_norm(dep.name)] == str(dep.specifier), dep


def _assemble(output: Path, dest: Path) -> Path:
    """Lay the function out as Vercel deploys it: every filePathMap entry at its bundle path."""
    func = output / "functions" / "api" / "index.func"
    project = output.parents[1]
    for bundle_path, source in _vc_config(output)["filePathMap"].items():
        (dest / bundle_path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(project / source, dest / bundle_path)
    shutil.copy2(func / "vc__handler__python.py", dest / "vc__handler__python.py")
    return dest


INVOKE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import vc__handler__python as handler
for event in json.load(sys.stdin):
    print(json.dumps(handler.vc_handler({"body": json.dumps(event)}, None)))
"""


def test_the_built_function_serves_requests_through_vercels_handler(built, tmp_path, upstream):
    # GIVEN the bundle alone (-I -S: no site-packages, only what Vercel would ship)
    bundle = _assemble(built, tmp_path / "bundle")
    events = [
        {"method": "GET", "path": "/api/health", "headers": {"host": "x.vercel.app"}},
        {
            "method": "POST",
            "path": "/api/generate",
            "headers": {"host": "x.vercel.app", "content-type": "application/json", "origin": "https://a.example"},
            "body": base64.b64encode(b'{"inputs": "Hi"}').decode(),
            "encoding": "base64",
        },
        {"method": "GET", "path": "/api/nowhere?x=1", "headers": {"host": "x.vercel.app"}},
    ]
    env = {"HF_TOKEN": TEST_TOKEN, "HF_INFERENCE_URL": upstream.url + MODEL_PATH, "PATH": os.environ["PATH"]}
    # WHEN Vercel's own shim (vc__handler__python.vc_handler) is invoked with Vercel-shaped events
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", INVOKE, str(bundle)],
        input=json.dumps(events),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    bodies = [json.loads(base64.b64decode(a["body"])) for a in answers]
    # THEN health, a real upstream call with the server's token, and the JSON 404 all come back
    assert [a["statusCode"] for a in answers] == [200, 200, 404]
    assert bodies[0]["mode"] == "live"
    assert bodies[1] == [{"generated_text": "Hi ... and the fake model continues."}]
    assert answers[1]["headers"]["Access-Control-Allow-Origin"] == ["*"]
    assert upstream.received[0].headers["authorization"] == f"Bearer {TEST_TOKEN}"
    assert bodies[2]["code"] == "not_found"


SERVE = """
import sys
sys.path.insert(0, sys.argv[1])
import vc__handler__python  # with VERCEL_IPC_PATH set, this serves HTTP and announces its port over IPC
"""
VERCEL_INTERNAL = {  # what Vercel's proxy adds to each request; the shim reads and strips them
    "x-vercel-internal-invocation-id": "inv-ci",
    "x-vercel-internal-request-id": "1",
    "x-vercel-internal-span-id": "span-ci",
    "x-vercel-internal-trace-id": "trace-ci",
}


def _announced_port(ipc: socket.socket) -> int:
    """Read the shim's NUL-separated JSON messages until it says which port it serves on."""
    buffered = b""
    while True:
        data = ipc.recv(65536)
        assert data, "the function exited before it announced its port"
        buffered += data
        *messages, buffered = buffered.split(b"\0")
        for message in map(json.loads, messages):
            if message["type"] == "server-started":
                return message["payload"]["httpPort"]


def test_the_built_function_streams_chat_through_vercels_own_server(built, tmp_path, upstream):
    # GIVEN the bundle alone, run the way Vercel's runtime runs it: the shim serves HTTP itself and
    # announces its port over the IPC socket the platform gives it (vc_init.py, VERCEL_IPC_PATH)
    bundle = _assemble(built, tmp_path / "bundle")
    reply = hf_chat.words_stream(["Drink", " water", " often."], gate_after=1)  # held after "Drink"
    upstream.enqueue(reply)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(tmp_path / "ipc.sock"))
    listener.listen(1)
    listener.settimeout(60)
    env = {
        "HF_TOKEN": TEST_TOKEN,
        "HF_CHAT_URL": upstream.url + hf_chat.CHAT_PATH,
        "VERCEL_IPC_PATH": str(tmp_path / "ipc.sock"),
        "PATH": os.environ["PATH"],
    }
    proc = subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", SERVE, str(bundle)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        ipc, _ = listener.accept()
        ipc.settimeout(60)
        port = _announced_port(ipc)
        # WHEN a browser's chat request with "stream": true reaches it
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        question = {"messages": [{"role": "user", "content": "Water?"}], "stream": True}
        conn.request("POST", "/api/chat", json.dumps(question), {"Content-Type": "application/json", **VERCEL_INTERNAL})
        resp = conn.getresponse()
        # THEN the event stream and the first token arrive while the model is still held at the gate
        assert resp.status == 200 and resp.getheader("Content-Type").startswith("text/event-stream")
        assert resp.getheader("X-Accel-Buffering") == "no"
        first = b""
        while b"\n\n" not in first:
            piece = resp.read1(65536)
            assert piece, "the stream ended before its first event"
            first += piece
        assert b'"Drink"' in first and not reply.finished.is_set()
        # AND once the model goes on, the rest follows and the stream ends with [DONE]
        hf_chat.gate_of(reply).set()
        rest = resp.read()
        assert b" often." in rest and rest.rstrip().endswith(b"data: [DONE]")
        assert upstream.received[0].headers["authorization"] == f"Bearer {TEST_TOKEN}"
        conn.close()
    finally:
        hf_chat.gate_of(reply).set()
        proc.kill()
        stderr = proc.communicate(timeout=10)[1].decode(errors="replace")
        listener.close()
    assert TEST_TOKEN not in stderr
