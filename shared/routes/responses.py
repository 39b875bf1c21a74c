"""``POST /api/v1/responses`` (and ``/api/responses``): OpenAI's Responses API through the router's.

The default path of today's SDKs: the Vercel AI SDK 5+ (``openai(model)``), the OpenAI Agents
SDK, LangChain with ``use_responses_api=True``, ``litellm.responses``. Forwarded to
``HF_RESPONSES_URL`` (the router's ``/v1/responses``:
https://huggingface.co/docs/inference-providers/guides/responses-api) with the server's token, the
chat allowlist (and ``MODEL_ALIASES``), the client limits and the budget. ``stream: true`` relays
the router's events (``event:`` and ``data:`` lines, in order) with the chat stream's cut-off,
deadline and redaction; where the adapter cannot stream, the same events in one buffered body.
What is accepted, dropped or refused: :mod:`shared.schemas.responses`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from shared.routes import chat
from shared.routes.route import ModelSpec, Route, lazy
from shared.schemas.limits import Limits
from shared.settings import Settings
from shared.upstreams.plan import Plan

if TYPE_CHECKING:
    from shared.schemas.responses import ResponsesRequest


def plan(body: ResponsesRequest, settings: Settings) -> Plan:
    model = settings.full_model(body.model or settings.chat_default_model)
    payload = body.upstream_payload(model, settings.chat_max_tokens)
    return Plan(body, model, body.prompt_chars, payload["max_output_tokens"], payload)


def health(s: Settings, ready: bool) -> dict:
    return {"configured": ready, "host": urlsplit(s.hf_responses_url).hostname, "default_model": s.chat_default_model}


ROUTE = Route(
    "responses",
    paths=(),
    openai_paths=("/api/responses", "/api/v1/responses"),
    body="shared.schemas.responses:ResponsesRequest",
    summary="Responses (OpenAI's Responses API)",
    model=ModelSpec(
        limits=Limits.for_chat,
        plan=plan,
        live=lazy("shared.upstreams.huggingface:respond"),
        demo=lazy("shared.upstreams.demo:respond"),
        health=health,
        probes=chat.probes,  # the same models as chat: is each served live?
        verdict=chat.verdict,
    ),
)
