"""Offline demo answers (the "test mode" of seed 003): deterministic, clearly marked, no network.

Used when DEMO_MODE is on, or when ``make serve`` starts with no token. Deployed functions never
fall back to it silently: there, no token is the 500 ``server_misconfigured`` error.
"""

from __future__ import annotations

import hashlib

NAME = "demo"
MODE_HEADER = {"X-HFProxy-Mode": "demo"}

_CONTINUATIONS = (
    "and the rest of this sentence is demo text, not a model's answer.",
    "which is where a real model would carry on; this is demo mode.",
    "but no model was asked: the proxy is running in offline demo mode.",
)


def complete(prompt: str) -> str:
    """The same prompt always gets the same continuation, so tests and screenshots are stable."""
    index = hashlib.sha256(prompt.encode()).digest()[0] % len(_CONTINUATIONS)
    return f"[demo] {_CONTINUATIONS[index]}"
