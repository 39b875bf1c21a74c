"""The store QUOTA_STORE names, made once per process (its connection pool is reused).

The client libraries are imported only when their store is configured, so a cold start without
a shared store is unchanged: redis-py for ``redis``, boto3 (the Lambda runtime's) for ``dynamodb``.
"""

from __future__ import annotations

import threading

from shared.errors import ConfigError
from shared.limits.store import MemoryStore, Store
from shared.settings import Settings

_stores: dict[tuple, Store] = {}
_lock = threading.Lock()


def store_for(settings: Settings) -> Store:
    """The process's store for these settings, made once (connection pools are reused)."""
    kind = settings.quota_store
    ident = (kind, settings.redis_url, settings.quota_table, settings.quota_store_timeout)
    store = _stores.get(ident)
    if store is None:
        with _lock:
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
