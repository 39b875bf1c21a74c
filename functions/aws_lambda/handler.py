"""AWS Lambda entry point: ``functions/aws_lambda/handler.lambda_handler``.

serverless-wsgi turns API Gateway HTTP API (payload 2.0), REST API (1.0) and Function URL events
into WSGI calls on the core (https://github.com/logandk/serverless-wsgi). The adapter adds only
what Lambda knows: the time left (so the core answers before Lambda kills it), the request id, and
the token source that also reads Secrets Manager (:mod:`functions.aws_lambda.secret`).
Each request writes one line: powertools' EMF metrics document, which also carries the core's
request record (sizes, statuses, latencies; never bodies or tokens) as metadata, queryable in
CloudWatch Logs Insights (https://docs.powertools.aws.dev/lambda/python/latest/core/metrics/#adding-metadata).
A separate Logger line per request cost as much as the rest of the adapter (``make bench``);
Logger keeps the warnings and errors, with the Lambda context and correlation id.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import threading

import serverless_wsgi
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from functions.aws_lambda import snapstart
from functions.aws_lambda.secret import SECRETS_MANAGER
from shared import adapter, errors
from shared.app import ProxyApp
from shared.telemetry import RequestRecord

# No pydantic plugins here: without this, the first request's model build scans every installed
# distribution's entry points for them (pydantic/plugin/_loader.py; ~8 ms in the bench's venv). Set
# PYDANTIC_DISABLE_PLUGINS yourself ("" loads them all) to choose otherwise:
# https://docs.pydantic.dev/latest/concepts/plugins/ (disabling plugins, pydantic #8767).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

# service "hfproxy" is also the core's stdlib logger name, so the core's own lines come out as
# powertools JSON with the correlation id too.
logger = Logger(service="hfproxy")
metrics = Metrics(namespace="hfproxy", service="hfproxy")


class PowertoolsTelemetry:
    """One EMF document per request: its metrics, and its record as metadata.

    The document is built from the request's own figures by powertools' ``serialize_metric_set``
    (the same document ``add_metric``/``add_metadata``/``flush_metrics`` would write, checked by
    the tests) without filling the process-wide ``Metrics`` sets, so a process serving several
    invocations at once (Lambda Managed Instances; the suite's concurrency test) cannot flush one
    request's metrics with another's. It also skips ``add_metric``'s per-call unit validation for
    three fixed metrics: 36 to 17 µs a request (``make bench``'s harness). The dimensions are ours,
    not powertools' process-wide set, which another ``Metrics`` in the process could change.
    ``POWERTOOLS_METRICS_DISABLED`` is honoured as ``flush_metrics`` does.

    Each document leaves in one write under a lock: ``print`` writes the text and the newline
    apart, and two invocations printing at once interleaved them into lines CloudWatch cannot parse."""

    _lock = threading.Lock()
    _dimensions = {"service": "hfproxy"}

    def record(self, record: RequestRecord) -> None:
        if is_metrics_disabled():
            return
        figures = {"Requests": {"Unit": MetricUnit.Count.value, "Value": [1.0]}}
        if record.upstream_status is not None:
            figures[f"Upstream{record.upstream_status // 100}xx"] = {"Unit": MetricUnit.Count.value, "Value": [1.0]}
            latency = float(record.upstream_ms or 0)
            figures["UpstreamLatency"] = {"Unit": MetricUnit.Milliseconds.value, "Value": [latency]}
        fields = record.fields()
        document = metrics.serialize_metric_set(metrics=figures, dimensions=self._dimensions, metadata=fields)
        line = json.dumps(document, separators=(",", ":")) + "\n"  # what flush_metrics prints
        with self._lock:
            sys.stdout.write(line)


app = ProxyApp(telemetry=PowertoolsTelemetry(), token_source=SECRETS_MANAGER)
snapstart.register(app)  # SnapStart's hooks, when the runtime has them (functions/aws_lambda/snapstart.py)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict, context) -> dict:
    budget = context.get_remaining_time_in_millis() / 1000
    answered: dict = {}  # the core's answer, once it has one

    def with_platform(environ: dict, start_response):
        # Python Lambda cannot stream a response (aws-lambda-roadmap #39); the client's address is
        # serverless-wsgi's REMOTE_ADDR (the event's source IP).
        adapter.provide(environ, request_id=context.aws_request_id, time_budget=budget, can_stream=False)

        def keep(status: str, headers: list, exc_info=None):
            answered.update(status=int(status.split(" ", 1)[0]), headers=dict(headers))
            return start_response(status, headers, exc_info)

        chunks = app(environ, keep)
        try:
            answered["body"] = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        return [answered["body"]]

    context_ = event.get("requestContext")
    if isinstance(context_, dict) and context_.get("authorizer", {}) is None:
        # Function URLs with auth NONE send "authorizer": null, which serverless-wsgi 3.1.0's v2 path
        # dereferences (serverless_wsgi.py handle_payload_v2; the v1 path got `or {}` in PR #232).
        del context_["authorizer"]
    try:
        return serverless_wsgi.handle_request(with_platform, event, context)
    except ValueError:
        if "body" in answered:  # the core answered; serverless-wsgi could not write it as text
            return _as_base64(answered)
        refused = _unreadable(event)  # raised while serverless-wsgi translates the event
    # Built by the core like every answer: envelope, CORS, X-Request-Id, one record.
    path = event.get("rawPath") or event.get("path") or ""
    error = app.refusal(
        refused, _origin(event), context.aws_request_id, path if isinstance(path, str) else "", _method(event)
    )
    return {"statusCode": error.status, "headers": error.headers, "body": error.body.decode()}


def _method(event: dict) -> str:
    """The method of any shape: REST API's ``httpMethod``, or HTTP API / Function URL's ``requestContext.http``."""
    context = event.get("requestContext")
    http = context.get("http") if isinstance(context, dict) else None
    method = event.get("httpMethod") or (http.get("method") if isinstance(http, dict) else "")
    return method if isinstance(method, str) else ""


def _origin(event: dict) -> str | None:
    headers = event.get("headers") or {}
    if not isinstance(headers, dict):
        return None
    origin = next((v for k, v in headers.items() if isinstance(k, str) and k.lower() == "origin"), None)
    return origin if isinstance(origin, str) and "\n" not in origin and "\r" not in origin else None


def _unreadable(event: dict) -> errors.ProxyError:
    """Which part of the event could not be read: a base64 body that does not decode (binascii.Error,
    or ValueError for non-ASCII text), else a header value with CR/LF (werkzeug's Headers refuses it)."""
    if event.get("isBase64Encoded"):
        try:
            base64.b64decode(event.get("body") or "")
        except ValueError:
            return errors.ProxyError(400, "invalid_body_encoding", "The body is not valid base64.")
    return errors.ProxyError(400, "invalid_header", "A request header value is malformed.")


def _as_base64(answered: dict) -> dict:
    """The core's answer, unchanged, as a binary body: serverless-wsgi decodes a JSON or text body
    as UTF-8 (``generate_response``) and raises on anything else, which must not read as the
    client's fault. The core only writes UTF-8, so this is a safety net, logged when it is used."""
    logger.warning("answer body is not UTF-8 text; sent base64-encoded")
    body = base64.b64encode(answered["body"]).decode()
    return {"statusCode": answered["status"], "headers": answered["headers"], "body": body, "isBase64Encoded": True}
