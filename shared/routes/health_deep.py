"""``GET /api/health?deep=1``: is each route's model live right now? Asked of the Hub and the Space.

Per route a ``state``: ``live``, ``not_served`` (the configuration must change), ``gated`` (the
token's account may not use it, or must accept its licence), ``unknown`` (could not tell: the Hub
or the Space did not answer, or the URL is not one the Hub lists), or ``demo``. The checks run in
parallel within the request's deadline; the result is kept per warm process for
:data:`CACHE_SECONDS` (:data:`UNSURE_CACHE_SECONDS` when a route is ``unknown``). It reads
metadata only: no model runs, nothing is spent, so the spend limits neither count nor refuse it.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from shared import errors
from shared.deadline import Deadline
from shared.routes.context import Context
from shared.settings import Settings
from shared.telemetry import RequestRecord

if TYPE_CHECKING:
    from shared.upstreams.call import UpstreamCall

CACHE_SECONDS = 300.0  # five minutes: provider mappings change in days, not seconds
UNSURE_CACHE_SECONDS = 30.0  # an unanswered check is asked again sooner
ROUTER_HOST = "router.huggingface.co"
ROUTER_POLICIES = ("fastest", "cheapest", "preferred")
DEMO = {"state": "demo", "detail": "answered locally by the proxy (DEMO_MODE); no upstream is called"}

_cache: dict[tuple, tuple[float, float, dict]] = {}  # key -> (expires monotonic, checked_at epoch, routes)


def forget() -> None:
    """Drop the cached result (tests; a process that changed its settings)."""
    _cache.clear()


def report(ctx: Context) -> dict:
    s = ctx.settings
    if s.demo_mode:
        return {"cached": False, "routes": {"generate": DEMO, "chat": DEMO, "predict": DEMO}}
    key = _key(s)
    hit = _cache.get(key)
    now = time.monotonic()
    if hit is not None and hit[0] > now:
        return {"cached": True, "age_seconds": round(time.time() - hit[1], 1), "routes": hit[2]}
    routes = _check(ctx)
    unsure = any(route["state"] == "unknown" for route in routes.values())
    _cache[key] = (now + (UNSURE_CACHE_SECONDS if unsure else CACHE_SECONDS), time.time(), routes)
    return {"cached": False, "age_seconds": 0.0, "routes": routes}


def _key(s: Settings) -> tuple:
    return (
        s.hf_hub_url,
        s.hf_inference_url,
        s.chat_models,
        s.chat_default_model,
        s.llama_space_url,
        s.llama_space_protocol,
        s.llama_space_api_name,
        s.hf_token is not None,
        s.hf_token_secret_arn,
    )


def generate_target(url: str) -> tuple[str, str] | None:
    """(provider, model) of a router URL ``https://router.huggingface.co/{provider}/models/{id}``."""
    parts = urlsplit(url)
    segments = parts.path.strip("/").split("/")
    if parts.hostname != ROUTER_HOST or len(segments) < 4 or segments[1] != "models":
        return None
    return segments[0], "/".join(segments[2:])


def chat_target(model: str) -> tuple[str, str | None]:
    """(repository, pinned provider) of a chat model: ``model:groq`` pins a provider; the router's
    selection policies ``:fastest``, ``:cheapest``, ``:preferred`` pin none
    (https://huggingface.co/docs/inference-providers/en/index)."""
    repo, _, suffix = model.partition(":")
    return repo, (suffix if suffix and suffix not in ROUTER_POLICIES else None)


def _check(ctx: Context) -> dict:
    s = ctx.settings
    if not ctx.token_source.configured(s):
        return _all_unknown("hf_credentials_not_set")
    from shared.upstreams import hub
    from shared.upstreams.call import UpstreamCall

    try:
        token = ctx.read_token()
    except errors.ProxyError:  # HF_TOKEN_SECRET_ARN unreadable (logged by shared.credentials)
        return _all_unknown("hf_credentials_unreadable")
    ctx.record.upstream = "hub"
    deadline = Deadline(ctx.deadline.expires_at - 0.1)  # keep a moment to answer
    # Parallel metadata reads, counted in a record of their own (the request's says "hub").
    call = UpstreamCall(lambda: token, s, deadline, RequestRecord(ctx.record.request_id, "GET", "/api/health"))
    jobs: dict[str, Any] = {}
    # Not a `with` block: leaving it would wait for a straggler; each call is bounded by the deadline.
    pool = ThreadPoolExecutor(max_workers=len(s.chat_models) + 2, thread_name_prefix="hfproxy-health")
    try:
        target = generate_target(s.hf_inference_url)
        if target is not None:
            provider, model = target
            jobs["generate"] = pool.submit(hub.model_status, model, "text-generation", provider, call)
        for model in s.chat_models:
            repo, pinned = chat_target(model)
            jobs[f"chat:{model}"] = pool.submit(hub.model_status, repo, "conversational", pinned, call)
        if s.llama_space_url:
            jobs["predict"] = pool.submit(_space_status, call)
        wait(jobs.values(), timeout=max(0.0, deadline.remaining()))
        results = {name: _result(job) for name, job in jobs.items()}
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return _routes(s, target, results)


def _all_unknown(reason: str) -> dict:
    return {route: {"state": "unknown", "reason": reason} for route in ("generate", "chat", "predict")}


def _result(job: Any) -> dict:
    if not job.done():
        return {"state": "unknown", "reason": "deadline"}
    value = job.result()
    return value if isinstance(value, dict) else value.body()


def _routes(s: Settings, target: tuple[str, str] | None, results: dict) -> dict:
    if target is None:
        generate: dict = {
            "state": "unknown",
            "reason": "not_a_router_url",
            "host": urlsplit(s.hf_inference_url).hostname,
        }
    else:
        generate = {**results["generate"], "model": target[1], "provider": target[0]}
    models = {model: results[f"chat:{model}"] for model in s.chat_models}
    chat = {**models[s.chat_default_model], "model": s.chat_default_model, "models": models}
    if s.llama_space_url:
        predict = {**results["predict"], "host": urlsplit(s.llama_space_url).hostname}
    else:
        predict = {"state": "not_served", "reason": "llama_space_url_not_set"}
    return {"generate": generate, "chat": chat, "predict": predict}


def _space_status(upstream: UpstreamCall) -> dict:
    """Read the Space's ``/config`` (and ``/info``) as ``/api/predict`` would, without calling it."""
    from shared.upstreams import gradio_discovery as gd

    s = upstream.settings
    call = gd.SpaceCall(s.llama_space_url or "", upstream)
    try:
        api = gd.discover(call)
        if api.kind == "contract":
            return {"state": "unknown", "reason": "not_gradio", "protocol": "contract"}
        name = gd.endpoint_name(call, api)
        if s.llama_space_api_name:  # named by the operator: is it there?
            listed = gd.listed_names(call, api)
            if listed is not None and name not in listed:
                return {"state": "not_served", "reason": "space_api_name_unknown", "gradio": api.version}
    except errors.ProxyError as exc:
        return {"state": _SPACE_STATES.get(exc.code, "unknown"), "reason": exc.code}
    return {"state": "live", "gradio": api.version, "api_name": name}


_SPACE_STATES = {
    "upstream_auth_failed": "gated",  # a private Space that refuses the server's token
    "space_api_name_ambiguous": "not_served",
    "space_not_gradio": "not_served",
    "upstream_error": "not_served",  # a 4xx: no such Space at LLAMA_SPACE_URL
}
