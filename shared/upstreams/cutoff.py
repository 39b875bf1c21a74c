"""Shut an upstream socket down when its request's deadline passes: one watchdog thread per process.

A read timeout bounds each recv(), not the whole body: an upstream that trickles a byte every few
hundred ms kept a 1 s request reading for 40 s (tests/faults). ``shutdown()`` wakes the blocked
recv() with EOF, and urllib3 then drops the connection instead of pooling it.

A ``threading.Timer`` per call did this too, but starting a thread per request cost about an eighth
of a warm Lambda invocation on a fast upstream (``make bench``, README "Benchmarks"). Here arming is
a dict insert under a lock; the one daemon thread is woken only when a new deadline is earlier than
the one it already sleeps towards, which on a stream of requests with the same budget is almost
never (deadlines only grow). A frozen Lambda sandbox freezes this thread too; it wakes on thaw and
finds nothing armed, or a deadline still ahead.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_NEVER = float("inf")


class Watchdog:
    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._armed: dict[int, tuple[float, socket.socket]] = {}
        self._keys = itertools.count()
        self._wakes_at = _NEVER  # when the thread next looks (inf: it sleeps until notified)
        self._thread: threading.Thread | None = None

    @contextmanager
    def guard(self, expires_at: float, sock: socket.socket | None) -> Iterator[None]:
        """Within the block, ``sock`` is shut down once ``time.monotonic()`` passes ``expires_at``."""
        if sock is None:  # already read whole (tiny bodies) or not a socket: nothing left to bound
            yield
            return
        key = self._arm(expires_at, sock)
        try:
            yield
        finally:
            with self._cond:
                self._armed.pop(key, None)

    def _arm(self, expires_at: float, sock: socket.socket) -> int:
        with self._cond:
            key = next(self._keys)
            self._armed[key] = (expires_at, sock)
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
                for key, (expires_at, sock) in list(self._armed.items()):
                    if expires_at <= now:
                        del self._armed[key]
                        _shut(sock)
                self._wakes_at = min((at for at, _ in self._armed.values()), default=_NEVER)
                self._cond.wait(None if self._wakes_at == _NEVER else self._wakes_at - now)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed by its reader
        pass


watchdog = Watchdog()
