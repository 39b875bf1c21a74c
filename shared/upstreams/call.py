"""One client request's way upstream: the token, the settings, the deadline, and what happened.

Every upstream client takes an :class:`UpstreamCall`. It alone builds the Authorization header,
redacts the token out of what comes back, and keeps the request's upstream facts, each with one
meaning and one writer, this object (docs/architecture.md, "Telemetry"):

- ``attempts``: upstream HTTP requests this client request made (retries, fallback, a Space's
  discovery calls included);
- ``status``: the status of the last of them;
- ``ms``: their time summed, each from sending until its body was read or its stream closed (a
  streamed answer's record is written after its stream closes);
- ``upstream`` / ``answered_by``: which upstream client, and which model, answered;
- ``stream_end`` / ``stream_code``: how a relayed stream ended, and its in-band error code.

The request's scope (:mod:`shared.scope`) copies these into the request record when the answer
is done; ``headers`` (``X-HFProxy-Model``, ``X-HFProxy-Mode``) go on the answer, error or not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from shared import redaction
from shared.deadline import Deadline
from shared.settings import Settings
from shared.upstreams import transport

JSON = "application/json"
EVENT_STREAM = "text/event-stream"
MODEL_HEADER = "X-HFProxy-Model"


@dataclass
class UpstreamCall:
    """``token`` is asked of ``token_source`` on first use: an offline answer never reads it."""

    token_source: Callable[[], str]
    settings: Settings
    deadline: Deadline
    can_stream: bool = True  # our client reads the answer as it is written (Request.can_stream)
    error_shape: str = "envelope"  # how our client reads an error: "envelope", or "openai" (OpenAI paths)
    headers: dict[str, str] = field(default_factory=dict)  # on our answer, error or not
    attempts: int = 0
    status: int | None = None
    ms: float | None = None
    upstream: str | None = None
    answered_by: str | None = None
    stream_end: str | None = None  # "done", "error" or "client_gone"
    stream_code: str | None = None
    reached: bool = False  # an upstream (or the demo) took the request: it was forwarded
    relayed: int = 0  # events of a stream sent on to our client
    generated: int | None = None  # tokens the upstream says it generated, when it says
    prompt_tokens: int | None = None  # tokens the upstream says it read, when it says
    host: str | None = None  # the last upstream's host (a trace's server.address)
    _token: str | None = field(default=None, repr=False)

    @property
    def token(self) -> str:
        if self._token is None:
            self._token = self.token_source()
        return self._token

    def answered(self, upstream: str | None = None, model: str | None = None) -> None:
        """Which upstream client (and, for ``/api/generate``, which model) answers: the log's
        ``upstream`` and ``answered_by``, and ``X-HFProxy-Model`` when a model is named."""
        if upstream is not None:
            self.upstream = upstream
        if model is not None:
            self.answered_by = model
            self.headers[MODEL_HEADER] = re.sub(r"[^\x21-\x7e]", "", model)[:200]  # a header value: no CR/LF

    def stream_ended(self, outcome: str, code: str | None = None) -> None:
        self.stream_end = outcome
        if code is not None:
            self.stream_code = code

    def open(
        self, method: str, url: str, body: Any = None, *, stream: bool = False, silence: float | None = None
    ) -> transport.Exchange:
        """Send a request; the answer's body is not read yet. ``stream`` asks for events, uncompressed
        (a compressed stream would be held back by the decoder); ``silence`` (default
        ``UPSTREAM_READ_TIMEOUT``) must exceed the upstream's heartbeat interval."""
        headers = {"Authorization": f"Bearer {self.token}", "Accept": f"{EVENT_STREAM}, {JSON}" if stream else JSON}
        if self.settings.hf_bill_to and _is_huggingface(url):
            # An organization pays instead of the token's user: "Organization Billing" in
            # https://huggingface.co/docs/inference-providers/en/pricing
            headers["X-HF-Bill-To"] = self.settings.hf_bill_to
        if stream:
            headers["Accept-Encoding"] = "identity"
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json_bytes(body)
            headers["Content-Type"] = JSON
        self.attempts += 1
        self.host = urlsplit(url).hostname
        exchange = transport.send(
            method,
            url,
            headers=headers,
            body=data,
            deadline=self.deadline,
            connect_timeout=self.settings.connect_timeout,
            silence=silence or self.settings.read_timeout,
            on_close=self._count_time,
        )
        self.status = exchange.status
        self.reached = True
        return exchange

    def request(self, method: str, url: str, body: Any = None) -> transport.UpstreamResponse:
        """Send a request and read its whole answer (at most ``MAX_UPSTREAM_BYTES``)."""
        return self.open(method, url, body).read(self.settings.max_upstream_bytes)

    def read(self, exchange: transport.Exchange) -> transport.UpstreamResponse:
        """The rest of an opened answer, whole (an error, or a server that ignored ``stream``)."""
        return exchange.read(self.settings.max_upstream_bytes)

    # --- what comes back, without the token ---------------------------------------------------

    def safe_message(self, body: bytes | dict, limit: int = 300) -> str | None:
        """The upstream's own error message, if it is safe to show (shared/redaction.py)."""
        return redaction.safe_upstream_message(body, self.token, limit)

    def without_token(self, resp: transport.UpstreamResponse) -> bytes:
        """A JSON success body for our client: unchanged unless it quotes the token. Not JSON: 502."""
        data = resp.json()
        self.count_usage(data)
        return redaction.redact_json_body(resp.body, data, self.token)

    def count_usage(self, data: Any) -> None:
        """Keep the generated tokens an answer (or a stream's event) reports, if it does."""
        generated = generated_tokens(data)
        if generated is not None:
            self.generated = generated
            self.prompt_tokens = prompt_tokens(data)

    def _count_time(self, elapsed_ms: float) -> None:
        self.ms = round((self.ms or 0) + elapsed_ms, 1)


def _is_huggingface(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host == "huggingface.co" or host.endswith(".huggingface.co")


def generated_tokens(data: Any) -> int | None:
    """The tokens an upstream answer says were generated: OpenAI's ``usage.completion_tokens``
    (chat, and the usage chunk of a stream), the Responses API's ``usage.output_tokens`` (also
    inside ``response.completed``), TGI's ``details.generated_tokens`` (summed over sequences)."""
    if isinstance(data, list):
        counts = [generated_tokens(item) for item in data]
        return sum(c for c in counts if c is not None) if counts and None not in counts else None
    if not isinstance(data, dict):
        return None
    usage = data.get("usage")
    if not isinstance(usage, dict) and isinstance(data.get("response"), dict):
        usage = data["response"].get("usage")
    if isinstance(usage, dict):
        count = usage.get("completion_tokens", usage.get("output_tokens"))
        return count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else None
    details = data.get("details")
    count = details.get("generated_tokens") if isinstance(details, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else None


def prompt_tokens(data: Any) -> int | None:
    """The tokens an upstream answer says it read (``usage.prompt_tokens`` / ``input_tokens``)."""
    usage = data.get("usage") if isinstance(data, dict) else None
    if not isinstance(usage, dict) and isinstance(data, dict) and isinstance(data.get("response"), dict):
        usage = data["response"].get("usage")
    count = usage.get("prompt_tokens", usage.get("input_tokens")) if isinstance(usage, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else None


def json_bytes(body: Any) -> bytes:
    return json.dumps(body, allow_nan=False).encode()
