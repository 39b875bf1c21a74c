"""The identity provider's public keys (its JWKS, RFC 7517 §5), cached per warm instance.

A token names its key (``kid``). A known key is used from the cache; the set is fetched again
when it is older than :data:`MAX_AGE` (a provider withdraws keys too), and for an unknown ``kid``
at most once every :data:`REFETCH_AFTER` seconds, so a provider's new key is picked up within a
minute while a flood of invented ``kid`` values costs one fetch a minute. A failed fetch is not
retried for :data:`RETRY_AFTER_FAILURE` seconds (those requests get 503 at once, not a wait each).

Only public signature keys are kept (``kty`` RSA, EC or OKP; ``use`` absent or ``sig``): an
``oct`` (symmetric) key in a published set would let anyone who read it sign. A key is bound to
one algorithm when it is built (PyJWT's ``PyJWK``), the token's ``alg`` only if the configuration
allows it and the key fits it (https://pyjwt.readthedocs.io/en/stable/usage.html#retrieve-rsa-signing-keys-from-a-jwks-endpoint).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import jwt

MAX_AGE = 600.0  # seconds a fetched set is used before it is fetched again
REFETCH_AFTER = 60.0  # an unknown kid asks the provider again at most this often
RETRY_AFTER_FAILURE = 5.0  # after a failed fetch, answer 503 without asking again for this long
PUBLIC_TYPES = ("RSA", "EC", "OKP")


class Unavailable(Exception):
    """The set could not be fetched or read (the request is refused with 503)."""


class UnknownKey(Exception):
    """The token names a key the provider does not publish, or one that does not fit its alg (401)."""


class KeySet:
    """One JWKS URL's keys. ``fetch()`` returns the document's bytes or raises :class:`Unavailable`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._keys: dict[str, dict] = {}
        self._built: dict[tuple[str, str], jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._tried_at: float | None = None
        self._failed_at: float | None = None
        self._lock = threading.Lock()

    def key(self, kid: str, alg: str, fetch: Callable[[], bytes]) -> jwt.PyJWK:
        built = self._built.get((kid, alg))
        if built is not None and self._fresh(self._clock()):
            return built
        with self._lock:  # one fetch at a time; the others then read what it found
            jwk = self._resolve(kid, fetch)
            built = self._built.get((kid, alg))
            if built is None:
                built = self._built[(kid, alg)] = _bind(jwk, alg)
        return built

    def _fresh(self, now: float) -> bool:
        return self._fetched_at is not None and now - self._fetched_at < MAX_AGE

    def _resolve(self, kid: str, fetch: Callable[[], bytes]) -> dict:
        now = self._clock()
        if self._fresh(now):
            if kid in self._keys:
                return self._keys[kid]
            if self._tried_at is not None and now - self._tried_at < REFETCH_AFTER:
                raise UnknownKey("the signing key (kid) is not one the identity provider publishes")
        elif self._failed_at is not None and now - self._failed_at < RETRY_AFTER_FAILURE:
            raise Unavailable("the last fetch failed moments ago")
        self._tried_at = now
        try:
            keys = _public_keys(fetch())
        except Unavailable:
            self._failed_at = now
            raise
        self._keys, self._built, self._fetched_at, self._failed_at = keys, {}, now, None
        if kid not in keys:
            raise UnknownKey("the signing key (kid) is not one the identity provider publishes")
        return keys[kid]


def _public_keys(document: bytes) -> dict[str, dict]:
    try:
        data = json.loads(document)
    except (ValueError, UnicodeDecodeError):
        raise Unavailable("the JWKS is not JSON") from None
    listed = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(listed, list):
        raise Unavailable("the JWKS has no keys list")
    keys = {
        k["kid"]: k
        for k in listed
        if isinstance(k, dict)
        and isinstance(k.get("kid"), str)
        and k.get("kty") in PUBLIC_TYPES
        and k.get("use", "sig") == "sig"
    }
    if not keys:
        raise Unavailable("the JWKS holds no public signature key with a kid")
    return keys


def _bind(jwk: dict, alg: str) -> jwt.PyJWK:
    """The key, usable with ``alg`` only; a key published for another algorithm, or of another
    type (an RSA key for ES256), is refused rather than reinterpreted."""
    if jwk.get("alg", alg) != alg:
        raise UnknownKey(f"its key is published for another algorithm than {alg}")
    try:
        return jwt.PyJWK(jwk, algorithm=alg)
    except jwt.PyJWTError:
        raise UnknownKey(f"its key does not fit {alg}") from None


_sets: dict[str, KeySet] = {}
_sets_lock = threading.Lock()


def key_set(url: str) -> KeySet:
    """The process's cache for one JWKS URL."""
    found = _sets.get(url)
    if found is None:
        with _sets_lock:
            found = _sets.setdefault(url, KeySet())
    return found
