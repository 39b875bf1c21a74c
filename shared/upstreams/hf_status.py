"""The Hugging Face status map, shared by every Hugging Face API client (hf-inference, router chat).

"This model is not here" is the operator's configuration, never the caller's input: 404, 410, a
400 whose ``error.code`` is ``model_not_supported`` (router, OpenAI-style body), and a 400 whose
message says the model or task is not supported by the provider all become 502
``model_not_served`` naming the setting to change (the wordings and where each was reported:
docs/model-availability.md). Then: 403 about a gated model -> no access; 401/403, or a 400 about
an invalid token -> our token was rejected; 402 -> credits; 400/413/422 -> the caller's input;
429 -> rate limit; 503 + estimated_time -> loading; 504 -> timeout; anything else -> 502.

Both clients also share how a Hugging Face API is asked: :func:`post` (one answer) and
:func:`open_stream` (events, or the answer of a server that did not stream), so neither client is
built on the other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from shared import errors
from shared.upstreams import sse, transport
from shared.upstreams.call import UpstreamCall

DEFAULT_RETRY_AFTER = 20
MAX_LOADING_WAIT = 30.0  # never wait longer than this for one loading announcement
# Loading retries (docs/transport.md "Retries"): the router bills and rate-limits per call, so a
# loading 503 is asked again at most twice, never sooner than a second after the last answer, and
# only while the deadline leaves room for the wait and an answer.
MAX_ATTEMPTS = 3
MIN_RETRY_WAIT = 1.0

# The model or task is not served by the provider (docs/model-availability.md has the table):
# "Model not supported by provider hf-inference" / "... together"
#   (https://github.com/huggingface/huggingface.js/issues/2225),
# "Task 'text-generation' not supported for provider. Available tasks: ['conversational']"
#   (https://github.com/huggingface/hub-docs/issues/1766),
# "The requested model 'x/y' is not supported by any provider you have enabled."
#   (https://github.com/cline/cline/issues/5098),
# "Model x is not supported for task text-generation and provider nebius"
#   (https://github.com/huggingface/huggingface_hub/issues/3196).
# The subject must be the model or the task, so "`stream` is not supported for this model" or
# "Parameter 'n' is not supported by provider x" stay the caller's 400.
NOT_SERVED = re.compile(
    r"\b(?:model|task)\b[^\n]{0,200}?\bnot\s+(?:supported|available)\b[^\n]{0,120}?\b(?:provider|task)",
    re.IGNORECASE,
)
NOT_SERVED_CODES = {"model_not_supported", "model_not_found"}  # OpenAI-style error.code
# "Authorization header is correct, but the token seems invalid"; not "`inputs` tokens + ... <= 1024".
BAD_TOKEN = re.compile(
    r"\btoken\b[^\n]{0,40}?\b(?:invalid|expired|revoked)|\binvalid\b[^\n]{0,30}?\b(?:token|credentials)\b",
    re.IGNORECASE,
)


def loading_wait(resp: transport.UpstreamResponse) -> float | None:
    """Seconds the upstream says the model needs to load, or None if this is not a loading 503."""
    if resp.status != 503:
        return None
    try:
        estimated = float(resp.json().get("estimated_time"))
    except (errors.ProxyError, AttributeError, TypeError, ValueError):
        return None
    return min(max(estimated, MIN_RETRY_WAIT), MAX_LOADING_WAIT) if estimated == estimated else None


def post(call: UpstreamCall, url: str, payload: dict, *, url_setting: str) -> bytes:
    """One POST; the upstream's JSON success body unchanged (token redacted), or the mapped error."""
    resp = call.request("POST", url, payload)
    if resp.status != 200:
        raise map_error(resp, call, loading_wait(resp), url_setting=url_setting)
    return call.without_token(resp)


def open_stream(call: UpstreamCall, url: str, payload: dict, *, url_setting: str) -> transport.Exchange | bytes:
    """Start a streamed request. Returns the open event stream, or the JSON body if the upstream
    answered 200 without streaming; a refusal (e.g. 400 "`stream` is not supported for this
    model" from non-TGI models) raises the mapped error before our client gets any byte, so it
    gets a normal JSON error."""
    exchange = call.open("POST", url, payload, stream=True)
    if exchange.status == 200 and sse.is_event_stream(exchange):
        return exchange
    resp = call.read(exchange)
    if resp.status != 200:
        raise map_error(resp, call, loading_wait(resp), url_setting=url_setting)
    return call.without_token(resp)


def relay(
    exchange: transport.Exchange,
    call: UpstreamCall,
    is_final: Callable[[sse.Event], bool],
    convert: Callable[[sse.Event], Iterable[Any]] | None = None,
) -> Iterator[bytes]:
    """An open Hugging Face stream re-sent to our client; in-band errors as :func:`stream_error`."""
    return sse.relay(
        exchange, call, is_final=is_final, error_of=lambda event: stream_error(event, call), convert=convert
    )


def map_error(
    resp: transport.UpstreamResponse,
    call: UpstreamCall,
    loading_wait: float | None = None,
    url_setting: str = "HF_INFERENCE_URL",
) -> errors.ProxyError:
    """The status map for every Hugging Face API (hf-inference and the router's OpenAI-style /v1).

    ``url_setting`` names the setting the operator must fix when the model is not served there.
    """
    status = resp.status
    message = call.safe_message(resp.body)
    if not_served(status, resp.body, message):
        return errors.model_not_served(url_setting, message)
    if status == 403 and message and ("gated" in message.lower() or "access" in message.lower()):
        return errors.model_access_denied()
    if status in (401, 403) or (status == 400 and message and BAD_TOKEN.search(message)):
        return errors.upstream_auth_failed()
    if status == 402:
        return errors.upstream_quota_exceeded()
    if status in (400, 413, 422):
        return errors.upstream_rejected_request(message)
    if status == 429:
        return errors.upstream_rate_limited(transport.retry_after_seconds(resp.headers, DEFAULT_RETRY_AFTER))
    if status == 503:
        if loading_wait is not None:
            return errors.model_loading(max(1, round(loading_wait)))
        return errors.upstream_unavailable(transport.retry_after_seconds(resp.headers, DEFAULT_RETRY_AFTER))
    if status == 504:
        return errors.upstream_timeout()
    return errors.upstream_error(status)


def not_served(status: int, body: bytes, message: str | None) -> bool:
    """Whether the upstream says it does not serve this model (or this task) at all."""
    if status in (404, 410):
        return True
    if status not in (400, 422):
        return False
    return openai_error_code(body) in NOT_SERVED_CODES or bool(message and NOT_SERVED.search(message))


def openai_error_code(body: bytes) -> str | None:
    """``error.code`` of an OpenAI-style error body (e.g. ``model_not_supported``), if there is one."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    error = data.get("error") if isinstance(data, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


def stream_error(event: sse.Event, call: UpstreamCall) -> errors.ProxyError | None:
    """An error inside a 200 stream: ``{"error": "..."}`` (TGI) or ``{"error": {"message"}}`` (OpenAI)."""
    if event.event != "error" and '"error"' not in event.data:
        return None
    data = event.json()
    if event.event != "error" and (not isinstance(data, dict) or not data.get("error")):
        return None
    return errors.upstream_stream_error(call.safe_message(data) if data else None)
