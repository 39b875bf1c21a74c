"""The one Hugging Face client: every Hugging Face API (hf-inference text generation, the router's
OpenAI-compatible chat) is asked through :class:`HFClient`, with one retry policy and one status map.

Retries (docs/transport.md "Retries"): only a loading 503 (``estimated_time`` in the body) is
asked again, at most :data:`MAX_ATTEMPTS` times in all, never sooner than :data:`MIN_RETRY_WAIT`
after the last answer, only while the deadline leaves room for the wait and an answer, and only
before the first byte is relayed to our client: a stream is retried while it is being opened,
never once its events flow. The router bills and rate-limits per call, so nothing else is retried.

The status map: "this model is not here" is the operator's configuration, never the caller's
input: 404, 410, a 400 whose ``error.code`` is ``model_not_supported``/``model_not_found``
(router, OpenAI-style body), and a 400 whose message says the model or task is not supported by
the provider all become 502 ``model_not_served`` naming the setting to change (the wordings and
where each was reported: docs/model-availability.md). Then: 403 about a gated model -> no
access; 401/403, or a 400 about an invalid token -> our token was rejected; 402 -> credits;
400/413/422 -> the caller's input; 429 -> rate limit; 503 + estimated_time -> loading; 504 ->
timeout; anything else -> 502. An error inside a 200 stream (``{"error": "..."}`` from TGI,
``{"error": {"message"}}`` from the router: huggingface_hub PR #2558) ends the relay the same way.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared import errors
from shared.upstreams import transport
from shared.upstreams.call import UpstreamCall
from shared.upstreams.plan import Answer

if TYPE_CHECKING:  # the relay is imported by the first stream, not by a plain call
    from shared.upstreams import sse

CHAT = "hf-router-chat"  # https://huggingface.co/docs/inference-providers/tasks/chat-completion
TEXT_GENERATION = "hf-inference"  # router.huggingface.co/hf-inference/models/{id}
RESPONSES = "hf-router-responses"  # https://huggingface.co/docs/inference-providers/guides/responses-api
DEFAULT_RETRY_AFTER = 20
MAX_LOADING_WAIT = 30.0  # never wait longer than this for one loading announcement
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


def chat_done(event: sse.Event) -> bool:
    """The router's chat stream ends with ``data: [DONE]``."""
    from shared.upstreams import sse  # loaded by the stream that made ``event``: a dict lookup

    return event.data.strip() == sse.DONE


def usage_only(event: sse.Event) -> bool:
    """The chunk ``stream_options.include_usage`` adds: ``usage`` and no choices
    (https://platform.openai.com/docs/api-reference/chat/create#chat-create-stream_options)."""
    if '"usage"' not in event.data:
        return False
    data = event.json()
    return isinstance(data, dict) and not data.get("choices") and isinstance(data.get("usage"), dict)


def tgi_done(event: sse.Event) -> bool:
    """TGI's last token event carries the whole ``generated_text``."""
    data = event.json()
    return isinstance(data, dict) and data.get("generated_text") is not None


@dataclass
class HFClient:
    """``url_setting`` names what the operator changes when the model is not served there."""

    call: UpstreamCall
    url_setting: str

    def post(self, url: str, payload: dict) -> bytes:
        """One answer: the upstream's JSON success body unchanged (token redacted), or the mapped error."""
        exchange = self._open(url, payload, stream=False)
        return self.call.without_token(self.call.read(exchange))

    def stream(
        self,
        url: str,
        payload: dict,
        *,
        is_final: Callable[[sse.Event], bool],
        convert: Callable[[sse.Event], Iterable[Any]] | None = None,
        drop: Callable[[sse.Event], bool] | None = None,
        error_of: Callable[[sse.Event], errors.ProxyError | None] | None = None,
        error_event: Callable[[errors.ProxyError], bytes] | None = None,
    ) -> Answer:
        """The upstream's events relayed as they come (``convert``: re-shaped on the way), or the
        JSON body of an upstream that answered 200 without streaming. A refusal (e.g. 400 "`stream`
        is not supported for this model") raises the mapped error before our client gets a byte.
        ``error_of`` / ``error_event``: an API's own in-band failures and last event (default: the
        chat and TGI ones, :meth:`stream_error`, in the path's error shape)."""
        from shared.upstreams import sse

        exchange = self._open(url, payload, stream=True)
        if not sse.is_event_stream(exchange):
            return self.call.without_token(self.call.read(exchange))
        return sse.relay(
            exchange,
            self.call,
            is_final=is_final,
            error_of=error_of or self.stream_error,
            convert=convert,
            drop=drop,
            error_event=error_event,
        )

    def _open(self, url: str, payload: dict, *, stream: bool) -> transport.Exchange:
        """A 200 exchange, after the retry policy; anything else raises the mapped error."""
        call, attempt = self.call, 0
        while True:
            attempt += 1
            exchange = call.open("POST", url, payload, stream=stream)
            if exchange.status == 200:
                return exchange
            resp = call.read(exchange)
            wait = loading_wait(resp)
            room = call.deadline.remaining() - call.settings.deadline_margin
            if wait is None or attempt == MAX_ATTEMPTS or wait + 0.5 >= room:
                raise self.map_error(resp, wait)
            time.sleep(wait)  # the upstream asked us to come back; the deadline still allows it

    def map_error(self, resp: transport.UpstreamResponse, loading: float | None = None) -> errors.ProxyError:
        status = resp.status
        message = self.call.safe_message(resp.body)
        if not_served(status, resp.body, message):
            return errors.model_not_served(self.url_setting, message)
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
            if loading is not None:
                return errors.model_loading(max(1, round(loading)))
            return errors.upstream_unavailable(transport.retry_after_seconds(resp.headers, DEFAULT_RETRY_AFTER))
        if status == 504:
            return errors.upstream_timeout()
        return errors.upstream_error(status)

    def stream_error(self, event: sse.Event) -> errors.ProxyError | None:
        """An error inside a 200 stream: ``{"error": "..."}`` (TGI) or ``{"error": {"message"}}`` (OpenAI)."""
        if event.event != "error" and '"error"' not in event.data:
            return None
        data = event.json()
        if event.event != "error" and (not isinstance(data, dict) or not data.get("error")):
            return None
        return errors.upstream_stream_error(self.call.safe_message(data) if data else None)


def loading_wait(resp: transport.UpstreamResponse) -> float | None:
    """Seconds the upstream says the model needs to load, or None if this is not a loading 503."""
    if resp.status != 503:
        return None
    try:
        estimated = float(resp.json().get("estimated_time"))
    except (errors.ProxyError, AttributeError, TypeError, ValueError):
        return None
    return min(max(estimated, MIN_RETRY_WAIT), MAX_LOADING_WAIT) if estimated == estimated else None


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
