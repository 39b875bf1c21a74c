"""Signed-in users: the app's identity provider hands the browser a JWT; the proxy verifies it.

``Authorization: Bearer <JWT>`` (what an OpenAI SDK sends as its ``api_key``) is verified with
PyJWT against the provider's JWKS (:mod:`shared.auth.jwks`): the signature, with an algorithm of
``AUTH_ALGORITHMS`` only (never the token's choice beyond that list, never ``none`` or HS*:
https://pyjwt.readthedocs.io/en/stable/api.html#jwt.decode and RFC 8725 §2.1), RSA keys of at
least 2048 bits, then ``exp`` (required), ``nbf`` and ``iat`` with :data:`LEEWAY_SECONDS` of clock
skew, ``iss`` = ``AUTH_ISSUER`` and ``aud`` containing ``AUTH_AUDIENCE``. Its ``sub`` is the user.

A refusal says why in our own words (:func:`shared.errors.token_invalid`), never with the token or
a library's message (which can quote it); the log line says the same. Imported only when
``AUTH_JWKS_URL`` is set, so PyJWT and cryptography cost nothing otherwise.
"""

from __future__ import annotations

import logging
import re

import jwt

from shared import errors
from shared.auth import jwks, remote
from shared.deadline import Deadline
from shared.settings import Settings

log = logging.getLogger("hfproxy")
LEEWAY_SECONDS = 30  # clock skew between the identity provider and this function
MAX_TOKEN_CHARS = 8192  # provider tokens are 0.5-2 KB; refuse to parse megabytes
MAX_SUBJECT_CHARS = 255  # RFC 7519 sets none; providers' ids are far shorter
# Three base64url segments (RFC 7515 §7.1): anything else is not a compact JWS.
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_REQUIRED = ["exp", "iss", "aud", "sub"]

# PyJWT's refusals, in order (subclasses first), as sentences a person can act on.
_WHY: list[tuple[type[Exception], str]] = [
    (jwt.ExpiredSignatureError, "it has expired"),
    (jwt.ImmatureSignatureError, "it is not valid yet (nbf or iat is in the future)"),
    (jwt.InvalidAudienceError, "it was issued for another audience (aud)"),
    (jwt.InvalidIssuerError, "it was issued by another identity provider (iss)"),
    (jwt.InvalidSignatureError, "its signature does not verify"),
    (jwt.InvalidKeyError, "its signing key is too weak"),
    (jwt.InvalidAlgorithmError, "it is signed with an algorithm this proxy does not accept"),
]


class Refused(Exception):
    """Why a token was refused, in our words: sent to the client and logged, never the token."""


def subject(authorization: str, settings: Settings, deadline: Deadline) -> str:
    """The verified ``sub`` of the Bearer token in an ``Authorization`` value; 401 or 503 otherwise."""
    try:
        return _verify(_bearer(authorization), settings, deadline)
    except Refused as exc:
        log.warning("sign-in token refused: %s", exc)
        raise errors.token_invalid(str(exc)) from None
    except jwks.Unavailable as exc:
        log.warning("sign-in keys unavailable (%s); request refused", exc)
        raise errors.auth_unavailable() from None


def _bearer(authorization: str) -> str:
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Refused("the Authorization header is not 'Bearer <token>'")
    if len(token) > MAX_TOKEN_CHARS or not _COMPACT.fullmatch(token):
        raise Refused("it is not a JWT (three base64url parts)")
    return token


def _verify(token: str, settings: Settings, deadline: Deadline) -> str:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Refused("its header is not readable JSON") from None
    alg, kid = header.get("alg"), header.get("kid")
    if not isinstance(alg, str) or alg not in settings.auth_algorithms:  # "none", HS256, anything unlisted
        raise Refused("it is signed with an algorithm this proxy does not accept")
    if not isinstance(kid, str) or not kid:
        raise Refused("it names no signing key (kid)")
    url = settings.auth_jwks_url
    assert url is not None, "sign-in is on only with AUTH_JWKS_URL"
    try:
        key = jwks.key_set(url).key(kid, alg, lambda: _fetch(url, settings, deadline))
    except jwks.UnknownKey as exc:
        raise Refused(str(exc)) from None
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=list(settings.auth_algorithms),
            audience=settings.auth_audience,
            issuer=settings.auth_issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": _REQUIRED, "enforce_minimum_key_length": True},
        )
    except jwt.MissingRequiredClaimError as exc:
        raise Refused(f"it has no {exc.claim} claim") from None
    except jwt.PyJWTError as exc:
        why = next((why for kind, why in _WHY if isinstance(exc, kind)), "it is malformed")
        raise Refused(why) from None
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip() or len(sub) > MAX_SUBJECT_CHARS:
        raise Refused("its subject (sub) is empty or too long")
    return sub


def _fetch(url: str, settings: Settings, deadline: Deadline) -> bytes:
    try:
        return remote.call("GET", url, settings, deadline, {"Accept": "application/json"}).body
    except remote.Unavailable as exc:
        raise jwks.Unavailable(str(exc)) from None
