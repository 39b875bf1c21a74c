"""The least the required stack can be, with nothing of ours in it: the floor under issue #27's
goals for the Lambda handler (at most 1.5 times a bare urllib3 request), for a cold start (import
and first request at most the Flask baseline's) and, with ``python -m bench.floor``, for a warm chat
through the local server (at most 0.5 ms over a direct call).

DEVELOPERS.md names the adapter's parts: serverless-wsgi (with werkzeug) between the event and
WSGI, powertools' Logger context on each invocation and one EMF metrics line, pydantic validating
the body, urllib3 forwarding it. This handler is those parts and nothing else: our generate route's
own request model (the same pydantic build and validation), one pooled urllib3 request with the
token, the upstream's answer returned as it came, one EMF line with the ``Requests`` metric (ours
also carries the request record as metadata). No routes, no
limits, no deadline, no redaction, no CORS, no error envelope. Whatever this costs, ours cannot cost less.

``python -m bench.floor`` serves :func:`forward` on the local server (``functions.local.server``, one
process) and prints its port: the server, and one pooled urllib3 request to ``HF_CHAT_URL`` per call.
"""

from __future__ import annotations

import json
import os
import sys

import serverless_wsgi
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths

logger = Logger(service="floor")
metrics = Metrics(namespace="floor", service="floor")
URL = os.environ.get("HF_INFERENCE_URL", "")
HEADERS = {"Authorization": f"Bearer {os.environ.get('HF_TOKEN', '')}", "Content-Type": "application/json"}
_pool: list = []


def app(environ: dict, start_response):
    import urllib3  # imported by the first request, as ours is

    from shared.schemas import validate
    from shared.schemas.generate import GenerateRequest
    from shared.schemas.limits import Limits

    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    request = validate(GenerateRequest, json.loads(body), Limits(max_tokens=250, max_prompt_chars=4000))
    if not _pool:
        _pool.append(urllib3.connection_from_url(URL))
    upstream = _pool[0].urlopen("POST", URL, body=json.dumps(request.upstream_payload(250)).encode(), headers=HEADERS)
    figures = {"Requests": {"Unit": "Count", "Value": [1.0]}}
    print(json.dumps(metrics.serialize_metric_set(metrics=figures, dimensions=metrics.dimension_set, metadata={})))
    return _answer(upstream.status, upstream.data, start_response)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict, context) -> dict:
    return serverless_wsgi.handle_request(app, event, context)


def _answer(status: int, answer: bytes, start_response) -> list[bytes]:
    start_response(f"{status} OK", [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))])
    return [answer]


def forward(environ: dict, start_response):
    """The local server's floor: the request body to ``HF_CHAT_URL`` with the token, the answer back."""
    import urllib3

    url = os.environ["HF_CHAT_URL"]
    if not _pool:
        _pool.append(urllib3.connection_from_url(url))
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    upstream = _pool[0].urlopen("POST", url, body=body, headers=HEADERS)
    return _answer(upstream.status, upstream.data, start_response)


if __name__ == "__main__":
    from functions.local.server import serve

    server = serve(forward, port=0)  # type: ignore[arg-type]  # any WSGI app; typed for ProxyApp
    print(server.server_port, flush=True)
    sys.stdout.close()
    server.serve_forever()
