"""Signed proxy guard: tokens made the way Netlify makes them (HS256 JWS, iss netlify, 5 min).

The reference signer is PyJWT, an implementation independent of ours, with the same claims as
netlify-cli's sign-redirect (deploy_context, netlify_id, site_url; expiresIn 5 minutes; issuer
netlify). tests/functions/netlify/test_netlify_dev.py checks the real netlify-cli signature too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
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


# --- canonical spelling, bounded times, the site it was signed for --------------------------------


def _seg(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def signed_raw(claims_json: str, secret: str = SECRET, header_json: str = '{"alg":"HS256","typ":"JWT"}') -> str:
    """A token signed over JSON text as written, for claims PyJWT would never produce."""
    signing_input = f"{_seg(header_json)}.{_seg(claims_json)}"
    mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def _respelled_signature(token: str, how: str) -> str:
    head, claims, sig = token.split(".")
    if how == "padded":
        sig += "="
    elif how == "standard-alphabet":
        # find a token whose signature has a url-safe character, then spell it the standard way
        sig = sig.replace("-", "+").replace("_", "/")
    elif how == "stray-bits":
        # 32 bytes are 43 characters; the last one carries 2 unused bits that decoders ignore
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        sig = sig[:-1] + alphabet[alphabet.index(sig[-1]) ^ 1]
    return f"{head}.{claims}.{sig}"


def _token_with_urlsafe_signature_chars() -> str:
    for i in range(1000):
        token = netlify_token(netlify_id=f"id-{i}")
        if any(c in token.split(".")[2] for c in "-_"):
            return token
    raise AssertionError("no signature with - or _ in 1000 tries")


@pytest.mark.parametrize("how", ["padded", "standard-alphabet", "stray-bits"])
def test_a_valid_signature_spelled_any_other_way_is_refused(how):
    # GIVEN a token that verifies as Netlify spelled it
    token = _token_with_urlsafe_signature_chars()
    assert verify(token, SECRET, now=NOW + 1)
    # WHEN the same signature bytes are spelled differently (decoders would accept each spelling)
    respelled = _respelled_signature(token, how)
    assert respelled != token
    # THEN only the canonical base64url spelling is accepted
    with pytest.raises(InvalidSignature, match="malformed"):
        verify(respelled, SECRET, now=NOW + 1)


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ('{"iss":"netlify","exp":NaN}', "malformed"),
        ('{"iss":"netlify","exp":Infinity}', "malformed"),
        ('{"iss":"netlify","exp":-Infinity}', "malformed"),
        ('{"iss":"netlify","exp":1e999}', "no expiry"),
        (f'{{"iss":"netlify","exp":{NOW + 60},"nbf":NaN}}', "malformed"),
        (f'{{"iss":"netlify","exp":{NOW + 60},"nbf":1e999}}', "bad nbf"),
        (f'{{"iss":"netlify","exp":{NOW + 60},"iat":"yesterday"}}', "bad iat"),
        (f'{{"iss":"netlify","exp":{NOW + 10**9}}}', "expiry too far ahead"),
        (f'{{"iss":"netlify","exp":{NOW + 300 + proxy_signature.LEEWAY_SECONDS + 2}}}', "expiry too far ahead"),
        (f'{{"iss":"netlify","exp":{NOW + 60},"iat":{NOW + 3600}}}', "issued in the future"),
    ],
)
def test_times_must_be_finite_numbers_no_further_ahead_than_netlify_signs(claims, reason):
    # GIVEN a correctly signed token (whoever holds the secret) whose times are not Netlify's
    token = signed_raw(claims)
    # WHEN verified, THEN it is refused: NaN never compares, inf never expires, a year is not 5 min
    with pytest.raises(InvalidSignature, match=reason):
        verify(token, SECRET, now=NOW + 1)


def test_the_longest_lifetime_netlify_signs_still_verifies_with_clock_skew():
    # GIVEN a token issued by a signer whose clock runs the whole leeway ahead of ours
    ahead = NOW + proxy_signature.LEEWAY_SECONDS
    # THEN its 5-minute expiry is still accepted
    assert verify(netlify_token(iat=ahead, ttl=proxy_signature.LIFETIME_SECONDS), SECRET, now=NOW)


@pytest.mark.parametrize(
    ("site_url", "configured", "accepted"),
    [
        ("https://hfproxy-demo.netlify.app", "https://hfproxy-demo.netlify.app", True),
        ("https://hfproxy-demo.netlify.app/", "https://HFPROXY-demo.netlify.app", True),
        ("https://other-site.netlify.app", "https://hfproxy-demo.netlify.app", False),
        ("https://hfproxy-demo.netlify.app.evil.example", "https://hfproxy-demo.netlify.app", False),
        (None, "https://hfproxy-demo.netlify.app", False),
        (42, "https://hfproxy-demo.netlify.app", False),
        ("https://other-site.netlify.app", None, True),
    ],
)
def test_with_a_site_url_configured_only_tokens_signed_for_that_site_verify(site_url, configured, accepted):
    # GIVEN a token Netlify signed with our secret for the site it names
    token = netlify_token(site_url=site_url)
    # WHEN verified against the configured site URL (or none)
    if accepted:
        assert verify(token, SECRET, now=NOW + 1, site_url=configured)
    else:
        # THEN a token made for another site (same secret, e.g. a forked deploy) is refused
        with pytest.raises(InvalidSignature, match="another site"):
            verify(token, SECRET, now=NOW + 1, site_url=configured)


def test_the_app_refuses_a_token_signed_for_another_site_when_the_site_url_is_set(settings, upstream):
    # GIVEN the backend knows its site, WHEN a request carries a token made for another site
    client = client_for(
        settings.with_changes(
            proxy_signature_secret=SECRET, proxy_signature_site_url="https://hfproxy-demo.netlify.app"
        )
    )
    other = netlify_token(iat=time.time(), site_url="https://someone-else.netlify.app")
    ours = netlify_token(iat=time.time())
    # THEN it is a 401 and the upstream never sees it; our own site's token passes
    assert post_json(client, "/api/generate", {"inputs": "Hi"}, headers={HEADER: other}).status_code == 401
    assert upstream.received == []
    assert post_json(client, "/api/generate", {"inputs": "Hi"}, headers={HEADER: ours}).status_code == 200


def test_the_site_url_setting_must_be_a_url():
    assert (
        Settings.from_env({"PROXY_SIGNATURE_SITE_URL": "https://x.netlify.app/"}).proxy_signature_site_url
        == "https://x.netlify.app"
    )
    with pytest.raises(Exception, match="PROXY_SIGNATURE_SITE_URL"):
        Settings.from_env({"PROXY_SIGNATURE_SITE_URL": "x.netlify.app"})
