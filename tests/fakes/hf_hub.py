"""A fake of the Hub's model-info API as the deep health check asks it.

``GET /api/models/{id}?expand[]=inferenceProviderMapping&expand[]=gated`` answers ``{"_id", "id",
"inferenceProviderMapping", "gated"}``: the mapping as a dict ``{provider: {providerId, status,
task}}`` (model info) or a list of ``{provider, providerId, status, task}``, both shapes huggingface.js
handles (``normalizeInferenceProviderMapping``); 401/403 for a repository the token may not see,
404 for a missing one.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from tests.fakes.http_server import Received, Reply

PREFIX = "/api/models/"


def served(task: str, *providers: str, status: str = "live") -> dict:
    """A mapping (dict shape) with each provider serving ``task``."""
    return {p: {"providerId": f"{p}-id", "status": status, "task": task} for p in providers}


def as_list(mapping: dict) -> list[dict]:
    """The same mapping in the list shape."""
    return [{"provider": name, **entry} for name, entry in mapping.items()]


def model_info(model: str, mapping: dict | list | None, gated: bool | str = False) -> Reply:
    body: dict = {"_id": "0" * 24, "id": model, "gated": gated}
    if mapping is not None:
        body["inferenceProviderMapping"] = mapping
    return Reply(json=body)


def hub(models: dict[str, Reply]) -> Callable[[Received], Reply]:
    """A responder: the model's Reply, 404 ``Repository not found`` for any other path."""

    def answer(req: Received) -> Reply:
        parts = urlsplit(req.path)
        if req.method == "GET" and parts.path.startswith(PREFIX):
            model = unquote(parts.path[len(PREFIX) :])
            if model in models:
                return models[model]
        return Reply(404, json={"error": "Repository not found"})

    return answer
