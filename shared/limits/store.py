"""What a store is (:class:`Store`), what it answers, and the in-process one (:class:`MemoryStore`).

Every store applies a request's charges all or nothing, atomically: when any counter would go
over its limit, none is added to, so two instances racing for the last unit never both get it,
and a refused request costs the client nothing. :meth:`Store.give_back` returns part of a charge
(settlement with what the model really produced, or a request that was never forwarded). Keys
expire on their own when their window ends. Every store call is bounded by
``QUOTA_STORE_TIMEOUT_SECONDS`` and by the time the request has left.

``memory`` counts in this process only (``make serve``; each warm serverless instance would
count alone). ``redis`` and ``dynamodb`` are shared by every instance
(:mod:`shared.limits.stores` builds the configured one).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from shared.deadline import Deadline
from shared.limits.policy import Charge


class StoreUnavailable(Exception):
    """The store could not be reached or answered an error in time (never carries a secret)."""


@dataclass(frozen=True)
class Outcome:
    refused: int | None  # index of the first charge that did not fit; None when all were added
    used: tuple[int, ...]  # each counter after the charges (when refused: as it stands, unchanged)


class Store(Protocol):
    kind: str

    def charge(self, charges: Sequence[Charge], now: float, deadline: Deadline) -> Outcome: ...

    def give_back(self, charges: Sequence[Charge], amounts: Sequence[int], deadline: Deadline) -> None:
        """Take ``amounts`` (>= 0) off the charges' counters, never below zero; raises StoreUnavailable."""
        ...


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

    def give_back(self, charges: Sequence[Charge], amounts: Sequence[int], deadline: Deadline) -> None:
        with self._lock:
            for charge, amount in zip(charges, amounts, strict=True):
                count, expires_at = self._counts.get(charge.key, (0, 0))
                if amount and count:
                    self._counts[charge.key] = (max(0, count - amount), expires_at)

    def _current(self, key: str, now: float) -> int:
        count, expires_at = self._counts.get(key, (0, 0))
        return count if expires_at > now else 0


def now() -> float:
    return time.time()
