"""Who calls a model route: a signed-in user, or an anonymous address (cleared by a human check).

:func:`who` is the one place this is worked out, once per model request, before its body is read:

- sign-in on (``AUTH_JWKS_URL``, ``AUTH_ISSUER``, ``AUTH_AUDIENCE``) and an ``Authorization``
  header: it must be a valid JWT (:mod:`shared.auth.jwt_users`), else 401 or 503; its ``sub`` is
  the user, counted by the per-user limits wherever the user comes from;
- otherwise anonymous: 401 ``auth_required`` when ``AUTH_REQUIRED``; with ``TURNSTILE_SECRET``, a
  valid ``X-Clearance`` for this address (:mod:`shared.auth.clearance`), else 403; counted by
  address (the IPv6 /64) as before.

With sign-in off an ``Authorization`` header means nothing (it is never forwarded: the transport
builds every upstream header). Nothing here imports PyJWT unless sign-in is configured.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared import errors
from shared.deadline import Deadline
from shared.http import Request
from shared.limits.identity import client_id
from shared.settings import Settings

USER = "user"
ADDRESS = "address"


@dataclass(frozen=True)
class Caller:
    kind: str  # USER or ADDRESS
    address: str | None = None  # as the platform vouches for it (shared.limits.identity)
    subject: str | None = field(default=None, repr=False)  # a user's verified sub: never logged

    @property
    def key(self) -> str:
        """What the limits count (pseudonymised before it is stored): the user, or the address's client id."""
        return f"user:{self.subject}" if self.kind == USER else client_id(self.address)


def who(request: Request, settings: Settings, address: str | None, deadline: Deadline) -> Caller:
    """The caller of a model route, or the ProxyError that refuses it (401, 403, 503)."""
    if settings.sign_in:
        credential = request.headers.get("authorization")
        if credential is not None:
            try:
                from shared.auth import jwt_users
            except ImportError:
                raise errors.misconfigured(
                    "Setting AUTH_JWKS_URL needs PyJWT and cryptography in the deployment (requirements-auth.txt)."
                ) from None
            return Caller(USER, address, jwt_users.subject(credential, settings, deadline))
        if settings.auth_required:
            raise errors.auth_required()
    if settings.turnstile_secret:
        from shared.auth import clearance

        clearance.check(request.headers.get(clearance.HEADER), settings, client_id(address))
    return Caller(ADDRESS, address)
