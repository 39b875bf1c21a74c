"""AWS Lambda entry point: ``functions/aws_lambda/handler.lambda_handler``.

serverless-wsgi turns API Gateway HTTP API (payload 2.0), REST API (1.0) and Function URL events
into WSGI calls on the core (https://github.com/logandk/serverless-wsgi). The adapter adds only
what Lambda knows: the time left (so the core answers before Lambda kills it) and the request id.
Each invocation writes one line: powertools' EMF metrics document, which also carries the core's
request record (sizes, statuses, latencies; never bodies or tokens) as metadata, queryable in
CloudWatch Logs Insights (https://docs.powertools.aws.dev/lambda/python/latest/core/metrics/#adding-metadata).
A separate Logger line per request cost as much as the rest of the adapter (``make bench``);
Logger keeps the warnings and errors, with the Lambda context and correlation id.
"""

from __future__ import annotations

import base64

import serverless_wsgi
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from shared import errors
from shared.app import REQUEST_ID_KEY, ProxyApp
from shared.deadline import TIME_BUDGET_KEY
from shared.http import CAN_STREAM_KEY, Response
from shared.telemetry import RequestRecord

# service "hfproxy" is also the core's stdlib logger name, so the core's own lines come out as
# powertools JSON with the correlation id too.
logger = Logger(service="hfproxy")
metrics = Metrics(namespace="hfproxy", service="hfproxy")


class PowertoolsTelemetry:
    def record(self, record: RequestRecord) -> None:
        for key, value in record.fields().items():
            metrics.add_metadata(key=key, value=value)
        metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
        if record.upstream_status is not None:
            metrics.add_metric(name=f"Upstream{record.upstream_status // 100}xx", unit=MetricUnit.Count, value=1)
            metrics.add_metric(name="UpstreamLatency", unit=MetricUnit.Milliseconds, value=record.upstream_ms or 0)


app = ProxyApp(telemetry=PowertoolsTelemetry())


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict, context) -> dict:
    budget = context.get_remaining_time_in_millis() / 1000

    def with_platform(environ: dict, start_response):
        environ[TIME_BUDGET_KEY] = budget
        environ[REQUEST_ID_KEY] = context.aws_request_id
        environ[CAN_STREAM_KEY] = False  # Python Lambda cannot stream a response (aws-lambda-roadmap #39)
        return app(environ, start_response)

    context_ = event.get("requestContext")
    if isinstance(context_, dict) and context_.get("authorizer", {}) is None:
        # Function URLs with auth NONE send "authorizer": null, which serverless-wsgi 3.1.0's v2 path
        # dereferences (serverless_wsgi.py handle_payload_v2; the v1 path got `or {}` in PR #232).
        del context_["authorizer"]
    try:
        return serverless_wsgi.handle_request(with_platform, event, context)
    except ValueError:  # raised while serverless-wsgi translates the event, before the app runs
        error = Response.from_error(_unreadable(event))
    return {"statusCode": error.status, "headers": error.headers, "body": error.body.decode()}


def _unreadable(event: dict) -> errors.ProxyError:
    """Which part of the event could not be read: a base64 body that does not decode (binascii.Error,
    or ValueError for non-ASCII text), else a header value with CR/LF (werkzeug's Headers refuses it)."""
    if event.get("isBase64Encoded"):
        try:
            base64.b64decode(event.get("body") or "")
        except ValueError:
            return errors.ProxyError(400, "invalid_body_encoding", "The body is not valid base64.")
    return errors.ProxyError(400, "invalid_header", "A request header value is malformed.")
