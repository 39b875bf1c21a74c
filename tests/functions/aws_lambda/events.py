"""Load the real Lambda event shapes kept in tests/events/ and point them at a route.

The files come from `sam local generate-event` (and AWS docs for Function URLs); only method,
path, headers and body are changed here, the rest of each shape stays as AWS sends it.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

EVENTS = Path(__file__).resolve().parents[2] / "events"
SHAPES = {
    "http_api_v2": "http_api_v2_generate.json",
    "rest_api_v1": "rest_api_v1_generate.json",
    "function_url": "function_url_generate.json",
}


def load(
    shape: str,
    *,
    method: str = "POST",
    path: str = "/api/generate",
    body: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    base64_body: bool = False,
    source_ip: str | None = None,
) -> dict:
    """The shape with these parts changed; ``source_ip`` is the address API Gateway (or the
    Function URL) saw, where each shape keeps it in ``requestContext``."""
    event = copy.deepcopy(json.loads((EVENTS / SHAPES[shape]).read_text()))
    if source_ip is not None:
        where = event["requestContext"].get("http") or event["requestContext"]["identity"]
        where["sourceIp"] = source_ip
    raw = body.encode() if isinstance(body, str) else body
    if event.get("version") == "2.0":
        event["rawPath"] = path
        event["routeKey"] = "$default" if shape == "function_url" else f"{method} {path}"
        event["requestContext"]["http"]["method"] = method
        event["requestContext"]["http"]["path"] = path
        event["headers"] = {k.lower(): v for k, v in event.get("headers", {}).items() if k.lower() != "content-length"}
        event["headers"].update({k.lower(): v for k, v in (headers or {}).items()})
    else:
        event["path"] = path
        event["httpMethod"] = method
        event["requestContext"]["httpMethod"] = method
        event["headers"] = {**event.get("headers", {}), **(headers or {})}
        if event.get("multiValueHeaders"):
            event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    if raw is None:
        event["body"] = None
        event["isBase64Encoded"] = False
    elif base64_body:
        event["body"] = base64.b64encode(raw).decode()
        event["isBase64Encoded"] = True
    else:
        event["body"] = raw.decode("utf-8", "surrogateescape")
        event["isBase64Encoded"] = False
    return event
