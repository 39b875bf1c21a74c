"""Which Inference Providers serve a model, as the Hub says: the deep health check's question.

``GET {HF_HUB_URL}/api/models/{id}?expand[]=inferenceProviderMapping`` is the call huggingface.js
makes to resolve a model's providers
(https://github.com/huggingface/huggingface.js/blob/main/packages/inference/src/lib/getInferenceProviderMapping.ts):
the answer's ``inferenceProviderMapping`` is ``{provider: {providerId, status: "live"|"staging",
task}}`` on model info, or a list of ``{provider, providerId, status, task}`` (huggingface.js
normalises both: ``normalizeInferenceProviderMapping``). ``expand[]=gated`` adds ``gated``: ``false``,
``"auto"`` or ``"manual"`` (``ExpandModelProperty_T`` in huggingface_hub's ``hf_api.py``). A
repository the token may not see answers 401/403, a missing one 404 (huggingface.js
``checkRepoAccess``: https://github.com/huggingface/huggingface.js/blob/main/packages/hub/src/lib/check-repo-access.ts).

Nothing the Hub says is passed on as text: only our own state and reason words, and provider
names that look like provider names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from shared import errors
from shared.upstreams.call import UpstreamCall

EXPAND = "expand[]=inferenceProviderMapping&expand[]=gated"
_PROVIDER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}$")
# Transport failures as reasons: our own words, never the exception's text.
_REASONS = {"upstream_timeout": "hub_timeout", "upstream_unreachable": "hub_unreachable"}
ROUTER_HOST = "router.huggingface.co"
ROUTER_POLICIES = ("fastest", "cheapest", "preferred")


@dataclass
class ModelStatus:
    state: str  # "live" | "not_served" | "gated" | "unknown"
    providers: list[str] = field(default_factory=list)  # live providers for the task
    reason: str | None = None  # why not live, in our words

    def body(self) -> dict:
        out: dict = {"state": self.state, "providers": self.providers}
        if self.reason:
            out["reason"] = self.reason
        return out


def model_status(model: str, task: str, provider: str | None, call: UpstreamCall) -> ModelStatus:
    """Whether ``model`` is served live for ``task`` (by ``provider`` when the URL names one)."""
    url = f"{call.settings.hf_hub_url}/api/models/{model}?{EXPAND}"
    try:
        resp = call.request("GET", url)
    except errors.ProxyError as exc:
        return ModelStatus("unknown", reason=_REASONS.get(exc.code, "hub_error"))
    if resp.status == 404:
        return ModelStatus("not_served", reason="model_not_found")
    if resp.status in (401, 403):
        return ModelStatus("gated", reason="access_denied")
    if resp.status == 429:
        return ModelStatus("unknown", reason="hub_rate_limited")
    if resp.status != 200:
        return ModelStatus("unknown", reason="hub_unavailable" if resp.status >= 500 else "hub_error")
    try:
        info = resp.json()
    except errors.ProxyError:
        return ModelStatus("unknown", reason="hub_bad_response")
    if not isinstance(info, dict):
        return ModelStatus("unknown", reason="hub_bad_response")
    live = sorted({e["provider"] for e in mapping_entries(info) if e["status"] == "live" and e["task"] == task})
    if provider is not None and provider not in live:
        return ModelStatus("not_served", live, reason=f"not_served_by_{provider}" if live else "no_live_provider")
    if not live:
        return ModelStatus("not_served", reason="no_live_provider")
    if info.get("gated") not in (None, False):
        return ModelStatus("gated", live, reason="licence_must_be_accepted")
    return ModelStatus("live", live)


def mapping_entries(info: dict) -> list[dict[str, Any]]:
    """``inferenceProviderMapping`` as a list of ``{provider, status, task}``, whatever its shape."""
    raw = info.get("inferenceProviderMapping")
    if isinstance(raw, dict):
        items = [{"provider": name, **value} for name, value in raw.items() if isinstance(value, dict)]
    elif isinstance(raw, list):
        items = [item for item in raw if isinstance(item, dict)]
    else:
        return []
    out = []
    for item in items:
        name = item.get("provider")
        if isinstance(name, str) and _PROVIDER_NAME.match(name):
            out.append({"provider": name, "status": item.get("status"), "task": item.get("task")})
    return out


def probe(model: str, provider: str | None, *, task: str) -> Callable[[UpstreamCall], dict]:
    """A deep-health check of ``model`` for ``task``: the route table's ``probes`` return these."""
    return lambda call: model_status(model, task, provider, call).body()


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
