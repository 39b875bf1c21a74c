"""What the core tells the outside world about a request: sizes, model, statuses, latencies.

Never content: no prompt, no generated text, no headers, no token. Adapters plug in their own
sink (the Lambda adapter sends these to powertools Logger and Metrics); the default logs one
structured line through the standard ``logging`` module.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger("hfproxy")


@dataclass
class RequestRecord:
    request_id: str
    method: str
    path: str
    status: int = 0
    code: str | None = None  # error code, when the answer is an error
    duration_ms: float = 0.0
    body_bytes: int = 0
    prompt_chars: int | None = None
    model: str | None = None
    answered_by: str | None = None  # /api/generate: the model that really answered (GENERATE_FALLBACK_MODEL's)
    upstream: str | None = None  # which upstream client answered ("hf-inference", "demo", ...)
    upstream_status: int | None = None
    upstream_ms: float | None = None
    upstream_attempts: int = 0
    stream_end: str | None = None  # streamed answers: "done", "error" or "client_gone"
    limit: str | None = None  # which limit refused: "rate", "client_tokens", "budget", "store_unavailable"
    operation: str | None = None  # model routes: "chat" or "text_completion" (OpenTelemetry's gen_ai.operation.name)
    max_tokens: int | None = None  # what the request was charged (and may generate)
    input_tokens: int | None = None  # as the upstream reports them, when it does
    output_tokens: int | None = None
    upstream_host: str | None = None

    def fields(self) -> dict:
        # vars(), not dataclasses.asdict(): the values are flat, and asdict's deep copy cost ~4 µs a request
        return {k: v for k, v in vars(self).items() if v is not None}


class Telemetry(Protocol):
    def record(self, record: RequestRecord) -> None: ...


class LoggingTelemetry:
    def record(self, record: RequestRecord) -> None:
        log.info("request %s", json.dumps(record.fields(), separators=(",", ":")))
