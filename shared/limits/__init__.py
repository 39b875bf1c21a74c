"""Spend control for a public endpoint: per-client limits and a daily budget (issue 12).

The proxy keeps the token's text from the browser, not its power: anyone can call a public
endpoint (CORS is not authentication). :func:`admit` runs on every model route after the body
is valid and before the token is attached: it charges the request to its client's counters and
the global budget in the shared store (:mod:`shared.limits.store`), and refuses with

- 429 ``rate_limited``: more than ``RATE_LIMIT_PER_MINUTE`` requests this minute;
- 429 ``client_quota_exceeded``: more than ``CLIENT_DAILY_TOKENS`` tokens asked for today (UTC);
- 503 ``budget_exhausted``: all clients together past ``DAILY_TOKEN_BUDGET`` (not this client's fault);
- 503 ``quota_store_unavailable``: the store did not answer (fail closed) unless ``QUOTA_FAIL_OPEN``.

Each with ``Retry-After``; every counted answer carries the IETF ``RateLimit-Policy`` and
``RateLimit`` fields for the client's own limits (draft-ietf-httpapi-ratelimit-headers-10,
https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/). The global budget's
remaining count is never sent: it reflects other clients.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared import errors
from shared.deadline import Deadline

if TYPE_CHECKING:  # the policy and the stores are imported by the first counted request, not by
    # a proxy without limits (``shared.limits.identity`` is imported by every request: its package too)
    from shared.limits.policy import Charge
    from shared.limits.store import StoreUnavailable
    from shared.settings import Settings

log = logging.getLogger("hfproxy")


@dataclass(frozen=True)
class Admission:
    """What an admitted request was charged (to settle later) and the headers its answer carries."""

    charges: tuple[Charge, ...] = ()
    headers: dict[str, str] | None = None


_POLICY_NAMES = {"rate": "minute", "client_tokens": "day", "user_rate": "minute", "user_tokens": "day"}  # not budget


def enabled(settings: Settings) -> bool:
    limits = (settings.rate_limit_per_minute, settings.client_daily_tokens, settings.daily_token_budget)
    return any(v is not None for v in (*limits, settings.user_rate_limit_per_minute, settings.user_daily_tokens))


def admit(
    settings: Settings,
    client: str,
    tokens: int,
    deadline: Deadline,
    note: Callable[[str], None],
    at: float | None = None,
    also: Sequence[str] = (),
    user: bool = False,
) -> Admission:
    """Charge one request: what it was charged and the RateLimit headers for its answer, or a
    ProxyError that carries them.

    ``note`` is told which limit refused (or that the store was down), for the request's log.
    ``also`` names more identities charged the client's limits as well (a front proxy's
    signature, which a replay would reuse with any address), never advertised in the headers.
    ``user``: the client is a signed-in user, counted by the user limits (``USER_*``).
    """
    from shared.limits.policy import charges_for
    from shared.limits.store import StoreUnavailable, now
    from shared.limits.stores import store_for

    at = now() if at is None else at
    charges = charges_for(settings, client, tokens, at, also, user)
    if not charges:
        return Admission()
    try:
        outcome = store_for(settings).charge(charges, at, deadline)
    except StoreUnavailable as exc:
        return _store_down(settings, exc, note)
    headers = rate_limit_headers(charges, outcome.used, at)
    if outcome.refused is None:
        if deadline.remaining() < settings.quota_store_timeout:
            # The store answered, but so late that forwarding would be cut by the deadline and
            # blamed on the model: the store was too slow for this request. Nothing is kept.
            give_back(settings, charges, [c.amount for c in charges])
            return _store_down(settings, StoreUnavailable("slow"), note)
        return Admission(tuple(charges), headers)
    refused = charges[outcome.refused]
    note(refused.limit_name)
    headers["Retry-After"] = str(refused.retry_after(at))
    error = _REFUSALS[refused.limit_name](refused.limit)
    error.headers.update(headers)
    raise error


def _store_down(settings: Settings, exc: StoreUnavailable, note: Callable[[str], None]) -> Admission:
    note("store_unavailable")
    if settings.quota_fail_open:
        log.warning("quota store unavailable (%s); request forwarded uncounted (QUOTA_FAIL_OPEN)", exc)
        return Admission()
    log.warning("quota store unavailable (%s); request refused", exc)
    raise errors.quota_store_unavailable() from None


def give_back(settings: Settings, charges: Sequence[Charge], amounts: Sequence[int]) -> None:
    """Return part of an admitted request's charges (settlement, or a request never forwarded).

    Runs after the answer, in a window of its own (``QUOTA_STORE_TIMEOUT_SECONDS``); a store that
    fails here is logged, and the counters keep the reservation until their window ends.
    """
    if not any(amounts):
        return
    from shared.limits.store import StoreUnavailable
    from shared.limits.stores import store_for

    try:
        store_for(settings).give_back(charges, amounts, Deadline.after(2 * settings.quota_store_timeout))
    except StoreUnavailable as exc:
        log.warning("quota store unavailable (%s); %d tokens not given back", exc, sum(amounts))


_REFUSALS = {
    "rate": errors.rate_limited,
    "client_tokens": errors.client_quota_exceeded,
    "user_rate": errors.rate_limited,
    "user_tokens": errors.client_quota_exceeded,
    "vouched_rate": errors.rate_limited,
    "vouched_tokens": errors.client_quota_exceeded,
    "budget": errors.budget_exhausted,
}


def rate_limit_headers(charges: Sequence[Charge], used: Sequence[int], at: float) -> dict[str, str]:
    """``RateLimit-Policy: "minute";q=60;w=60`` and ``RateLimit: "minute";r=59;t=42`` (Structured
    Fields lists). Token policies say ``qu="tokens"``: the draft's registry names requests and
    bytes; an unknown unit tells a client this quota is not counted in requests."""
    policies, states = [], []
    for charge, count in zip(charges, used, strict=True):
        name = _POLICY_NAMES.get(charge.limit_name)
        if name is None:
            continue
        unit = ';qu="tokens"' if charge.limit_name.endswith("tokens") else ""
        policies.append(f'"{name}";q={charge.limit};w={charge.window}{unit}')
        states.append(f'"{name}";r={max(0, charge.limit - count)};t={max(0, int(charge.resets_at - at))}')
    if not policies:
        return {}
    return {"RateLimit-Policy": ", ".join(policies), "RateLimit": ", ".join(states)}
