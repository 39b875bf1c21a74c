"""Two warm instances (separate processes, many threads each) race for one client's last tokens.

Each instance is ``tests/shared/limits/instances.py`` running the real Lambda handler with the
real event shape, against the fake upstream in this process. With a shared store exactly the
limit is admitted; with the memory store each process counts alone (why it is for `make serve`).
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
LIMIT, ASK = 100, 10  # CLIENT_DAILY_TOKENS, and max_new_tokens per call: 10 calls fit
HAMMER, OTHER = "203.0.113.7", "198.51.100.20"
PLAN = {"shape": "http_api_v2", "threads": 8, "max_new_tokens": ASK, "calls": {HAMMER: 24, OTHER: 2}}


def run_instances(count: int, env: dict[str, str], plan: dict = PLAN) -> list[dict[str, list[int]]]:
    """Start ``count`` instances, let each load the handler, then release them together."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.shared.limits.instances"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    try:
        for proc in procs:
            assert proc.stdin and proc.stdout
            proc.stdin.write(json.dumps(plan) + "\n")
            proc.stdin.flush()
            assert _line_starting(proc, "READY") is not None, "an instance did not start"
        for proc in procs:
            assert proc.stdin
            proc.stdin.write("GO\n")
            proc.stdin.flush()
        results = []
        for proc in procs:
            line = _line_starting(proc, "RESULT ")
            assert line is not None, "an instance ended without a result"
            results.append(json.loads(line.removeprefix("RESULT ")))
        return results
    finally:
        for proc in procs:
            proc.kill() if proc.poll() is None else None
            proc.wait(30)


def _line_starting(proc: subprocess.Popen, prefix: str) -> str | None:
    assert proc.stdout
    for line in proc.stdout:
        if line.startswith(prefix):
            return line.strip()
    return None


def function_env(upstream, **store: str) -> dict[str, str]:
    return {
        "HF_TOKEN": TEST_TOKEN,
        "HF_INFERENCE_URL": upstream.url + MODEL_PATH,
        "CLIENT_DAILY_TOKENS": str(LIMIT),
        "QUOTA_STORE_TIMEOUT_SECONDS": "5",  # a loaded CI machine is slow, not down
        "REQUEST_DEADLINE_SECONDS": "25",
        **store,
    }


def admitted(results: list[dict[str, list[int]]], address: str) -> int:
    statuses = [s for r in results for s in r[address]]
    assert set(statuses) <= {200, 429}, statuses
    return statuses.count(200)


@pytest.fixture(params=["redis", "dynamodb"])
def shared_store(request, upstream) -> dict[str, str]:
    """GIVEN a store every instance shares: a real redis-server, or DynamoDB behind moto's server."""
    if request.param == "redis":
        return function_env(upstream, QUOTA_STORE="redis", REDIS_URL=request.getfixturevalue("redis_url"))
    request.getfixturevalue("moto_server")
    return function_env(upstream, QUOTA_STORE="dynamodb", QUOTA_TABLE="hfproxy-quota-test")


def test_two_instances_admit_exactly_the_clients_limit_and_no_more(shared_store, upstream):
    # WHEN two instances, eight threads each, send 48 requests of 10 tokens for one client
    results = run_instances(2, shared_store)
    # THEN exactly 100 tokens' worth is admitted across both, and only those reached the upstream
    assert admitted(results, HAMMER) == LIMIT // ASK
    # AND another client, hammering nobody, was never refused
    assert admitted(results, OTHER) == 4
    assert len(upstream.received) == LIMIT // ASK + 4


def test_the_memory_store_counts_per_process_so_two_instances_admit_twice_the_limit(upstream):
    # GIVEN the default store (memory), as `make serve` runs it
    results = run_instances(2, function_env(upstream))
    # THEN each instance admitted the limit on its own: the reason a deploy needs a shared store
    assert [admitted([r], HAMMER) for r in results] == [LIMIT // ASK, LIMIT // ASK]


USED = 3  # tokens the fake model reports it generated for each request (TGI's details.generated_tokens)


def test_two_instances_settle_the_counters_to_exactly_what_the_model_generated(shared_store, upstream):
    # GIVEN a model that generates 3 of the 10 tokens each request reserves, and room for them all
    from tests.fakes.http_server import Reply

    default = upstream.default
    upstream.default = lambda req: Reply(json=[{"generated_text": "x", "details": {"generated_tokens": USED}}])
    env = {**shared_store, "CLIENT_DAILY_TOKENS": "100000", "DAILY_TOKEN_BUDGET": "100000"}
    try:
        # WHEN two instances race 52 requests, each reserving 10 and settling after its answer
        results = run_instances(2, env, {**PLAN, "details": True})
    finally:
        upstream.default = default
    assert admitted(results, HAMMER) == 48 and admitted(results, OTHER) == 4
    # THEN each counter ends at exactly the sum of what was generated, not of what was reserved
    assert stored_count(env, "client_tokens", HAMMER) == 48 * USED
    assert stored_count(env, "client_tokens", OTHER) == 4 * USED
    assert stored_count(env, "budget", HAMMER) == 52 * USED


def stored_count(env: dict[str, str], limit_name: str, address: str) -> int:
    import time

    from shared.limits.policy import charges_for
    from shared.settings import Settings

    settings = Settings.from_env(env)
    (charge,) = [c for c in charges_for(settings, address, 1, time.time()) if c.limit_name == limit_name]
    if settings.quota_store == "redis":
        import redis

        return int(redis.Redis.from_url(env["REDIS_URL"]).get(charge.key) or 0)
    import boto3

    item = boto3.client("dynamodb").get_item(TableName=env["QUOTA_TABLE"], Key={"pk": {"S": charge.key}})
    return int(item["Item"]["n"]["N"])
