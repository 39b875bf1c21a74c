"""Counters in Redis (Upstash, Redis Cloud, ElastiCache, any Redis 6+): one script, one round trip.

A Lua script runs atomically on the server (https://redis.io/docs/latest/develop/programmability/eval-intro/),
so the check and the increments of all of a request's counters happen together; ``EXPIREAT``
ends each key with its window. redis-py sends it with EVALSHA and falls back to EVAL once
(``Script.__call__``). Every call is bounded by ``QUOTA_STORE_TIMEOUT_SECONDS`` (connect and
read), and a failure of any kind is :class:`StoreUnavailable`, never the URL (it may hold a
password).
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.deadline import Deadline
from shared.errors import ConfigError
from shared.limits.policy import Charge
from shared.limits.store import Outcome, StoreUnavailable, time_for_a_call

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
        # No retries: a store that does not answer within the timeout is down for this request.
        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry_on_timeout=False, retry=None
        )
        self._script = self._client.register_script(CHARGE_SCRIPT)
        self._timeout = timeout

    def charge(self, charges: Sequence[Charge], now: float, deadline: Deadline) -> Outcome:
        time_for_a_call(deadline, self._timeout)
        args: list[int] = []
        for c in charges:
            args += [c.amount, c.limit, c.resets_at]
        try:
            answer = self._script(keys=[c.key for c in charges], args=args)
        except self._errors as exc:
            raise StoreUnavailable(type(exc).__name__) from None
        refused = int(answer[0])
        return Outcome(refused - 1 if refused else None, tuple(int(v) for v in answer[1:]))
