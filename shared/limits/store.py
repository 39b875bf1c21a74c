"""Where the counts live: one interface, three stores, chosen once per process by QUOTA_STORE.

Every store applies a request's charges all or nothing, atomically: when any counter would go
over its limit, none is added to, so two instances racing for the last unit never both get it,
and a refused request costs the client nothing. Keys expire on their own when their window ends.

``memory`` counts in this process only (``make serve``; each warm serverless instance would
count alone). ``redis`` and ``dynamodb`` are shared by every instance; their client libraries
are imported only when configured, so cold start without a store is unchanged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from shared.deadline import Deadline
from shared.errors import ConfigError
from shared.limits.policy import Charge
from shared.settings import Settings


class StoreUnavailable(Exception):
    """The store could not be reached or answered an error in time (never carries a secret)."""


@dataclass(frozen=True)
class Outcome:
    refused: int | None  # index of the first charge that did not fit; None when all were added
    used: tuple[int, ...]  # each counter after the charges (when refused: as it stands, unchanged)


class Store(Protocol):
    kind: str

    def charge(self, charges: Sequence[Charge], now: float, deadline: Deadline) -> Outcome: ...


def time_for_a_call(deadline: Deadline, timeout: float) -> None:
    """A store call starts only when it can time out before the request's deadline does."""
    if deadline.remaining() < timeout:
        raise StoreUnavailable("no time left before the request's deadline")


class MemoryStore:
    """Per process, under one lock. Expired windows are dropped as new ones start."""

    kind = "memory"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, int]] = {}  # key -> (count, expires_at)
        self._next_sweep = 0.0

    def charge(self, charges: Sequence[Charge], now: float, deadline: Deadline) -> Outcome:
        with self._lock:
            if now >= self._next_sweep:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
                self._next_sweep = now + 60
            used = [self._current(c.key, now) for c in charges]
            for i, charge in enumerate(charges):
                if used[i] + charge.amount > charge.limit:
                    return Outcome(i, tuple(used))
            for i, charge in enumerate(charges):
                used[i] += charge.amount
                self._counts[charge.key] = (used[i], charge.resets_at)
            return Outcome(None, tuple(used))

    def _current(self, key: str, now: float) -> int:
        count, expires_at = self._counts.get(key, (0, 0))
        return count if expires_at > now else 0


_stores: dict[tuple, Store] = {}
_stores_lock = threading.Lock()


def store_for(settings: Settings) -> Store:
    """The process's store for these settings, made once (connection pools are reused)."""
    kind = settings.quota_store
    ident = (kind, settings.redis_url, settings.quota_table, settings.quota_store_timeout)
    store = _stores.get(ident)
    if store is None:
        with _stores_lock:
            store = _stores.get(ident) or _make(settings)
            _stores[ident] = store
    return store


def _make(settings: Settings) -> Store:
    timeout = settings.quota_store_timeout
    if settings.quota_store == "redis":
        if not settings.redis_url:
            raise ConfigError("Setting REDIS_URL is required when QUOTA_STORE is redis.")
        from shared.limits.redis_store import RedisStore

        return RedisStore(settings.redis_url, timeout)
    if settings.quota_store == "dynamodb":
        if not settings.quota_table:
            raise ConfigError("Setting QUOTA_TABLE is required when QUOTA_STORE is dynamodb.")
        from shared.limits.dynamodb_store import DynamoDBStore

        return DynamoDBStore(settings.quota_table, timeout)
    return MemoryStore()


def now() -> float:
    return time.time()
