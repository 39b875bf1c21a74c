"""``GET /api/health?deep=1``: is each model route's model live right now? Asked of the Hub and the Space.

Per model route (read from the route table) a ``state``: ``live``, ``not_served`` (the
configuration must change), ``gated`` (the token's account may not use it, or must accept its
licence), ``unknown`` (could not tell: the Hub or the Space did not answer, or the URL is not one
the Hub lists), or ``demo``. Each route declares its checks (``ModelSpec.probes``) and how their
results read (``ModelSpec.verdict``); they all run in parallel within the request's deadline, and
the result is kept per warm process for :data:`CACHE_SECONDS` (:data:`UNSURE_CACHE_SECONDS` when a
route is ``unknown``). It reads metadata only: no model runs, nothing is spent, so the spend
limits neither count nor refuse it.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from shared import errors
from shared.deadline import Deadline
from shared.routes.route import Route
from shared.scope import Scope
from shared.settings import Settings

CACHE_SECONDS = 300.0  # five minutes: provider mappings change in days, not seconds
UNSURE_CACHE_SECONDS = 30.0  # an unanswered check is asked again sooner
DEMO = {"state": "demo", "detail": "answered locally by the proxy (DEMO_MODE); no upstream is called"}

_cache: dict[tuple, tuple[float, float, dict]] = {}  # key -> (expires monotonic, checked_at epoch, routes)


def forget() -> None:
    """Drop the cached result (tests; a process that changed its settings)."""
    _cache.clear()


def report(scope: Scope) -> dict:
    assert scope.routes is not None, "the app routes every request by its table"
    s, routes = scope.settings, scope.routes.model_routes()
    if s.demo_mode:
        return {"cached": False, "routes": {route.name: DEMO for route in routes}}
    key = (s, tuple(route.name for route in routes))
    hit = _cache.get(key)
    now = time.monotonic()
    if hit is not None and hit[0] > now:
        return {"cached": True, "age_seconds": round(time.time() - hit[1], 1), "routes": hit[2]}
    states = _check(scope, routes)
    unsure = any(state.get("state") == "unknown" for state in states.values())
    _cache[key] = (now + (UNSURE_CACHE_SECONDS if unsure else CACHE_SECONDS), time.time(), states)
    return {"cached": False, "age_seconds": 0.0, "routes": states}


def _check(scope: Scope, routes: list[Route]) -> dict:
    s = scope.settings
    if not scope.token_source.configured(s):
        return _all_unknown(routes, "hf_credentials_not_set")
    from shared.upstreams.call import UpstreamCall

    try:
        token = scope.read_token()
    except errors.ProxyError:  # HF_TOKEN_SECRET_ARN unreadable (logged by shared.credentials)
        return _all_unknown(routes, "hf_credentials_unreadable")
    scope.call.answered("hub")
    deadline = Deadline(scope.deadline.expires_at - 0.1)  # keep a moment to answer
    # Parallel metadata reads, on a call of their own: the request's record says "hub" and no more.
    call = UpstreamCall(lambda: token, s, deadline)
    checks = {(route.name, name): probe for route in routes for name, probe in _probes(route, s).items()}
    # Not a `with` block: leaving it would wait for a straggler; each call is bounded by the deadline.
    pool = ThreadPoolExecutor(max_workers=max(1, len(checks)), thread_name_prefix="hfproxy-health")
    try:
        jobs = {key: pool.submit(probe, call) for key, probe in checks.items()}
        wait(jobs.values(), timeout=max(0.0, deadline.remaining()))
        results = {key: _result(job) for key, job in jobs.items()}
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return {route.name: _verdict(route, s, results) for route in routes}


def _probes(route: Route, s: Settings) -> dict:
    assert route.model is not None
    return route.model.probes(s)


def _verdict(route: Route, s: Settings, results: dict) -> dict:
    assert route.model is not None
    mine = {name: result for (owner, name), result in results.items() if owner == route.name}
    if route.model.verdict is None:
        return {"state": "unknown", "reason": "no_check"}
    return route.model.verdict(s, mine)


def _all_unknown(routes: list[Route], reason: str) -> dict:
    return {route.name: {"state": "unknown", "reason": reason} for route in routes}


def _result(job: Any) -> dict:
    if not job.done():
        return {"state": "unknown", "reason": "deadline"}
    return job.result()
