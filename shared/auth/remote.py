"""The two calls the access checks make: a JWKS (:mod:`shared.auth.jwks`) and Turnstile's siteverify
(:mod:`shared.auth.clearance`), through the project's one transport (:mod:`shared.upstreams.transport`).

Not PyJWKClient's own fetch: it uses ``urllib.request`` with its own timeout, outside the request's
deadline and the transport's pools, fault map and watchdog. Here each call is bounded by
:data:`TIMEOUT_SECONDS` and by what is left of the request's deadline, whichever ends first, and
reuses a pooled connection on a warm instance. Any failure (refused, timed out, cut, too large,
not 200) is :class:`Unavailable`: the caller answers 503, never lets the request through.
"""

from __future__ import annotations

from shared import errors
from shared.deadline import Deadline
from shared.settings import Settings
from shared.upstreams import transport

TIMEOUT_SECONDS = 3.0  # a JWKS or siteverify answer takes milliseconds; a slow one is down for this request
MAX_BYTES = 64 * 1024  # a JWKS of a few keys is ~2 KB; siteverify's verdict ~300 bytes


class Unavailable(Exception):
    """The call did not get a usable answer in time; the message names the fault, never a secret."""


def call(
    method: str, url: str, settings: Settings, deadline: Deadline, headers: dict[str, str], body: bytes | None = None
) -> transport.UpstreamResponse:
    """One bounded request; the whole 200 answer, or :class:`Unavailable`."""
    bounded = Deadline(min(deadline.expires_at, Deadline.after(TIMEOUT_SECONDS).expires_at))
    try:
        exchange = transport.send(
            method,
            url,
            headers=headers,
            body=body,
            deadline=bounded,
            connect_timeout=min(settings.connect_timeout, TIMEOUT_SECONDS),
            silence=TIMEOUT_SECONDS,
        )
        answer = exchange.read(MAX_BYTES)
    except errors.ProxyError as exc:  # the transport's fault map: unreachable, timeout, too large
        raise Unavailable(exc.code) from None
    if answer.status != 200:
        raise Unavailable(f"HTTP {answer.status}")
    return answer
