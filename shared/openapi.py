"""``GET /api/openapi.json``: an OpenAPI 3.1 description of every route, generated, never written.

Paths, methods and error shapes come from the route table (:data:`shared.routes.ROUTES`), request
bodies from the routes' pydantic models (``model_json_schema``, JSON Schema 2020-12, which OpenAPI
3.1 uses as is: https://spec.openapis.org/oas/v3.1.0#schema-object). Built on the first request
that asks for it and cached, so a cold start never pays for it.
"""

from __future__ import annotations

import functools
import importlib
import json

from shared.http import Request, Response
from shared.routes.context import Context

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
    module, _, name = dotted.partition(":")
    model = getattr(importlib.import_module(module), name)
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for key, sub in schema.pop("$defs", {}).items():
        components[key] = sub
    components[name] = schema
    return {"$ref": f"#/components/schemas/{name}"}


@functools.lru_cache(maxsize=1)
def document() -> bytes:
    from shared.routes import ROUTES

    components: dict = {"ErrorEnvelope": _ENVELOPE, "OpenAIError": _OPENAI_ERROR}
    paths: dict = {}
    for path, route in ROUTES.items():
        error_ref = {"$ref": "#/components/schemas/" + ("OpenAIError" if route.errors == "openai" else "ErrorEnvelope")}
        ok: dict = {"application/json": {"schema": {}}}
        if route.body is not None:
            # each event's data: a JSON object (chunk, token, error) or the literal [DONE]
            ok["text/event-stream"] = {"schema": {"type": ["object", "string"]}}
        responses: dict = {"200": {"description": "The answer", "content": ok}}
        for status in _STATUSES:
            responses[status] = {"description": "An error", "content": {"application/json": {"schema": error_ref}}}
        operations: dict = {}
        for method in route.methods:
            operation: dict = {"summary": route.summary or path, "responses": responses}
            if route.query:
                operation["parameters"] = [
                    {
                        "name": name,
                        "in": "query",
                        "required": False,
                        "description": meaning,
                        "schema": {"type": "string"},
                    }
                    for name, meaning in route.query
                ]
            if route.body is not None and method == "POST":
                operation["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": _model_schema(route.body, components)}},
                }
            operations[method.lower()] = operation
        paths[path] = operations
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "hfproxy", "version": "1", "description": "See docs/openai-compatibility.md."},
        "paths": paths,
        "components": {"schemas": components},
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def handle(request: Request, ctx: Context) -> Response:
    return Response.raw_json(200, document())
