"""A store that is gone or frozen: refused in time (fail closed) or forwarded uncounted (fail open).

Real parts only: a redis-server of this test's own that is stopped or frozen with SIGSTOP (it
accepts connections and never answers), and moto's own HTTP server shut down mid-test.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from shared.deadline import Deadline
from shared.limits.policy import charges_for
from shared.limits.store import StoreUnavailable
from shared.limits.stores import store_for
from shared.settings import Settings
from tests.conftest import client_for, post_json
from tests.fakes.http_server import served
from tests.fakes.redis_server import RedisServer

GENERATE = {"inputs": "Hello", "parameters": {"max_new_tokens": 10}}
TIMEOUT = 1.0  # QUOTA_STORE_TIMEOUT_SECONDS for these tests (the default)
SLACK = 1.0  # the documented bound: the deadline plus one second


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """GIVEN a redis-server this test may stop or freeze."""
    yield from served(RedisServer())


def limited(settings: Settings, **store) -> Settings:
    return settings.with_changes(client_daily_tokens=100, quota_store_timeout=TIMEOUT, **store)


def generate(client):
    started = time.monotonic()
    answer = post_json(client, "/api/generate", GENERATE, environ_base={"REMOTE_ADDR": "203.0.113.7"})
    return answer, time.monotonic() - started


def counted_client(settings: Settings):
    """A client whose first request went through, counted in the store while it answered."""
    client = client_for(settings)
    assert generate(client)[0].status_code == 200
    return client


def assert_refused_in_time(answer, elapsed: float, settings: Settings, upstream) -> None:
    assert answer.status_code == 503, answer.get_data(as_text=True)
    assert answer.get_json()["code"] == "quota_store_unavailable"
    assert int(answer.headers["Retry-After"]) > 0
    assert upstream.received == []  # fail closed: the token never went out uncounted
    assert elapsed < settings.request_deadline + SLACK


@contextmanager
def stopped(server: RedisServer) -> Iterator[None]:
    """The Redis process is stopped."""
    server.stop()
    yield


@contextmanager
def frozen(server: RedisServer) -> Iterator[None]:
    """SIGSTOP: the Redis accepts connections but never answers."""
    server.pause()
    try:
        yield
    finally:
        server.resume()


@pytest.mark.parametrize("fault", [stopped, frozen], ids=["stopped", "frozen"])
def test_a_redis_stopped_or_frozen_mid_test_fails_closed_within_the_deadline(settings, upstream, own_redis, fault):
    # GIVEN limits counted in a Redis that answers
    limited_settings = limited(settings, quota_store="redis", redis_url=own_redis.url)
    client = counted_client(limited_settings)
    # WHEN the Redis is stopped, or frozen (the store's wait must be bounded, not the client's patience)
    with fault(own_redis):
        upstream.reset()
        answer, elapsed = generate(client)
    # THEN the request is refused in time with the documented 503, and nothing was forwarded
    assert_refused_in_time(answer, elapsed, limited_settings, upstream)


def test_fail_open_forwards_uncounted_when_redis_is_gone(settings, upstream, own_redis):
    # GIVEN QUOTA_FAIL_OPEN=true and a Redis that was stopped
    limited_settings = limited(settings, quota_store="redis", redis_url=own_redis.url, quota_fail_open=True)
    own_redis.stop()
    # WHEN a request comes
    answer, elapsed = generate(client_for(limited_settings))
    # THEN it is forwarded (the owner chose availability), without limit fields it cannot know
    assert answer.status_code == 200 and len(upstream.received) == 1
    assert "RateLimit" not in answer.headers
    assert elapsed < limited_settings.request_deadline + SLACK


def test_dynamodb_gone_mid_test_fails_closed_and_fail_open_forwards(settings, upstream, moto_server):
    # GIVEN limits counted in DynamoDB behind moto's HTTP server
    closed = limited(settings, quota_store="dynamodb", quota_table="hfproxy-quota-test")
    client = counted_client(closed)
    # WHEN the server goes away
    moto_server.stop()
    upstream.reset()
    answer, elapsed = generate(client)
    # THEN fail closed refuses in time; fail open forwards
    assert_refused_in_time(answer, elapsed, closed, upstream)
    opened, _ = generate(client_for(closed.with_changes(quota_fail_open=True)))
    assert opened.status_code == 200 and len(upstream.received) == 1


def test_no_store_call_starts_when_the_deadline_is_nearer_than_the_store_timeout(own_redis):
    # GIVEN a store that would stall (frozen), and a request with less time left than the timeout
    settings = Settings(client_daily_tokens=100, quota_store="redis", redis_url=own_redis.url, quota_store_timeout=5)
    own_redis.pause()
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            store_for(settings).charge(charges_for(settings, "a", 1, time.time()), time.time(), Deadline.after(1))
        elapsed = time.monotonic() - started
    finally:
        own_redis.resume()
    # THEN it is unavailable at once instead of waiting out the timeout past the deadline
    assert elapsed < 1


def test_a_store_timeout_longer_than_half_the_deadline_is_a_configuration_error():
    from shared.errors import ConfigError

    env = {"QUOTA_STORE": "redis", "REDIS_URL": "redis://127.0.0.1:1/0", "REQUEST_DEADLINE_SECONDS": "2"}
    with pytest.raises(ConfigError, match="QUOTA_STORE_TIMEOUT_SECONDS"):
        Settings.from_env({**env, "QUOTA_STORE_TIMEOUT_SECONDS": "1.5"})
    assert Settings.from_env({**env, "QUOTA_STORE_TIMEOUT_SECONDS": "1"}).quota_store_timeout == 1


# --- a store that answers, but slowly (issue 28, failure 3) -------------------------------------------


@pytest.mark.parametrize(("delay", "deadline"), [(0.9, 2.0), (3.0, 10.0)])
def test_a_slow_redis_is_a_503_within_the_deadline_and_charges_nothing(
    settings, upstream, redis_server, delay, deadline
):
    # GIVEN Redis behind a proxy that holds each of its replies (0.9 s: under the 1 s per-call timeout)
    from tests.fakes.slow_proxy import SlowProxy

    redis_server.flush()
    proxy = SlowProxy(redis_server.port, delay).start()
    slow = limited(
        settings.with_changes(request_deadline=deadline),
        quota_store="redis",
        redis_url=f"redis://127.0.0.1:{proxy.port}/0",
    )
    try:
        # WHEN a request comes
        answer, elapsed = generate(client_for(slow))
    finally:
        proxy.stop()
    # THEN the store is blamed (503 quota_store_unavailable), in time, and nothing went upstream
    assert_refused_in_time(answer, elapsed, slow, upstream)
    assert elapsed < TIMEOUT + SLACK  # one window for every round trip, not one per round trip
    # AND the client was charged nothing (read from the real Redis, behind the proxy)
    import redis

    assert [
        int(redis.Redis(port=redis_server.port).get(key) or 0) for key in redis.Redis(port=redis_server.port).keys()
    ] in ([], [0])


def test_a_store_that_answers_too_late_to_forward_gives_the_charge_back():
    # GIVEN a store that answered, but with less than the store timeout left before the deadline
    # (here the in-process store, which needs no time, and a request with 0.5 s of 1 s left)
    from shared import errors
    from shared.limits import admit
    from shared.limits.stores import store_for

    settings = Settings(client_daily_tokens=100, quota_store_timeout=TIMEOUT)
    notes: list[str] = []
    # WHEN it is admitted
    with pytest.raises(errors.ProxyError) as refused:
        admit(settings, "203.0.113.9", 40, Deadline.after(0.5), notes.append)
    # THEN the store is blamed (never a 504 for the model), and the charge was given back
    assert refused.value.code == "quota_store_unavailable" and notes == ["store_unavailable"]
    probe = charges_for(settings, "203.0.113.9", 0, time.time())
    assert store_for(settings).charge(probe, time.time(), Deadline.after(10)).used == (0,)
