"""Measurements that need a fresh interpreter: ``python -m bench.probes <probe> <result.json> [args]``.

Cold probes time the import before anything else is imported (only ``sys`` and ``time``, which
every interpreter has loaded), so neither side gets modules the other paid for. Stdout is
/dev/null (the parent's choice): powertools' EMF line (metrics and the request record) is really written
each invocation, as in production, just not to a terminal.
"""

import sys
import time

SUBJECTS = {  # what a cold process imports, and the callable a request goes through
    "ours": ("functions.aws_lambda.handler", "lambda_handler"),
    "baseline": ("bench.baseline_flask", "lambda_handler"),
    "floor": ("bench.floor", "lambda_handler"),  # the required stack alone (bench/floor.py)
    "requests": ("requests", None),
}
HEAVY = ("boto3", "botocore", "aws_lambda_powertools.utilities.parameters", "pydantic", "requests", "redis")


class Context:
    """The attributes of the Lambda context that the adapter and powertools read (python-context docs)."""

    function_name = "hfproxy-bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:hfproxy-bench"
    log_group_name = "/aws/lambda/hfproxy-bench"
    log_stream_name = "bench"

    def __init__(self, request_id: str = "bench-0") -> None:
        self.aws_request_id = request_id
        self._deadline = time.monotonic() + 28

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def _loaded(prefixes=HEAVY) -> list[str]:
    return sorted(p for p in prefixes if p in sys.modules)


def cold_import(out: str, subject: str) -> None:
    module, _ = SUBJECTS[subject]
    started = time.perf_counter()
    __import__(module)
    elapsed = time.perf_counter() - started
    _write(out, {"seconds": elapsed, "loaded": _loaded()})


def cold_first(out: str, subject: str, event_file: str) -> None:
    """Import + the first request (what the first invocation of a new instance pays)."""
    import json  # both sides need it: requests imports it, and so does our core

    with open(event_file) as f:
        event = json.load(f)
    import os

    url, token = os.environ["HF_INFERENCE_URL"], os.environ["HF_TOKEN"]
    started = time.perf_counter()
    module, attr = SUBJECTS[subject]
    mod = __import__(module, fromlist=["_"])
    if attr is None:  # plain requests: what any Python caller pays for one upstream call
        resp = mod.post(url, json=json.loads(event["body"]), headers={"Authorization": f"Bearer {token}"})
        status, body = resp.status_code, resp.content
    else:
        result = getattr(mod, attr)(event, Context())
        status, body = result["statusCode"], result["body"].encode()
    elapsed = time.perf_counter() - started
    _write(out, {"seconds": elapsed, "status": status, "body": body.decode(), "loaded": _loaded()})


def warm(out: str, event_file: str, rounds: str) -> None:
    """Our handler and a direct pooled session, interleaved, in a process that loads nothing else."""
    import json
    import os

    import requests
    import urllib3

    from bench.common import UpstreamClient
    from bench.floor import lambda_handler as floor_handler
    from functions.aws_lambda.handler import lambda_handler

    with open(event_file) as f:
        event = json.load(f)
    url, token = os.environ["HF_INFERENCE_URL"], os.environ["HF_TOKEN"]
    upstream = UpstreamClient(url)
    session = requests.Session()
    payload = json.loads(event["body"])

    def ours(i: int) -> bytes:
        result = lambda_handler(event, Context(f"bench-{i}"))
        assert result["statusCode"] == 200, result
        return result["body"].encode()

    def direct(i: int) -> bytes:
        resp = session.post(url, json=payload, headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 200
        return resp.content

    def floor(i: int) -> bytes:  # the required stack with nothing of ours (bench/floor.py)
        result = floor_handler(event, Context(f"floor-{i}"))
        assert result["statusCode"] == 200, result
        return result["body"].encode()

    pool = urllib3.connection_from_url(url)
    bare_headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def bare(i: int) -> bytes:  # the least a Python caller can do: one pooled urllib3 request
        resp = pool.urlopen("POST", url, body=json.dumps(payload).encode(), headers=bare_headers)
        assert resp.status == 200
        return resp.data

    upstream.reset()
    for i in range(100):
        ours(i)
    connections = upstream.connections()
    same_answer = json.loads(ours(0)) == json.loads(direct(0)) == json.loads(bare(0)) == json.loads(floor(0))
    times: dict[str, list[float]] = {"ours": [], "direct": [], "bare": [], "floor": []}
    calls = (("ours", ours), ("direct", direct), ("bare", bare), ("floor", floor))
    for i in range(-50, int(rounds)):  # 50 rounds of warm-up, not recorded; the order flips each round
        for name, call in calls if i % 2 else calls[::-1]:
            started = time.perf_counter()
            call(i)
            elapsed = time.perf_counter() - started
            if i >= 0:
                times[name].append(elapsed)
    _write(out, {"times": times, "connections": connections, "same_answer": same_answer})


def baseline(out: str, event_file: str, rounds: str) -> None:
    """The Flask baseline alone (it opens a connection per request; the upstream's thread churn
    would slow whichever call came next, so it is not interleaved with ours)."""
    import json
    import os

    from bench.baseline_flask import lambda_handler
    from bench.common import UpstreamClient

    with open(event_file) as f:
        event = json.load(f)
    upstream = UpstreamClient(os.environ["HF_INFERENCE_URL"])

    def call(i: int) -> str:
        result = lambda_handler(event, Context(f"bench-{i}"))
        assert result["statusCode"] == 200, result
        return result["body"]

    upstream.reset()
    for i in range(100):
        call(i)
    connections = upstream.connections()
    times = []
    for i in range(-20, int(rounds)):
        started = time.perf_counter()
        answer = call(i)
        if i >= 0:
            times.append(time.perf_counter() - started)
    _write(out, {"times": times, "connections": connections, "answer": json.loads(answer)})


def memory(out: str, subject: str, event_file: str, requests_count: str) -> None:
    """RSS after request 100 and after the last one, and the process's peak (VmHWM)."""
    import json

    with open(event_file) as f:
        event = json.load(f)
    module, attr = SUBJECTS[subject]
    handler = getattr(__import__(module, fromlist=["_"]), attr)
    rss = {}
    for i in range(1, int(requests_count) + 1):
        result = handler(event, Context(f"bench-{i}"))
        assert result["statusCode"] == 200, result
        if i in (100, int(requests_count)):
            rss[i] = _status_kib("VmRSS")
    _write(out, {"rss_kib": rss, "peak_kib": _status_kib("VmHWM")})


def transport(out: str, rounds: str) -> None:
    """One upstream call, three ways, interleaved: our transport (as a route makes it, through
    ``UpstreamCall``), ``requests.Session().post``, and requests' ``HTTPAdapter.send`` alone."""
    import json
    import os

    import requests

    from shared.deadline import Deadline
    from shared.settings import Settings
    from shared.upstreams.call import UpstreamCall

    url, token = os.environ["HF_INFERENCE_URL"], os.environ["HF_TOKEN"]
    payload = {"inputs": "bench", "parameters": {"max_new_tokens": 5}}
    settings, auth = Settings.from_env(), {"Authorization": f"Bearer {token}"}
    session, adapter = requests.Session(), requests.adapters.HTTPAdapter()

    def ours() -> bytes:
        call = UpstreamCall(lambda: token, settings, Deadline.after(10))
        return call.request("POST", url, payload).body

    def session_post() -> bytes:
        return session.post(url, json=payload, headers=auth).content

    def adapter_send() -> bytes:
        prepared = requests.Request("POST", url, json=payload, headers=auth).prepare()
        return adapter.send(prepared, timeout=(5, 10)).content

    calls = {"ours": ours, "session_post": session_post, "adapter_send": adapter_send}
    times: dict[str, list[float]] = {name: [] for name in calls}
    same = len({json.dumps(json.loads(call())) for call in calls.values()}) == 1
    for i in range(-50, int(rounds)):
        for name, call in calls.items() if i % 2 else reversed(calls.items()):
            started = time.perf_counter()
            call()
            if i >= 0:
                times[name].append(time.perf_counter() - started)
    _write(out, {"times": times, "same_answer": same})


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def _write(out: str, result: dict) -> None:
    import json

    with open(out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    globals()[sys.argv[1].replace("-", "_")](*sys.argv[2:])
