"""Two ways into the proxy for the leak tests: the WSGI app (stdlib logging) and the Lambda
handler (powertools JSON on stdout), each answering (status, headers, body text)."""

from __future__ import annotations

import base64

from functions.aws_lambda import handler
from tests.conftest import client_for
from tests.fakes.lambda_context import LambdaContext
from tests.functions.aws_lambda import events


def via_wsgi(settings, body: str, path: str = "/api/generate") -> tuple[int, dict[str, str], str]:
    resp = client_for(settings).post(path, data=body, headers={"Content-Type": "application/json"})
    return resp.status_code, dict(resp.headers), resp.get_data(as_text=True)


def via_lambda(settings, body: str, path: str = "/api/generate") -> tuple[int, dict[str, str], str]:
    """The function's own settings come from the environment (the ``lambda_env`` fixture)."""
    event = events.load("http_api_v2", body=body, path=path, headers={"content-type": "application/json"})
    resp = handler.lambda_handler(event, LambdaContext())
    out = resp.get("body") or ""
    if resp.get("isBase64Encoded"):
        out = base64.b64decode(out).decode()
    return resp["statusCode"], resp.get("headers") or {}, out


ENTRIES = {"wsgi": via_wsgi, "lambda": via_lambda}
