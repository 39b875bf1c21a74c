"""Rebuild the Lambda event fixtures in this folder (and the user-facing copies in ../../events/).

Provenance, so a reviewer can tell what is AWS's shape and what is ours (see README.md here):
- HTTP API (payload 2.0) and REST API (payload 1.0): the output of the SAM CLI's own
  ``sam local generate-event apigateway http-api-proxy|aws-proxy`` (with ``--method``,
  ``--path``, ``--body``), unchanged except for the request headers this proxy reads.
- Function URL: SAM CLI 1.170 has no generator for it, so the base is the request payload
  example of the Lambda developer guide ("Request payload format",
  https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads), with
  ``authorizer`` set to null as the guide documents for auth type NONE.

Run: ``python tests/events/regenerate.py [path/to/sam]`` (default ``.venv-sam/bin/sam``).
"""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
USER_EVENTS = HERE.parent.parent / "events"

ORIGIN = "https://app.example.com"
GENERATE_BODY = '{"inputs":"What are common symptoms of dehydration?","parameters":{"max_new_tokens":20}}'
API_HOST = "id.execute-api.us-east-1.amazonaws.com"

# Function URL base: the Lambda developer guide's request payload example, verbatim except that
# authorizer is null (auth type NONE: "Otherwise, Lambda sets this to null").
FUNCTION_URL_DOC_EXAMPLE = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/my/path",
    "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
    "cookies": ["cookie1", "cookie2"],
    "headers": {"header1": "value1", "header2": "value1,value2"},
    "queryStringParameters": {"parameter1": "value1,value2", "parameter2": "value"},
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "<urlid>",
        "authentication": None,
        "authorizer": None,
        "domainName": "<url-id>.lambda-url.us-west-2.on.aws",
        "domainPrefix": "<url-id>",
        "http": {
            "method": "POST",
            "path": "/my/path",
            "protocol": "HTTP/1.1",
            "sourceIp": "123.123.123.123",
            "userAgent": "agent",
        },
        "requestId": "id",
        "routeKey": "$default",
        "stage": "$default",
        "time": "12/Mar/2020:19:03:58 +0000",
        "timeEpoch": 1583348638390,
    },
    "body": "Hello from client!",
    "pathParameters": None,
    "isBase64Encoded": False,
    "stageVariables": None,
}

# (name, method, path, body or None, extra headers)
REQUESTS = [
    ("generate", "POST", "/api/generate", GENERATE_BODY, {"content-type": "application/json"}),
    ("health", "GET", "/api/health", None, {}),
    (
        "preflight",
        "OPTIONS",
        "/api/generate",
        None,
        {"access-control-request-method": "POST", "access-control-request-headers": "content-type"},
    ),
]


def _sam(sam: str, kind: str, method: str, path: str, body: str | None) -> dict:
    command = [sam, "local", "generate-event", "apigateway", kind, "--method", method, "--path", path.lstrip("/")]
    command += ["--body", body or ""]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def _headers(body: str | None, extra: dict[str, str], host: str) -> dict[str, str]:
    """The headers a browser on ORIGIN sends, lower-cased as payload 2.0 delivers them."""
    headers = {
        "accept": "application/json",
        "host": host,
        "origin": ORIGIN,
        "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0",
        "x-forwarded-for": "203.0.113.7",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
        **extra,
    }
    if body is not None:
        headers["content-length"] = str(len(body.encode()))
    return headers


def _without_body(event: dict) -> dict:
    """GET and OPTIONS carry no body: the key is absent and isBase64Encoded is false."""
    event.pop("body", None)
    event["isBase64Encoded"] = False
    return event


def http_api_v2(sam: str, method: str, path: str, body: str | None, extra: dict) -> dict:
    event = _sam(sam, "http-api-proxy", method, path, body)
    event["requestContext"]["http"]["method"] = method  # the generator leaves it at POST
    event["headers"] = _headers(body, extra, event["requestContext"]["domainName"])
    return event if body is not None else _without_body(event)


def rest_api_v1(sam: str, method: str, path: str, body: str | None, extra: dict) -> dict:
    event = _sam(sam, "aws-proxy", method, path, body)
    event["requestContext"]["httpMethod"] = method
    # REST keeps the client's header casing; serverless-wsgi reads multiValueHeaders when present.
    added = {"Origin": ORIGIN, **{k.title(): v for k, v in extra.items()}}
    if body is not None:
        added["Content-Length"] = str(len(body.encode()))
    event["headers"].update(added)
    event["multiValueHeaders"].update({k: [v] for k, v in added.items()})
    return event if body is not None else _without_body(event)


def function_url(method: str, path: str, body: str | None, extra: dict) -> dict:
    event = copy.deepcopy(FUNCTION_URL_DOC_EXAMPLE)
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["headers"] = _headers(body, extra, event["requestContext"]["domainName"])
    if body is None:
        return _without_body(event)
    event["body"] = body  # JSON bodies arrive as text: application/json is not base64-encoded
    return event


def main(sam: str) -> None:
    USER_EVENTS.mkdir(exist_ok=True)
    for name, method, path, body, extra in REQUESTS:
        events = {
            f"http_api_v2_{name}.json": http_api_v2(sam, method, path, body, extra),
            f"rest_api_v1_{name}.json": rest_api_v1(sam, method, path, body, extra),
            f"function_url_{name}.json": function_url(method, path, body, extra),
        }
        for filename, event in events.items():
            text = json.dumps(event, indent=2) + "\n"
            (HERE / filename).write_text(text)
            if name != "preflight":
                (USER_EVENTS / filename).write_text(text)
    decoded = base64.b64decode(json.loads((HERE / "http_api_v2_generate.json").read_text())["body"]).decode()
    assert decoded == GENERATE_BODY, decoded


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".venv-sam/bin/sam")
