"""The streaming Lambda function: the core behind a Function URL with ``InvokeMode: RESPONSE_STREAM``.

Python Lambda functions cannot stream a response themselves (aws-lambda-roadmap #39), but the AWS
Lambda Web Adapter can: a layer whose ``/opt/bootstrap`` wrapper (``AWS_LAMBDA_EXEC_WRAPPER``)
starts the function's handler as a command (``run.sh`` -> ``python -m functions.aws_lambda.stream``),
waits until an HTTP server answers on ``PORT`` at ``AWS_LWA_READINESS_CHECK_PATH``, then turns each
invocation into an HTTP request to it and streams what it writes back through the Function URL
(``AWS_LWA_INVOKE_MODE=response_stream``: https://github.com/aws/aws-lambda-web-adapter, README,
"Configurations"). The server is the project's own (:mod:`functions.local.server`): standard
library only (nothing added to the bundle), strict framing, and chunked streams that leave one
event per write (docs/benchmarks.md has the comparison that chose it).

What only this platform knows comes from the two headers the adapter adds to every request
(README, "Lambda Context"): ``x-amzn-request-context`` (the Function URL event's ``requestContext``:
``http.sourceIp`` is the client's address, ``requestId``) and ``x-amzn-lambda-context`` (the
invocation's ``request_id`` and ``deadline``, epoch milliseconds). From adapter 1.0 on, a
client-written copy of either is removed before the request reaches the app (the adapter's
CHANGELOG for 1.0.0, #286), which is why template.yaml pins a 1.0+ layer and why this is the one
place these headers are trusted (docs/security.md).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any

from functions.aws_lambda.secret import SECRETS_MANAGER
from shared import adapter
from shared.app import ProxyApp

REQUEST_CONTEXT = "HTTP_X_AMZN_REQUEST_CONTEXT"
LAMBDA_CONTEXT = "HTTP_X_AMZN_LAMBDA_CONTEXT"

app = ProxyApp(token_source=SECRETS_MANAGER)


def _json(environ: dict, key: str) -> dict:
    try:
        value = json.loads(environ.get(key) or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class WithLambdaContext:
    """The core, told what the adapter's headers say: the client, the request id, the time left.
    ``app`` is the core, where the server finds its settings and builds its own refusals."""

    def __init__(self, core: ProxyApp) -> None:
        self.app = core

    def __call__(self, environ: dict, start_response) -> Any:
        provide(environ)
        return self.app(environ, start_response)


def provide(environ: dict) -> None:
    request = _json(environ, REQUEST_CONTEXT)
    invocation = _json(environ, LAMBDA_CONTEXT)
    http = request.get("http")
    source_ip = http.get("sourceIp") if isinstance(http, dict) else None
    deadline = invocation.get("deadline", invocation.get("deadline_ms"))
    request_id = invocation.get("request_id") or request.get("requestId")
    adapter.provide(
        environ,
        # never the socket's peer (the adapter, 127.0.0.1) nor a client's X-Forwarded-For
        client_ip=source_ip if isinstance(source_ip, str) else "unknown",
        request_id=request_id if isinstance(request_id, str) else None,
        time_budget=deadline / 1000 - time.time() if isinstance(deadline, (int, float)) else None,
    )
    for key in (REQUEST_CONTEXT, LAMBDA_CONTEXT):  # the core has what it needs; nothing else reads them
        environ.pop(key, None)


def main() -> None:
    from functions.local.server import serve

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    port = int(os.environ.get("AWS_LWA_PORT") or os.environ.get("PORT") or 8080)
    server = serve(WithLambdaContext(app), "127.0.0.1", port)  # type: ignore[arg-type]
    print(f"hfproxy streaming function on 127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
