"""Per-request context handed to every route handler."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shared.credentials import ENVIRONMENT, TokenSource
from shared.deadline import Deadline
from shared.limits.identity import client_id
from shared.settings import Settings
from shared.telemetry import RequestRecord

if TYPE_CHECKING:
    from shared.http import Request
    from shared.upstreams.call import UpstreamCall
    from shared.upstreams.model_upstream import ModelUpstream


@dataclass
class Context:
    settings: Settings
    deadline: Deadline
    record: RequestRecord  # routes fill in model, sizes and upstream figures; never content
    address: str | None = None  # the client's address as the platform vouches for it (shared.limits.identity)
    answer_headers: dict[str, str] = field(default_factory=dict)  # added to the answer (RateLimit)
    token_source: TokenSource = ENVIRONMENT  # the adapter's (shared.credentials), via ProxyApp
    _admitted: bool = False

    @property
    def client(self) -> str:
        """Who is counted: worked out from the address only when a limit asks (parsing is not free)."""
        return client_id(self.address)

    def admit(self, tokens: int) -> None:
        """Charge this request to the spend limits (a no-op when none is set); raises 429/503.

        Every model route calls this once its body is valid, before any upstream call.
        """
        from shared.limits import admit, enabled

        if enabled(self.settings):
            self.answer_headers.update(admit(self.settings, self.client, tokens, self.record, self.deadline))
        self._admitted = True

    def read_token(self) -> str:
        """The token for free metadata reads only (the Hub's model info, a Space's ``/config`` and
        ``/info``: GET /api/health?deep=1): no model runs, nothing is spent, nothing to count."""
        return self.token_source(self.settings)

    def token(self) -> str:
        """The server's token: only for an admitted request, so no path can spend it uncounted."""
        if not self._admitted:
            raise RuntimeError("a model call must be admitted (Context.admit) before it gets the token")
        return self.token_source(self.settings)

    @property
    def upstream(self) -> ModelUpstream:
        """What answers the model routes: chosen once from the settings (Hugging Face, or the demo)."""
        from shared.upstreams.model_upstream import for_settings

        return for_settings(self.settings)

    def upstream_call(self, request: Request) -> UpstreamCall:
        """This request's way upstream; the token is read only if an upstream asks for it."""
        from shared.upstreams.call import UpstreamCall

        return UpstreamCall(
            self.token, self.settings, self.deadline, self.record, request.can_stream, self.answer_headers
        )
