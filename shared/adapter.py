"""The adapter contract: what a platform adapter may tell the core, as keys of the WSGI environ.

An adapter (``functions/aws_lambda``, ``api/index.py``, ``functions/local``) wraps the core's WSGI
app and adds only what its platform knows. Every key is optional; absent, the core does without:

- ``hfproxy.request_id`` (str): the platform's request id, echoed as ``X-Request-Id`` and put in
  the request record (Lambda: ``aws_request_id``). Absent: a random one.
- ``hfproxy.time_budget`` (float seconds): how long the platform still lets this request run
  (Lambda: ``get_remaining_time_in_millis() / 1000``). The core's deadline is the smaller of this,
  less ``DEADLINE_MARGIN_SECONDS``, and ``REQUEST_DEADLINE_SECONDS`` (:mod:`shared.deadline`).
- ``hfproxy.can_stream`` (bool): False when the platform buffers the whole answer (Python on
  Lambda behind API Gateway); routes then answer buffered. Absent: streaming works.
- ``hfproxy.client_ip`` (str): the client's address as the platform itself saw it (local: the
  socket peer; Vercel: its ``X-Real-IP``), which the per-client limits count
  (:mod:`shared.limits.identity`). Absent: ``REMOTE_ADDR``.

The adapter's other hook is the token source, given to :class:`shared.app.ProxyApp`
(:mod:`shared.credentials`).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any, Final, TypedDict

REQUEST_ID_KEY: Final = "hfproxy.request_id"
TIME_BUDGET_KEY: Final = "hfproxy.time_budget"
CAN_STREAM_KEY: Final = "hfproxy.can_stream"
CLIENT_IP_KEY: Final = "hfproxy.client_ip"

# The keys and their types, for type checkers (the names are not identifiers, hence this form).
AdapterEnviron = TypedDict(
    "AdapterEnviron",
    {"hfproxy.request_id": str, "hfproxy.time_budget": float, "hfproxy.can_stream": bool, "hfproxy.client_ip": str},
    total=False,
)


def provide(
    environ: MutableMapping[str, Any],
    *,
    request_id: str | None = None,
    time_budget: float | None = None,
    can_stream: bool | None = None,
    client_ip: str | None = None,
) -> None:
    """Set what the platform knows on a WSGI environ; a None leaves that key out."""
    given: AdapterEnviron = {}
    if request_id is not None:
        given[REQUEST_ID_KEY] = request_id
    if time_budget is not None:
        given[TIME_BUDGET_KEY] = time_budget
    if can_stream is not None:
        given[CAN_STREAM_KEY] = can_stream
    if client_ip is not None:
        given[CLIENT_IP_KEY] = client_ip
    environ.update(given)


def request_id(environ: Mapping[str, Any]) -> str | None:
    return environ.get(REQUEST_ID_KEY) or None


def time_budget(environ: Mapping[str, Any]) -> float | None:
    return environ.get(TIME_BUDGET_KEY)


def can_stream(environ: Mapping[str, Any]) -> bool:
    return environ.get(CAN_STREAM_KEY, True) is not False


def client_ip(environ: Mapping[str, Any]) -> str | None:
    return environ.get(CLIENT_IP_KEY) or None
