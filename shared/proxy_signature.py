"""Require a signed proxy: accept requests only when a trusted front proxy signed them.

Netlify's signed proxy rewrites (``signed = "VAR"`` in netlify.toml, ``Sign=VAR`` in _redirects)
add an ``x-nf-sign`` header: a compact JWS, HS256 with the value of VAR as the key, issuer
``netlify``, valid 5 minutes (https://docs.netlify.com/routing/redirects/rewrites-proxies/#signed-proxy-redirects;
netlify-cli signs the same way in dev: src/utils/sign-redirect.ts). When PROXY_SIGNATURE_SECRET
is set, a request without a valid one is refused, so the function cannot be called around the
site that fronts it. Standard library only: verifying one HMAC needs no JWT library.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable

from shared import errors

HEADER = "x-nf-sign"
ISSUER = "netlify"
LEEWAY_SECONDS = 30  # clock skew between the signer and this function
MAX_TOKEN_CHARS = 4096  # a real token is ~300 characters; refuse to decode megabytes

log = logging.getLogger("hfproxy")


class InvalidSignature(Exception):
    """Why a token was refused: logged for the operator, never sent to the client."""


def _b64url(part: str) -> bytes:
    if not part or not part.isascii():
        raise InvalidSignature("malformed")
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise InvalidSignature("malformed") from None


def _json_object(part: str) -> dict:
    try:
        value = json.loads(_b64url(part))
    except (ValueError, UnicodeDecodeError):
        raise InvalidSignature("malformed") from None
    if not isinstance(value, dict):
        raise InvalidSignature("malformed")
    return value


def verify(token: str | None, secret: str, now: float, leeway: float = LEEWAY_SECONDS) -> dict:
    """The token's claims if it is an HS256 JWS signed with ``secret`` by Netlify and not expired."""
    if not token:
        raise InvalidSignature("missing")
    if len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
        raise InvalidSignature("malformed")
    header_part, claims_part, signature_part = token.split(".")
    header = _json_object(header_part)
    # Only HS256: never let the token pick the algorithm ("none", RS256 with the secret as key).
    if header.get("alg") != "HS256":
        raise InvalidSignature("wrong algorithm")
    expected = hmac.new(secret.encode(), f"{header_part}.{claims_part}".encode("ascii"), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, _b64url(signature_part)):
        raise InvalidSignature("bad signature")
    claims = _json_object(claims_part)
    if claims.get("iss") != ISSUER:
        raise InvalidSignature("wrong issuer")
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        raise InvalidSignature("no expiry")
    if now > exp + leeway:
        raise InvalidSignature("expired")
    nbf = claims.get("nbf")
    if isinstance(nbf, (int, float)) and not isinstance(nbf, bool) and now < nbf - leeway:
        raise InvalidSignature("not yet valid")
    return claims


def require_signed_proxy(headers: dict[str, str], secret: str | None, clock: Callable[[], float] = time.time) -> None:
    """No-op unless a secret is configured; then a missing or invalid signature is a 401."""
    if secret is None:
        return
    try:
        verify(headers.get(HEADER), secret, clock())
    except InvalidSignature as exc:
        log.warning("signed proxy check failed: %s", exc)
        raise errors.proxy_signature_invalid() from None
