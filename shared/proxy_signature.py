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
import math
import re
import time
from collections.abc import Callable

from shared import errors

HEADER = "x-nf-sign"
ISSUER = "netlify"
LEEWAY_SECONDS = 30  # clock skew between the signer and this function
LIFETIME_SECONDS = 300  # Netlify (and netlify-cli's sign-redirect) sign for 5 minutes, never longer
MAX_TOKEN_CHARS = 4096  # a real token is ~300 characters; refuse to decode megabytes
# RFC 7515 §2: base64url without padding. Python's decoder also takes "=", "+", "/" and stray
# bits in the last character, so one signature would have many spellings (a replay filter or a
# log keyed on the token would miss them); only the canonical spelling is accepted.
_B64URL = re.compile(r"[A-Za-z0-9_-]*")

log = logging.getLogger("hfproxy")


class InvalidSignature(Exception):
    """Why a token was refused: logged for the operator, never sent to the client."""


def _b64url(part: str) -> bytes:
    if not part or len(part) % 4 == 1 or not _B64URL.fullmatch(part):
        raise InvalidSignature("malformed")
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise InvalidSignature("malformed") from None
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != part:
        raise InvalidSignature("malformed")  # non-zero trailing bits: not the canonical spelling
    return raw


def _no_constants(name: str) -> float:
    raise ValueError(f"{name} is not JSON")  # json.loads takes NaN and Infinity unless told not to


def _json_object(part: str) -> dict:
    try:
        value = json.loads(_b64url(part), parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidSignature("malformed") from None
    if not isinstance(value, dict):
        raise InvalidSignature("malformed")
    return value


def _time_claim(claims: dict, name: str) -> float | None:
    """A NumericDate (RFC 7519 §2) or None; 1e999 parses to inf, so finiteness is checked here."""
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidSignature(f"bad {name}")
    return float(value)


def _same_site(claimed: object, expected: str) -> bool:
    return isinstance(claimed, str) and claimed.rstrip("/").lower() == expected.rstrip("/").lower()


def verify(
    token: str | None, secret: str, now: float, leeway: float = LEEWAY_SECONDS, site_url: str | None = None
) -> dict:
    """The token's claims if it is an HS256 JWS signed with ``secret`` by Netlify and not expired.

    ``exp`` may be no further ahead than Netlify ever signs for (a token claiming a year is not
    one Netlify made, whoever holds the secret); with ``site_url`` the token must name that site,
    so a token another site signed with the same secret is refused.
    """
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
    try:
        exp = _time_claim(claims, "exp")
    except InvalidSignature:
        raise InvalidSignature("no expiry") from None
    if exp is None:
        raise InvalidSignature("no expiry")
    if now > exp + leeway:
        raise InvalidSignature("expired")
    if exp > now + LIFETIME_SECONDS + leeway:
        raise InvalidSignature("expiry too far ahead")
    nbf = _time_claim(claims, "nbf")
    if nbf is not None and now < nbf - leeway:
        raise InvalidSignature("not yet valid")
    iat = _time_claim(claims, "iat")
    if iat is not None and iat > now + leeway:
        raise InvalidSignature("issued in the future")
    if site_url is not None and not _same_site(claims.get("site_url"), site_url):
        raise InvalidSignature("another site")
    return claims


def require_signed_proxy(
    headers: dict[str, str],
    secret: str | None,
    site_url: str | None = None,
    clock: Callable[[], float] = time.time,
) -> bool:
    """False when no secret is configured; True when the request's signature verified; else 401.

    True is what lets a caller trust headers only the signer sets (Netlify's client address).
    """
    if secret is None:
        return False
    try:
        verify(headers.get(HEADER), secret, clock(), site_url=site_url)
    except InvalidSignature as exc:
        log.warning("signed proxy check failed: %s", exc)
        raise errors.proxy_signature_invalid() from None
    return True
