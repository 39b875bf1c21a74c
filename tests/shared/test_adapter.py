"""The adapter contract (shared/adapter.py): the environ keys an adapter may set, declared in one place."""

from __future__ import annotations

import re
from pathlib import Path

from werkzeug.test import Client

from shared import adapter
from shared.app import ProxyApp
from tests.conftest import client_for

ROOT = Path(__file__).resolve().parents[2]
KEY_LITERAL = re.compile(r"""["']hfproxy\.[a-z_]+["']""")


def test_provide_sets_only_what_the_platform_knows():
    """GIVEN an environ; WHEN an adapter provides a request id and can_stream; THEN only those keys are set."""
    environ: dict = {}
    adapter.provide(environ, request_id="abc", can_stream=False)
    assert environ == {adapter.REQUEST_ID_KEY: "abc", adapter.CAN_STREAM_KEY: False}
    assert adapter.request_id(environ) == "abc" and adapter.can_stream(environ) is False
    assert adapter.time_budget(environ) is None and adapter.client_ip(environ) is None


def test_absent_keys_mean_the_core_does_without():
    """GIVEN a bare environ; THEN streaming works and there is no id, budget or address."""
    assert adapter.can_stream({}) is True
    assert (adapter.request_id({}), adapter.time_budget({}), adapter.client_ip({})) == (None, None, None)


def test_the_core_answers_with_the_platform_request_id(settings):
    """GIVEN an adapter that provides the platform's request id; THEN X-Request-Id is that id."""
    resp = client_for(settings).get("/api/health", environ_overrides={adapter.REQUEST_ID_KEY: "platform-id-1"})
    assert resp.headers["X-Request-Id"] == "platform-id-1"


def test_a_spent_time_budget_ends_the_request_before_any_upstream_call(settings, upstream):
    """GIVEN an adapter that says no time is left; WHEN a model route is called; THEN 504, nothing sent."""
    client = Client(ProxyApp(settings))
    resp = client.post("/api/generate", json={"inputs": "Hi"}, environ_overrides={adapter.TIME_BUDGET_KEY: 0.0})
    assert resp.status_code == 504 and upstream.received == []


def test_every_environ_key_is_declared_in_the_contract_module():
    """GIVEN the core and the adapters; THEN no module but shared/adapter.py spells an ``hfproxy.`` key."""
    sources = [p for d in ("shared", "functions", "api") for p in (ROOT / d).rglob("*.py")]
    spelled = {str(p.relative_to(ROOT)) for p in sources if KEY_LITERAL.search(p.read_text())}
    assert spelled == {"shared/adapter.py"}
