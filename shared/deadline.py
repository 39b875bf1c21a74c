"""A per-request deadline so the proxy always answers before its platform kills it.

Adapters that know the platform's limit (Lambda's ``get_remaining_time_in_millis``) put the
seconds left in the WSGI environ (``hfproxy.time_budget``, :mod:`shared.adapter`); the core takes the smaller of
that (minus a safety margin) and its own ``REQUEST_DEADLINE_SECONDS``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Deadline:
    expires_at: float  # time.monotonic() value

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + max(0.0, seconds))

    @classmethod
    def for_request(cls, configured: float, platform_budget: float | None, margin: float) -> Deadline:
        budget = configured if platform_budget is None else min(configured, platform_budget - margin)
        return cls.after(budget)

    def remaining(self) -> float:
        return self.expires_at - time.monotonic()

    def expired(self) -> bool:
        return self.remaining() <= 0
