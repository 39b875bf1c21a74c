"""Counters in Redis (Upstash, Redis Cloud, ElastiCache, any Redis 6+): one script, one round trip.

A Lua script runs atomically on the server (https://redis.io/docs/latest/develop/programmability/eval-intro/),
so the check and the increments of all of a request's counters happen together; ``EXPIREAT``
ends each key with its window. redis-py sends it with EVALSHA and falls back to EVAL once
(``Script.__call__``). A failure of any kind is :class:`StoreUnavailable`, never the URL (it may
hold a password).

One time window per store call, whatever it takes: connecting (bounded by the connect timeout),
the handshake (HELLO, AUTH, SELECT), EVALSHA and its NOSCRIPT -> EVAL fallback are separate round
trips, and a per-socket timeout bounds each of them, not their sum (a Redis answering every call
in 0.9 s under a 1 s timeout once held a 2 s request for 5.6 s). So the connections this store
makes shut their socket down when the call's window ends, with the process's deadline watchdog
(:mod:`shared.upstreams.cutoff`), as the upstream transport does; the window is
``QUOTA_STORE_TIMEOUT_SECONDS`` from the call's start, never past the request's deadline. No
retries: redis-py 8 retries a failed connection three times by default
(https://github.com/redis/redis-py/blob/v8.1.0/redis/client.py, ``Redis.__init__``); ``retry=None``
with no ``retry_on_error`` gives a connection that tries once (``AbstractConnection.__init__``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any

from shared.deadline import Deadline
from shared.errors import ConfigError
from shared.limits.policy import Charge
from shared.limits.store import Outcome, StoreUnavailable, time_for_a_call
from shared.upstreams.cutoff import watchdog

# KEYS: the counters. ARGV: amount, limit, expire-at for each key, in order.
# Returns {refused index (0: none), count of each key...}.
CHARGE_SCRIPT = """
local n = #KEYS
local used = {}
for i = 1, n do
  used[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
end
for i = 1, n do
  if used[i] + tonumber(ARGV[3 * i - 2]) > tonumber(ARGV[3 * i - 1]) then
    return {i, unpack(used)}
  end
end
for i = 1, n do
  used[i] = redis.call('INCRBY', KEYS[i], ARGV[3 * i - 2])
  redis.call('EXPIREAT', KEYS[i], ARGV[3 * i])
end
return {0, unpack(used)}
"""
# KEYS: the counters. ARGV: the amount to take off each. A key that expired stays gone; none goes below 0.
GIVE_BACK_SCRIPT = """
for i = 1, #KEYS do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  local back = math.min(count, tonumber(ARGV[i]))
  if back > 0 then
    redis.call('DECRBY', KEYS[i], back)
  end
end
return 0
"""

_window: ContextVar[float | None] = ContextVar("hfproxy_store_window", default=None)


@contextmanager
def _within(deadline: Deadline, timeout: float) -> Iterator[None]:
    token = _window.set(min(time.monotonic() + timeout, deadline.expires_at))
    try:
        yield
    finally:
        _window.reset(token)


def _guarded(base: type) -> type:
    """A redis-py connection class whose socket is cut when the current call's window ends."""

    class Guarded(base):
        def _guard(self) -> Any:
            expires_at = _window.get()
            sock = getattr(self, "_sock", None)
            return nullcontext() if expires_at is None or sock is None else watchdog.guard(expires_at, sock)

        def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            with self._guard():
                return super().send_packed_command(command, check_health)

        def read_response(self, *args: Any, **kwargs: Any) -> Any:
            with self._guard():
                return super().read_response(*args, **kwargs)

    Guarded.__name__ = f"Guarded{base.__name__}"
    return Guarded


class RedisStore:
    kind = "redis"

    def __init__(self, url: str, timeout: float) -> None:
        if not url.startswith(("redis://", "rediss://")):
            raise ConfigError("Setting REDIS_URL must start with redis:// or rediss://.")
        try:
            import redis
        except ImportError:
            raise ConfigError("QUOTA_STORE=redis needs the redis package in the deployment.") from None
        self._errors = (redis.RedisError, OSError)
        base = redis.SSLConnection if url.startswith("rediss://") else redis.Connection
        self._client = redis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=None,
            connection_class=_guarded(base),
        )
        self._charge = self._client.register_script(CHARGE_SCRIPT)
        self._give_back = self._client.register_script(GIVE_BACK_SCRIPT)
        self._timeout = timeout

    def charge(self, charges: Sequence[Charge], now: float, deadline: Deadline) -> Outcome:
        args: list[int] = []
        for c in charges:
            args += [c.amount, c.limit, c.resets_at]
        answer = self._call(self._charge, [c.key for c in charges], args, deadline)
        refused = int(answer[0])
        return Outcome(refused - 1 if refused else None, tuple(int(v) for v in answer[1:]))

    def give_back(self, charges: Sequence[Charge], amounts: Sequence[int], deadline: Deadline) -> None:
        self._call(self._give_back, [c.key for c in charges], list(amounts), deadline)

    def _call(self, script: Any, keys: list[str], args: list[int], deadline: Deadline) -> Any:
        time_for_a_call(deadline, self._timeout)
        try:
            with _within(deadline, self._timeout):
                return script(keys=keys, args=args)
        except self._errors as exc:
            raise StoreUnavailable(type(exc).__name__) from None
