"""``GET /api/v1/models`` (and ``/api/models``): the chat allowlist in OpenAI's list shape, so
``client.models.list()`` shows what this server will run, aliases (``MODEL_ALIASES``) included
(https://platform.openai.com/docs/api-reference/models/list); ``GET /api/v1/models/{id}`` (ids hold
a slash) answers one model object, or an OpenAI-shaped 404 ``model_not_found``
(https://platform.openai.com/docs/api-reference/models/retrieve).
"""

from __future__ import annotations

from urllib.parse import unquote

from shared import errors
from shared.http import Request, Response
from shared.routes.route import Route
from shared.scope import Scope
from shared.settings import Settings


def handle(request: Request, scope: Scope) -> Response:
    s = scope.settings
    return Response.json(200, {"object": "list", "data": [_model(s, m) for m in s.allowed_models]})


def retrieve(request: Request, scope: Scope) -> Response:
    model = unquote(request.path.split("/models/", 1)[1])
    if model not in scope.settings.allowed_models:
        raise errors.model_not_found(model)
    return Response.json(200, _model(scope.settings, model))


def _model(s: Settings, model: str) -> dict:
    out = {"id": model, "object": "model", "created": 0, "owned_by": "huggingface"}
    if s.full_model(model) != model:
        out["root"] = s.full_model(model)  # an alias: the model it stands for
    return out


ROUTE = Route(
    "models", (), handle, "GET", ("/api/models", "/api/v1/models"), summary="The chat allowlist (OpenAI list)"
)
# ids contain a slash: a prefix route ("/api/v1/models/" serves "/api/v1/models/{id}")
ONE = Route("model", (), retrieve, "GET", ("/api/models/", "/api/v1/models/"), summary="One allowed model", prefix=True)
