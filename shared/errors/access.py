"""Who calls: a signed-in user's token or an anonymous caller's human check refused (shared/auth/)."""

from __future__ import annotations

from shared.envelope import ProxyError, retry_in

# RFC 6750 §3: a 401 for a bearer token names the scheme, and says invalid_token when one was refused.
_BEARER = {"WWW-Authenticate": 'Bearer realm="hfproxy"'}


def auth_required() -> ProxyError:
    return ProxyError(
        401,
        "auth_required",
        "Sign in first: this proxy answers its model routes for signed-in users only; "
        "send 'Authorization: Bearer <your sign-in token>'.",
        headers=dict(_BEARER),
    )


def token_invalid(why: str) -> ProxyError:
    """``why`` is ours (expired, wrong audience, unknown key...), never the token or a library's text."""
    return ProxyError(
        401,
        "token_invalid",
        f"The sign-in token was refused: {why}. Sign in again and send the new token.",
        headers={"WWW-Authenticate": 'Bearer realm="hfproxy", error="invalid_token"'},
    )


def auth_unavailable() -> ProxyError:
    """The identity provider's keys could not be read: never an open door, so not forwarded."""
    return retry_in(
        503,
        "auth_unavailable",
        "The proxy cannot check sign-in tokens right now (the identity provider's keys "
        "did not load), so the request was not forwarded",
        5,
    )


def clearance_required() -> ProxyError:
    return ProxyError(
        403,
        "clearance_required",
        "Anonymous calls need a human check first: POST /api/clearance with a Turnstile token, then send the "
        "clearance it answers as the X-Clearance header.",
    )


def clearance_invalid(why: str) -> ProxyError:
    return ProxyError(
        403,
        "clearance_invalid",
        f"The X-Clearance token was refused: {why}; do the human check again (POST /api/clearance).",
    )


def turnstile_failed(said: str) -> ProxyError:
    return ProxyError(
        403, "turnstile_failed", f"The human check did not pass (Cloudflare said: {said}); solve it again."
    )


def turnstile_unavailable() -> ProxyError:
    return retry_in(503, "turnstile_unavailable", "The proxy cannot reach Cloudflare to confirm the human check", 5)


def clearance_off() -> ProxyError:
    return ProxyError(
        404,
        "clearance_off",
        "This proxy asks for no human check (TURNSTILE_SECRET is not set): call the model routes directly.",
    )
