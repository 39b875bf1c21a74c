"""Client for the hosted text-generation API (``router.huggingface.co/hf-inference/models/...``).

Its answers go through the Hugging Face status map in :mod:`shared.upstreams.hf_status`; a 503
with ``estimated_time`` (model loading) is retried at most ``MAX_ATTEMPTS`` times in all, at least
``MIN_RETRY_WAIT`` apart, while the deadline allows (docs/transport.md "Retries").
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from shared.deadline import Deadline
from shared.settings import Settings
from shared.telemetry import RequestRecord
from shared.upstreams import hf_status, sse, transport

NAME = "hf-inference"


def generate(
    payload: dict,
    *,
    token: str,
    settings: Settings,
    deadline: Deadline,
    record: RequestRecord | None = None,
    url_setting: str = "HF_INFERENCE_URL",
) -> bytes:
    """POST the payload; return the upstream's success body unchanged, or raise a ProxyError."""
    record = record or RequestRecord("", "", "")
    while True:
        record.upstream_attempts += 1
        resp = transport.request(
            "POST", settings.hf_inference_url, token=token, settings=settings, deadline=deadline, json_body=payload
        )
        record.upstream_status, record.upstream_ms = resp.status, round(resp.elapsed_ms, 1)
        if resp.status == 200:
            return transport.without_token(resp.body, resp.json(), token)  # must be JSON; otherwise unchanged
        wait = hf_status.loading_wait(resp)
        room = deadline.remaining() - settings.deadline_margin
        if wait is not None and record.upstream_attempts < hf_status.MAX_ATTEMPTS and wait + 0.5 < room:
            time.sleep(wait)  # the upstream asked us to come back; the deadline still allows it
            continue
        raise hf_status.map_error(resp, token, wait, url_setting=url_setting)


def open_stream(
    payload: dict,
    *,
    token: str,
    settings: Settings,
    deadline: Deadline,
    record: RequestRecord,
    url: str | None = None,
    url_setting: str = "HF_INFERENCE_URL",
) -> sse.UpstreamStream | bytes:
    """Start a streamed request (TGI tokens by default; the chat client passes its own URL).
    Returns the open stream, or the JSON body if the upstream answered 200 without streaming; a
    refusal (e.g. 400 "`stream` is not supported for this model" from non-TGI models) raises the
    mapped error before our client gets any byte, so it gets a normal JSON error."""
    record.upstream_attempts += 1
    stream = sse.open_stream(
        "POST", url or settings.hf_inference_url, token=token, settings=settings, deadline=deadline, json_body=payload
    )
    record.upstream_status, record.upstream_ms = stream.status, round(stream.elapsed_ms, 1)
    if stream.status == 200 and stream.is_event_stream:
        return stream
    resp = stream.read_body(settings.max_upstream_bytes)
    if resp.status != 200:
        raise hf_status.map_error(resp, token, hf_status.loading_wait(resp), url_setting=url_setting)
    return transport.without_token(resp.body, resp.json(), token)


def relay(stream: sse.UpstreamStream, *, token: str, record: RequestRecord) -> Iterator[bytes]:
    """TGI events: ``data:{"token": {...}, "generated_text": null}``; the last one carries the
    whole ``generated_text``; errors come in-band as ``data:{"error": "...", "error_type": ...}``."""
    return sse.relay(
        stream, token=token, is_final=_tgi_final, error_of=lambda e: hf_status.stream_error(e, token), record=record
    )


def _tgi_final(event: sse.Event) -> bool:
    data = event.json()
    return isinstance(data, dict) and data.get("generated_text") is not None
