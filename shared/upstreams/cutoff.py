"""Shut an upstream socket down when its request's deadline passes: one watchdog thread per process.

A read timeout bounds each recv(), not the whole body: an upstream that trickles a byte every few
hundred ms kept a 1 s request reading for 40 s (tests/faults). ``shutdown()`` wakes the blocked
recv() with EOF, and urllib3 then drops the connection instead of pooling it.

A ``threading.Timer`` per call did this too, but starting a thread per request cost about an eighth
of a warm Lambda invocation on a fast upstream (``make bench``, docs/benchmarks.md). Here arming is
a dict insert under a lock; the one daemon thread is woken only when a new deadline is earlier than
the one it already sleeps towards, which on a stream of requests with the same budget is almost
never (deadlines only grow). A frozen Lambda sandbox freezes this thread too; it wakes on thaw and
finds nothing armed, or a deadline still ahead.

The header phase has no response object to cut yet: :func:`guarded_pool_classes` gives urllib3
pools whose connections arm the watchdog on their own socket around ``getresponse()``, for the
deadline :func:`deadline_scope` set for the current call.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any

Cut = Callable[[], None]  # what ends the blocked read: a socket shutdown

_NEVER = float("inf")


class Watchdog:
    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._armed: dict[int, tuple[float, Cut]] = {}
        self._keys = itertools.count()
        self._wakes_at = _NEVER  # when the thread next looks (inf: it sleeps until notified)
        self._thread: threading.Thread | None = None

    @contextmanager
    def guard(self, expires_at: float, target: socket.socket | Cut | None) -> Iterator[None]:
        """Within the block, ``target`` (a socket, or a function that shuts one) is cut once
        ``time.monotonic()`` passes ``expires_at``."""
        key = self.arm(expires_at, target)
        try:
            yield
        finally:
            self.disarm(key)

    def arm(self, expires_at: float, target: socket.socket | Cut | None) -> int | None:
        """Cut ``target`` at ``expires_at`` unless :meth:`disarm` comes first (for a stream that
        outlives one block). None: nothing to cut (a body already read whole)."""
        if target is None:
            return None
        cut: Cut = target if callable(target) else _shutter(target)
        with self._cond:
            key = next(self._keys)
            self._armed[key] = (expires_at, cut)
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="hfproxy-cutoff", daemon=True)
                self._thread.start()
            if expires_at < self._wakes_at:
                self._wakes_at = expires_at
                self._cond.notify()
        return key

    def _watch(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for key, (expires_at, cut) in list(self._armed.items()):
                    if expires_at <= now:
                        del self._armed[key]
                        _safely(cut)
                self._wakes_at = min((at for at, _ in self._armed.values()), default=_NEVER)
                self._cond.wait(None if self._wakes_at == _NEVER else self._wakes_at - now)

    def disarm(self, key: int | None) -> None:
        if key is not None:
            with self._cond:
                self._armed.pop(key, None)


def _shutter(sock: socket.socket) -> Cut:
    return lambda: sock.shutdown(socket.SHUT_RDWR)


def _safely(cut: Cut) -> None:
    try:
        cut()
    except (OSError, ValueError, RuntimeError):  # already closed, or released to the pool
        pass


watchdog = Watchdog()


_deadline: ContextVar[float | None] = ContextVar("hfproxy_upstream_deadline", default=None)


@contextmanager
def deadline_scope(expires_at: float) -> Iterator[None]:
    """Upstream connections opened or reused within the block are cut at ``expires_at`` while they
    wait for the status line and headers (an upstream may trickle them a byte at a time)."""
    token = _deadline.set(expires_at)
    try:
        yield
    finally:
        _deadline.reset(token)


@cache
def guarded_pool_classes() -> dict[str, type]:
    """urllib3 pool classes whose connections arm the watchdog around ``getresponse()``: the one
    place where the socket exists but no response does yet. A pool's ``ConnectionCls`` is
    urllib3's extension point for this
    (https://github.com/urllib3/urllib3/blob/2.8.0/src/urllib3/connectionpool.py)."""
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class HeaderGuard:
        sock: Any

        def getresponse(self, *args: Any, **kwargs: Any) -> Any:
            expires_at = _deadline.get()
            if expires_at is None or self.sock is None:
                return super().getresponse(*args, **kwargs)  # type: ignore[misc]
            with watchdog.guard(expires_at, self.sock):
                return super().getresponse(*args, **kwargs)  # type: ignore[misc]

    class GuardedHTTPConnection(HeaderGuard, HTTPConnection):
        pass

    class GuardedHTTPSConnection(HeaderGuard, HTTPSConnection):
        pass

    class GuardedHTTPPool(HTTPConnectionPool):
        ConnectionCls = GuardedHTTPConnection

    class GuardedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPSConnection

    return {"http": GuardedHTTPPool, "https": GuardedHTTPSPool}
