"""``POST /api/generate``: text generation (gpt2 by default) through Hugging Face's inference API.

``"stream": true`` relays TGI's token events where the adapter can stream; elsewhere (Lambda) the
same events are answered in one buffered ``text/event-stream`` body with
``X-HFProxy-Streaming: unavailable``, like ``/api/chat``. A model that is not served is answered
by ``GENERATE_FALLBACK_MODEL`` (:mod:`shared.upstreams.huggingface`); ``X-HFProxy-Model`` says
which model answered, on errors too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from shared.routes.route import ModelSpec, Probe, Route, lazy
from shared.schemas.limits import Limits
from shared.settings import Settings
from shared.upstreams.plan import Plan

if TYPE_CHECKING:
    from shared.schemas.generate import GenerateRequest


def plan(body: GenerateRequest, settings: Settings) -> Plan:
    from shared.upstreams.huggingface import configured_model

    model = configured_model(settings.hf_inference_url)
    payload = body.upstream_payload(settings.max_new_tokens)
    return Plan(body, model, len(body.text), requested_tokens(payload), payload, announce=True)


def requested_tokens(payload: dict) -> int:
    """What the request may generate, from what is sent: max_new_tokens × num_return_sequences
    (a sequence count is charged only because it is forwarded)."""
    parameters = payload["parameters"]
    return parameters["max_new_tokens"] * parameters.get("num_return_sequences", 1)


def health(s: Settings, ready: bool) -> dict:
    return {"configured": ready, "host": urlsplit(s.hf_inference_url).hostname}


def probes(s: Settings) -> dict[str, Probe]:
    """A router URL names its provider and model: ask the Hub whether that provider serves it live."""
    from shared.upstreams import hub

    target = hub.generate_target(s.hf_inference_url)
    if target is None:
        return {}
    provider, model = target
    return {"model": hub.probe(model, provider, task="text-generation")}


def verdict(s: Settings, results: dict[str, dict]) -> dict:
    from shared.upstreams import hub

    target = hub.generate_target(s.hf_inference_url)
    if target is None:
        return {"state": "unknown", "reason": "not_a_router_url", "host": urlsplit(s.hf_inference_url).hostname}
    return {**results["model"], "model": target[1], "provider": target[0]}


ROUTE = Route(
    "generate",
    paths=("/api/generate",),
    body="shared.schemas.generate:GenerateRequest",
    summary="Text generation",
    model=ModelSpec(
        limits=Limits.for_generate,
        plan=plan,
        live=lazy("shared.upstreams.huggingface:generate"),
        demo=lazy("shared.upstreams.demo:generate"),
        health=health,
        probes=probes,
        verdict=verdict,
        operation="text_completion",
    ),
)
