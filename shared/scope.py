"""One request's scope: made by the app for each request and passed explicitly to its route.

It holds what the request is (id, settings, deadline, whether the adapter streams, the client's
address, the route table it was routed by) and what the request has become (its notes, its spend
admission, its upstream call, its answer headers). Each fact has one writer: the scope writes
its own fields (through :meth:`note`, :meth:`admit`, :meth:`add_headers`), the upstream call
writes the upstream's (:class:`~shared.upstreams.call.UpstreamCall`), and the app writes the
request record from both when the answer is done (:meth:`fill`). No module reaches into another's state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shared.credentials import ENVIRONMENT, TokenSource
from shared.deadline import Deadline
from shared.limits.identity import client_id
from shared.settings import Settings
from shared.telemetry import RequestRecord

if TYPE_CHECKING:
    from shared.auth import Caller
    from shared.routes.route import RouteTable
    from shared.upstreams.call import UpstreamCall


@dataclass(frozen=True)
class Asked:
    """What a model request asks for, for its record and its span (never content)."""

    model: str | None  # None: the upstream's default (the Llama Space names none)
    prompt_chars: int
    max_tokens: int
    operation: str  # OpenTelemetry's gen_ai.operation.name: "chat" or "text_completion"


@dataclass
class Scope:
    request_id: str
    settings: Settings
    deadline: Deadline
    can_stream: bool = True  # the adapter sends the answer as it is produced (shared.adapter)
    address: str | None = None  # the client's address as the platform vouches for it (shared.limits.identity)
    token_source: TokenSource = ENVIRONMENT  # the adapter's (shared.credentials), via ProxyApp
    error_shape: str = "envelope"  # the request path's error shape (the route table's), for stream errors too
    vouched_by: str | None = None  # the verified front-proxy signature that vouched for the address
    caller: Caller | None = None  # who calls a model route (shared.auth.who): a signed-in user, or the address
    routes: RouteTable | None = None  # the app's route table: health and OpenAPI read it
    _asked: Asked | None = None
    _headers: dict[str, str] = field(default_factory=dict)
    _limit: str | None = None
    _admitted: bool = False
    _charged: tuple = ()  # the spend-limit charges this request was admitted with (shared.limits.policy.Charge)
    _call: UpstreamCall | None = None

    @property
    def client(self) -> str:
        """Who is counted: the signed-in user, else the address (parsed only when a limit asks: not free)."""
        return self.caller.key if self.caller is not None else client_id(self.address)

    @property
    def signed_in(self) -> bool:
        return self.caller is not None and self.caller.kind == "user"

    def note(self, asked: Asked) -> None:
        """What the request asks for, for the log (never content); a model route says it once."""
        self._asked = asked

    def add_headers(self, headers: dict[str, str]) -> None:
        self._headers.update(headers)

    def admit(self, tokens: int) -> None:
        """Charge this request to the spend limits (a no-op when none is set); raises 429/503.

        Every model route calls this once its body is valid, before any upstream call.
        """
        from shared.limits import admit, enabled

        if enabled(self.settings):
            # A user is counted as the user wherever they come from: the signature vouches for an address only.
            also = (f"signature:{self.vouched_by}",) if self.vouched_by and not self.signed_in else ()
            admission = admit(
                self.settings, self.client, tokens, self.deadline, self._note_limit, also=also, user=self.signed_in
            )
            self._headers.update(admission.headers or {})
            self._charged = admission.charges
        self._admitted = True

    def settle(self, status: int) -> None:
        """Correct the charges to what the answer used (the app calls this once the answer is done).

        Never forwarded (no upstream took it): everything is given back, the request unit too. An
        error answer, or a stream that failed before its first event: the tokens are given back.
        Otherwise the tokens the upstream reports it generated replace the reservation; when it
        reports none, the reservation stands.
        """
        if not self._charged:
            return
        from shared.limits import give_back

        call = self._call
        if call is None or not call.reached:
            amounts = [c.amount for c in self._charged]
        else:
            used = 0 if status >= 400 or (call.stream_end == "error" and not call.relayed) else call.generated
            if used is None:
                return
            amounts = [0 if c.counts_requests else max(0, c.amount - used) for c in self._charged]
        give_back(self.settings, self._charged, amounts)

    def _note_limit(self, limit: str) -> None:
        self._limit = limit

    def read_token(self) -> str:
        """The token for free metadata reads only (the Hub's model info, a Space's ``/config`` and
        ``/info``: GET /api/health?deep=1): no model runs, nothing is spent, nothing to count."""
        return self.token_source(self.settings)

    def token(self) -> str:
        """The server's token: only for an admitted request, so no path can spend it uncounted."""
        if not self._admitted:
            raise RuntimeError("a model call must be admitted (Scope.admit) before it gets the token")
        return self.token_source(self.settings)

    @property
    def call(self) -> UpstreamCall:
        """This request's way upstream, made on first use; the token is read only if an upstream asks."""
        if self._call is None:
            from shared.upstreams.call import UpstreamCall

            self._call = UpstreamCall(self.token, self.settings, self.deadline, self.can_stream, self.error_shape)
        return self._call

    @property
    def answer_headers(self) -> dict[str, str]:
        """Headers the answer carries, error or not: the spend limits' and the upstream's."""
        if self._call is None or not self._call.headers:
            return self._headers
        return {**self._headers, **self._call.headers}

    def fill(self, record: RequestRecord) -> None:
        """Write this request's facts into its record (the app calls this once the answer is done)."""
        if self._asked is not None:
            asked = self._asked
            record.model, record.prompt_chars = asked.model, asked.prompt_chars
            record.max_tokens, record.operation = asked.max_tokens, asked.operation
        record.limit = self._limit
        call = self._call
        if call is not None:
            record.upstream, record.answered_by = call.upstream, call.answered_by
            record.upstream_attempts, record.upstream_status, record.upstream_ms = call.attempts, call.status, call.ms
            record.stream_end = call.stream_end
            record.input_tokens, record.output_tokens, record.upstream_host = (
                call.prompt_tokens,
                call.generated,
                call.host,
            )
            if record.code is None:
                record.code = call.stream_code
