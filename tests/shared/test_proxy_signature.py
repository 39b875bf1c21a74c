"""Signed proxy guard: tokens made the way Netlify makes them (HS256 JWS, iss netlify, 5 min).

The reference signer is PyJWT, an implementation independent of ours, with the same claims as
netlify-cli's sign-redirect (deploy_context, netlify_id, site_url; expiresIn 5 minutes; issuer
netlify). tests/functions/netlify/test_netlify_dev.py checks the real netlify-cli signature too.
"""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from shared import proxy_signature
from shared.proxy_signature import HEADER, InvalidSignature, verify
from shared.settings import Settings
from tests.conftest import client_for, post_json

SECRET = "test-signing-secret-" * 4  # 80 bytes: PyJWT warns below the RFC 7518 minimum
OTHER = "a-different-secret--" * 4
NOW = 1_760_000_000


def netlify_token(secret: str = SECRET, *, iat: float = NOW, ttl: float = 300, **overrides) -> str:
    claims = {
        "deploy_context": "production",
        "netlify_id": "5b1e8f6c-0000-4000-8000-000000000000",
        "site_url": "https://hfproxy-demo.netlify.app",
        "iat": int(iat),
        "exp": int(iat + ttl),
        "iss": "netlify",
        **overrides,
    }
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm="HS256")


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


# --- the pure verifier --------------------------------------------------------------------------


def test_a_fresh_netlify_token_verifies_and_returns_its_claims():
    # GIVEN a token signed like Netlify's edge signs it, WHEN verified one second later
    claims = verify(netlify_token(), SECRET, now=NOW + 1)
    # THEN its claims come back
    assert claims["iss"] == "netlify" and claims["site_url"] == "https://hfproxy-demo.netlify.app"


def test_a_token_is_valid_until_expiry_plus_leeway_and_not_after():
    token = netlify_token()
    assert verify(token, SECRET, now=NOW + 300 + proxy_signature.LEEWAY_SECONDS)
    with pytest.raises(InvalidSignature, match="expired"):
        verify(token, SECRET, now=NOW + 300 + proxy_signature.LEEWAY_SECONDS + 1)


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        (netlify_token(OTHER), "bad signature"),
        (netlify_token(iss="evil"), "wrong issuer"),
        (netlify_token(iss=None), "wrong issuer"),
        (netlify_token(exp=None), "no expiry"),
        (netlify_token(exp="soon"), "no expiry"),
        (netlify_token(nbf=NOW + 3600), "not yet valid"),
        (jwt.encode({"iss": "netlify", "exp": NOW + 60}, SECRET, algorithm="HS512"), "wrong algorithm"),
        (f"{_b64({'alg': 'none'})}.{_b64({'iss': 'netlify', 'exp': NOW + 60})}.", "wrong algorithm"),
        ("not-a-jws", "malformed"),
        ("a.b.c.d", "malformed"),
        ("%%%.%%%.%%%", "malformed"),
        (f"{_b64([1, 2])}.{_b64({})}.sig", "malformed"),
        ("é.é.é", "malformed"),
        ("x" * 5000 + ".a.b", "malformed"),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 20 else None,
)
def test_bad_tokens_are_refused_with_a_reason(token, reason):
    # GIVEN a missing, forged, foreign, unbounded or garbled token, WHEN verified, THEN it is refused
    with pytest.raises(InvalidSignature, match=reason):
        verify(token, SECRET, now=NOW + 1)


def test_a_tampered_claim_breaks_the_signature():
    # GIVEN a valid token whose claims were swapped for a longer expiry (signature kept)
    header, _claims, signature = netlify_token().split(".")
    forged = f"{header}.{_b64({'iss': 'netlify', 'exp': NOW + 10**9})}.{signature}"
    # THEN it does not verify
    with pytest.raises(InvalidSignature, match="bad signature"):
        verify(forged, SECRET, now=NOW + 1)


# --- the guard in the app -----------------------------------------------------------------------


@pytest.fixture
def guarded(settings: Settings):
    return client_for(settings.with_changes(proxy_signature_secret=SECRET))


def test_with_the_secret_set_a_signed_request_reaches_the_route(guarded, upstream):
    # GIVEN PROXY_SIGNATURE_SECRET is set, WHEN a request carries a fresh valid x-nf-sign
    resp = post_json(guarded, "/api/generate", {"inputs": "Hi"}, headers={HEADER: netlify_token(iat=time.time())})
    # THEN the route answers and the upstream was called
    assert resp.status_code == 200
    assert len(upstream.received) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {HEADER: netlify_token(OTHER, iat=time.time())},
        {HEADER: netlify_token(iat=time.time() - 3600)},
        {HEADER: netlify_token(iat=time.time(), iss="someone-else")},
        {HEADER: "garbage"},
    ],
    ids=["unsigned", "wrong-key", "expired", "wrong-issuer", "malformed"],
)
def test_with_the_secret_set_unsigned_or_bad_requests_get_401_and_never_reach_upstream(guarded, upstream, headers):
    resp = post_json(guarded, "/api/generate", {"inputs": "Hi"}, headers=headers)
    assert resp.status_code == 401
    body = resp.get_json()
    assert body["code"] == "proxy_signature_invalid"
    # one sentence for every failure: nothing tells a forger which check failed
    assert body["error"] == "This proxy only answers requests that come through its own site."
    assert upstream.received == []


def test_every_route_is_guarded_health_and_unknown_paths_too(guarded):
    assert guarded.get("/api/health").status_code == 401
    assert guarded.get("/api/nope").status_code == 401  # no route map for the unsigned either


def test_preflight_and_origin_check_run_before_the_guard(guarded):
    # GIVEN a browser preflight (it can never carry x-nf-sign), THEN it is answered, not refused
    resp = guarded.options(
        "/api/generate", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    )
    assert resp.status_code == 204
    # AND a disallowed origin is still a 403, decided before the signature
    strict = client_for(Settings(allowed_origins=("https://app.example",), proxy_signature_secret=SECRET))
    assert strict.get("/api/health", headers={"Origin": "https://evil.example"}).status_code == 403


def test_without_the_secret_nothing_changes(settings, upstream):
    resp = post_json(client_for(settings), "/api/generate", {"inputs": "Hi"})
    assert resp.status_code == 200


def test_the_secret_comes_from_the_environment_and_never_shows_in_repr():
    settings = Settings.from_env({"PROXY_SIGNATURE_SECRET": "  s3cret-value  "})
    assert settings.proxy_signature_secret == "s3cret-value"
    assert "s3cret-value" not in repr(settings)
    assert Settings.from_env({"PROXY_SIGNATURE_SECRET": ""}).proxy_signature_secret is None


def test_the_refusal_is_logged_with_its_reason_but_not_the_token(guarded, caplog):
    token = netlify_token(OTHER, iat=time.time())
    with caplog.at_level("WARNING", logger="hfproxy"):
        post_json(guarded, "/api/generate", {"inputs": "Hi"}, headers={HEADER: token})
    assert "bad signature" in caplog.text
    assert token not in caplog.text
