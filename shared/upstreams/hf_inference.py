"""Client for the hosted text-generation API (``router.huggingface.co/hf-inference/models/...``).

Its answers go through the Hugging Face status map in :mod:`shared.upstreams.hf_status`; a 503
with ``estimated_time`` (model loading) is retried at most ``MAX_ATTEMPTS`` times in all, at least
``MIN_RETRY_WAIT`` apart, while the deadline allows (docs/transport.md "Retries").
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from shared.upstreams import hf_status, sse, transport
from shared.upstreams.call import UpstreamCall

NAME = "hf-inference"


def generate(payload: dict, call: UpstreamCall, *, url_setting: str = "HF_INFERENCE_URL") -> bytes:
    """POST the payload; return the upstream's success body unchanged, or raise a ProxyError."""
    settings, attempt = call.settings, 0
    while True:
        attempt += 1
        resp = call.request("POST", settings.hf_inference_url, payload)
        if resp.status == 200:
            return call.without_token(resp)  # must be JSON; otherwise unchanged
        wait = hf_status.loading_wait(resp)
        room = call.deadline.remaining() - settings.deadline_margin
        if wait is None or attempt == hf_status.MAX_ATTEMPTS or wait + 0.5 >= room:
            raise hf_status.map_error(resp, call, wait, url_setting=url_setting)
        time.sleep(wait)  # the upstream asked us to come back; the deadline still allows it


def open_stream(
    payload: dict, call: UpstreamCall, *, url_setting: str = "HF_INFERENCE_URL"
) -> transport.Exchange | bytes:
    """TGI's token stream, or the JSON body of a model that answered without streaming."""
    return hf_status.open_stream(call, call.settings.hf_inference_url, payload, url_setting=url_setting)


def relay(stream: transport.Exchange, call: UpstreamCall) -> Iterator[bytes]:
    """TGI events: ``data:{"token": {...}, "generated_text": null}``; the last one carries the
    whole ``generated_text``; errors come in-band as ``data:{"error": "...", "error_type": ...}``."""
    return hf_status.relay(stream, call, is_final=_tgi_final)


def _tgi_final(event: sse.Event) -> bool:
    data = event.json()
    return isinstance(data, dict) and data.get("generated_text") is not None
