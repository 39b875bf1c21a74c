"""Worker processes for the local server: one listening socket, several processes accepting on it.

One CPython process runs one thread of Python at a time, so a threaded server is held to about one
core however many connections it has. Forked after the socket is bound and before any thread
starts, each worker accepts on the same socket (the kernel hands each connection to one of them),
as gunicorn's pre-fork workers do (https://docs.gunicorn.org/en/stable/design.html). What a
process keeps to itself is then per worker: upstream connection pools, the JWKS cache and, with
``QUOTA_STORE=memory``, the spend counters. So with limits on, several workers need a shared store
(Redis or DynamoDB); with the memory store the server runs one process.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from shared.settings import Settings

MAX_DEFAULT = 4  # a laptop with 16 cores does not need 16 copies of a demo server


def default_count(settings: Settings) -> int:
    """As many workers as cores (at most :data:`MAX_DEFAULT`), or one when counts must stay in this
    process or the platform cannot fork."""
    if _counts_in_process(settings) or not hasattr(os, "fork"):  # Windows has no fork: one process
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT))


def refusal(settings: Settings, workers: int) -> str | None:
    """Why ``workers`` processes would be wrong for these settings, or None."""
    if workers > 1 and not hasattr(os, "fork"):
        return "--workers above 1 needs os.fork, which this platform does not have"
    if workers > 1 and _counts_in_process(settings):
        return (
            "--workers above 1 needs QUOTA_STORE=redis or dynamodb while spend limits are on: "
            "the memory store counts in one process only"
        )
    return None


def _counts_in_process(settings: Settings) -> bool:
    from shared.limits import enabled

    return enabled(settings) and settings.quota_store == "memory"


def serve(server: Any, workers: int, ready: Callable[[], None] = lambda: None) -> None:
    """Serve ``server`` (bound, not yet serving) in ``workers`` processes: this one and its children;
    ``ready`` runs here once they all exist (the banner a caller may wait for).

    A child stops when this process ends, however it ends (it watches its parent); SIGTERM here
    stops the children first."""
    parent, children = os.getpid(), []
    for _ in range(workers - 1):
        pid = os.fork()
        if pid == 0:  # the child: serve until the parent is gone
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
            try:
                server.serve_forever()
            finally:
                os._exit(0)
        children.append(pid)

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    ready()
    try:
        server.serve_forever()
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:  # re-parented once the parent has died
        time.sleep(0.5)
    os._exit(0)
