"""``GET /api/openapi.json``: an OpenAPI 3.1 description of every route, generated, never written.

Paths, methods and error shapes come from the app's route table (the request's scope carries
it), request bodies from the routes' pydantic models (``model_json_schema``, JSON Schema 2020-12,
which OpenAPI 3.1 uses as is: https://spec.openapis.org/oas/v3.1.0#schema-object). Built on the
first request that asks for it and cached per table, so a cold start never pays for it.
"""

from __future__ import annotations

import functools
import json

from shared.http import Request, Response
from shared.routes.model import schema
from shared.routes.route import Route, RouteTable
from shared.scope import Scope

_ENVELOPE = {
    "type": "object",
    "required": ["error", "code"],
    "properties": {
        "error": {"type": "string"},
        "code": {"type": "string"},
        "details": {"type": "array", "items": {"type": "object"}},
    },
}
_OPENAI_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type", "code", "param"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "code": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}
_STATUSES = ("400", "401", "403", "404", "405", "413", "415", "429", "500", "502", "503", "504")


def _model_schema(dotted: str, components: dict) -> dict:
    name = dotted.partition(":")[2]
    body = schema(dotted).model_json_schema(ref_template="#/components/schemas/{model}")
    for key, sub in body.pop("$defs", {}).items():
        components[key] = sub
    components[name] = body
    return {"$ref": f"#/components/schemas/{name}"}


@functools.lru_cache(maxsize=4)
def document(table: RouteTable) -> bytes:
    components: dict = {"ErrorEnvelope": _ENVELOPE, "OpenAIError": _OPENAI_ERROR}
    paths: dict = {}
    for path, route in _paths(table):
        shape = "OpenAIError" if route.shape(path) == "openai" else "ErrorEnvelope"
        error_ref = {"$ref": f"#/components/schemas/{shape}"}
        ok: dict = {"application/json": {"schema": {}}}
        if route.model is not None:
            # each event's data: a JSON object (chunk, token, error) or the literal [DONE]
            ok["text/event-stream"] = {"schema": {"type": ["object", "string"]}}
        responses: dict = {"200": {"description": "The answer", "content": ok}}
        for status in _STATUSES:
            responses[status] = {"description": "An error", "content": {"application/json": {"schema": error_ref}}}
        operation: dict = {"summary": route.summary or path, "responses": responses}
        if route.prefix:  # "/api/v1/models/" serves "/api/v1/models/{id}"
            operation["parameters"] = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
            path = path + "{id}"
        if route.query:
            operation["parameters"] = [
                {"name": name, "in": "query", "required": False, "description": meaning, "schema": {"type": "string"}}
                for name, meaning in route.query
            ]
        if route.body is not None and route.method == "POST":
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _model_schema(route.body, components)}},
            }
        paths.setdefault(path, {})[route.method.lower()] = operation
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "hfproxy", "version": "1", "description": "See docs/openai-compatibility.md."},
        "paths": paths,
        "components": {"schemas": components},
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def _paths(table: RouteTable) -> list[tuple[str, Route]]:
    pairs = [(path, route) for route in table.routes for path in (*route.paths, *route.openai_paths)]
    return sorted(pairs, key=lambda pair: pair[0])


def handle(request: Request, scope: Scope) -> Response:
    assert scope.routes is not None, "the app routes every request by its table"
    return Response.raw_json(200, document(scope.routes))


ROUTE = Route("openapi", paths=("/api/openapi.json",), handler=handle, method="GET", summary="This description")
