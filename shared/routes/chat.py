"""``POST /api/chat`` (also ``/api/chat/completions`` and ``/api/v1/chat/completions``): a current
chat model through the router's OpenAI-compatible API.

The OpenAI paths are what the OpenAI SDKs and huggingface_hub's InferenceClient post to for a
``base_url`` of ``.../api`` or ``.../api/v1``; they answer errors in OpenAI's shape. With
``"stream": true`` the answer is relayed as server-sent events while it is written, when the
adapter can stream. When it cannot (Lambda behind API Gateway: Python functions cannot stream,
aws-lambda-roadmap #39) the same event stream is collected and answered in one buffered
``text/event-stream`` body (every chunk, then ``data: [DONE]``) with
``X-HFProxy-Streaming: unavailable``: a streaming client's parser works unchanged and simply sees
every chunk at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from shared.routes.route import ModelSpec, Probe, Route, lazy
from shared.schemas.limits import Limits
from shared.settings import Settings
from shared.upstreams.plan import Plan

if TYPE_CHECKING:
    from shared.schemas.chat import ChatRequest


def plan(body: ChatRequest, settings: Settings) -> Plan:
    model = settings.full_model(body.model or settings.chat_default_model)
    payload = body.upstream_payload(model, stream=body.stream, default_max_tokens=settings.chat_max_tokens)
    tokens = payload["max_tokens"] * payload.get("n", 1)  # n is only ever 1 (schemas/chat.py)
    return Plan(body, model, sum(len(m.text) for m in body.messages), tokens, payload)


def health(s: Settings, ready: bool) -> dict:
    return {
        "configured": ready,
        "host": urlsplit(s.hf_chat_url).hostname,
        "models": list(s.chat_models),
        "default_model": s.chat_default_model,
    }


def probes(s: Settings) -> dict[str, Probe]:
    """Each allowed model, asked of the Hub: is it served live for chat (by the provider it pins)?"""
    from shared.upstreams import hub

    return {model: hub.probe(*hub.chat_target(model), task="conversational") for model in s.chat_models}


def verdict(s: Settings, results: dict[str, dict]) -> dict:
    return {**results[s.chat_default_model], "model": s.chat_default_model, "models": results}


ROUTE = Route(
    "chat",
    paths=("/api/chat",),
    openai_paths=("/api/chat/completions", "/api/v1/chat/completions"),
    body="shared.schemas.chat:ChatRequest",
    summary="Chat (OpenAI shape)",
    model=ModelSpec(
        limits=Limits.for_chat,
        plan=plan,
        live=lazy("shared.upstreams.huggingface:chat"),
        demo=lazy("shared.upstreams.demo:chat"),
        health=health,
        probes=probes,
        verdict=verdict,
    ),
)
