"""``POST /api/predict``: the Llama Space of seed 003, behind its documented contract.

The browser always sends ``{"inputs", "parameters"}`` and always gets ``{"generated_text"}``;
:mod:`shared.upstreams.gradio_space` speaks whichever protocol the Space does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from shared.routes.route import ModelSpec, Probe, Route, lazy
from shared.schemas.limits import Limits
from shared.settings import Settings
from shared.upstreams.plan import Plan

if TYPE_CHECKING:
    from shared.schemas.predict import PredictRequest


def plan(body: PredictRequest, settings: Settings) -> Plan:
    # the schema fills max_new_tokens in (the seed's default, capped): what is sent is what is charged
    params = body.parameters
    return Plan(body, params.model, len(body.inputs), params.tokens)


def health(s: Settings, ready: bool) -> dict:
    return {
        "configured": s.demo_mode or (ready and s.llama_space_url is not None),
        "host": urlsplit(s.llama_space_url).hostname if s.llama_space_url else None,
    }


def probes(s: Settings) -> dict[str, Probe]:
    if not s.llama_space_url:
        return {}
    from shared.upstreams.gradio_discovery import space_status

    return {"space": space_status}


def verdict(s: Settings, results: dict[str, dict]) -> dict:
    if not s.llama_space_url:
        return {"state": "not_served", "reason": "llama_space_url_not_set"}
    return {**results["space"], "host": urlsplit(s.llama_space_url).hostname}


ROUTE = Route(
    "predict",
    paths=("/api/predict",),
    body="shared.schemas.predict:PredictRequest",
    summary="The Llama Space",
    model=ModelSpec(
        limits=Limits.for_predict,
        plan=plan,
        live=lazy("shared.upstreams.huggingface:predict"),
        demo=lazy("shared.upstreams.demo:predict"),
        health=health,
        probes=probes,
        verdict=verdict,
        operation="text_completion",
    ),
)
