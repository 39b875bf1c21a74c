"""``GET /api/v1/models`` (and ``/api/models``): the chat allowlist in OpenAI's list shape, so
``client.models.list()`` shows what this server will run (https://platform.openai.com/docs/api-reference/models/list).
"""

from __future__ import annotations

from shared.http import Request, Response
from shared.routes.route import Route
from shared.scope import Scope


def handle(request: Request, scope: Scope) -> Response:
    models = [{"id": m, "object": "model", "created": 0, "owned_by": "huggingface"} for m in scope.settings.chat_models]
    return Response.json(200, {"object": "list", "data": models})


ROUTE = Route(
    "models",
    paths=(),
    openai_paths=("/api/models", "/api/v1/models"),
    handler=handle,
    method="GET",
    summary="The chat allowlist (OpenAI list)",
)
