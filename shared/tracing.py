"""``TRACING=otel``: one OpenTelemetry span per model call, in the GenAI semantic conventions.

The span goes to the global tracer provider of ``opentelemetry-api``, so whatever the deployment
set up receives it: an app's SDK configuration, or the ADOT Lambda layer (docs/tracing.md). It is
made when the request's record is written (a stream's after it closes), from the record alone,
with the record's start and end times, so tracing adds no work to the request's path and knows
everything the record does (tokens used, which model answered, how it ended).

Attributes (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/): span name
``{gen_ai.operation.name} {gen_ai.request.model}``, kind CLIENT, ``gen_ai.operation.name``
(``chat``, ``text_completion``), ``gen_ai.provider.name`` (``huggingface``: no registry value names
it yet), ``gen_ai.request.model``, ``gen_ai.request.max_tokens``, ``gen_ai.response.model``,
``gen_ai.usage.input_tokens`` / ``gen_ai.usage.output_tokens`` when the upstream reports them,
``server.address``, ``error.type`` (our stable code) on failure, ``hfproxy.request.id``. Never the
prompt, the answer, a client credential or the token: the record holds none of them.

With tracing off this module is never imported, and ``opentelemetry`` with it.
"""

from __future__ import annotations

import time
from typing import Any

from shared.telemetry import RequestRecord

PROVIDER = "huggingface"


def record_span(record: RequestRecord) -> None:
    """The model call of a finished request as one span (other requests make none)."""
    if record.operation is None:
        return
    from opentelemetry import trace

    end = time.time_ns()
    start = end - int(record.duration_ms * 1_000_000)
    tracer = trace.get_tracer("hfproxy")
    span = tracer.start_span(
        f"{record.operation} {record.model}" if record.model else record.operation,
        kind=trace.SpanKind.CLIENT,
        start_time=start,
        attributes=_attributes(record),
    )
    failed = record.code is not None or record.status >= 400
    if failed:
        span.set_status(trace.Status(trace.StatusCode.ERROR))
    span.end(end_time=end)


def _attributes(record: RequestRecord) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": record.operation,
        "gen_ai.provider.name": PROVIDER,
        "hfproxy.request.id": record.request_id,
        "http.response.status_code": record.status,
    }
    optional = {
        "gen_ai.request.model": record.model,
        "gen_ai.request.max_tokens": record.max_tokens,
        "gen_ai.response.model": record.answered_by or (record.model if record.upstream_status == 200 else None),
        "gen_ai.usage.input_tokens": record.input_tokens,
        "gen_ai.usage.output_tokens": record.output_tokens,
        "server.address": record.upstream_host,
        "error.type": record.code,
    }
    attributes.update({key: value for key, value in optional.items() if value is not None})
    return attributes
