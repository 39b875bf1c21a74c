"""A fake identity provider: keys generated in the test (RSA, EC P-256, Ed25519), its JWKS served
by a real loopback HTTP server, and real JWTs signed with PyJWT, as Auth0, Cognito, Clerk or
Firebase would hand the browser. Nothing here is a fixture file: every key is made at run time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from tests.fakes.http_server import FakeServer, Received, Reply

ISSUER = "https://id.example.test/"
AUDIENCE = "hfproxy-demo-app"
JWKS_PATH = "/.well-known/jwks.json"
ALGORITHMS = {"rsa": "RS256", "ec": "ES256", "ed": "EdDSA"}


def new_key(kind: str) -> Any:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


def public_jwk(private_key: Any, kid: str, **extra: str) -> dict:
    """The public half as a JWK (RFC 7517), as a provider publishes it."""
    if isinstance(private_key, rsa.RSAPrivateKey):
        name = "RS256"
    elif isinstance(private_key, ec.EllipticCurvePrivateKey):
        name = "ES256"
    else:
        name = "EdDSA"
    jwk = jwt.get_algorithm_by_name(name).to_jwk(private_key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig", **extra}


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class IdentityProvider:
    """Three signing keys (kid ``rsa-1``, ``ec-1``, ``ed-1``) and the JWKS that publishes them."""

    server: FakeServer
    keys: dict[str, Any] = field(default_factory=dict)  # kid -> private key
    published: list[dict] = field(default_factory=list)
    up: bool = True  # False: the JWKS answers 503

    @property
    def jwks_url(self) -> str:
        return self.server.url + JWKS_PATH

    def add_key(self, kind: str, kid: str, publish: bool = True, **extra: str) -> Any:
        key = self.keys[kid] = new_key(kind)
        if publish:
            self.published.append(public_jwk(key, kid, **extra))
        return key

    def answer(self, received: Received) -> Reply:
        if not self.up or received.path != JWKS_PATH:
            return Reply(status=503, json={"error": "down"})
        return Reply(json={"keys": self.published})

    def fetches(self) -> int:
        return sum(1 for r in self.server.received if r.path == JWKS_PATH)

    def claims(self, **overrides: Any) -> dict:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-ada", "iat": now, "exp": now + 600}
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, kid: str = "rsa-1", alg: str | None = None, headers: dict | None = None, **claims: Any) -> str:
        """A JWT signed with the key ``kid`` (``alg``: the key's own algorithm unless given)."""
        kind = kid.split("-")[0]
        return jwt.encode(
            self.claims(**claims),
            self.keys[kid],
            algorithm=alg or ALGORITHMS.get(kind, "RS256"),
            headers={"kid": kid, **(headers or {})},
        )

    def forged(self, header: dict, key: bytes, **claims: Any) -> str:
        """A token whose HS256 signature uses ``key`` (a public key, as the confusion attack does)."""
        head = b64(json.dumps(header).encode())
        body = b64(json.dumps(self.claims(**claims)).encode())
        signature = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{b64(signature)}"

    def public_pem(self, kid: str) -> bytes:
        return (
            self.keys[kid]
            .public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )


def start(server: FakeServer | None = None) -> IdentityProvider:
    """A provider with fresh keys, served by ``server`` (reset) or a new one."""
    if server is None:
        server = FakeServer().start()
    server.reset()
    provider = IdentityProvider(server)
    server.default = provider.answer
    provider.add_key("rsa", "rsa-1")
    provider.add_key("ec", "ec-1")
    provider.add_key("ed", "ed-1")
    return provider
