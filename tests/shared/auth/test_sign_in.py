"""Signed-in users through the WSGI core: real JWTs, signed in the test with keys it made, checked
against a JWKS a loopback server publishes. Every refusal is a 401 (or 503) with its code, and the
token leaves no trace in the answer, its headers or any log line."""

from __future__ import annotations

import json
import logging
import time

import jwt
import pytest

from shared.app import ProxyApp
from tests.conftest import TEST_TOKEN, client_for, post_json
from tests.fakes.identity_provider import ALGORITHMS, IdentityProvider, b64

GENERATE = {"inputs": "Hello", "parameters": {"max_new_tokens": 10}}


def generate(client, authorization: str | None = None, address: str = "203.0.113.7", path: str = "/api/generate"):
    headers = {} if authorization is None else {"Authorization": authorization}
    return post_json(client, path, GENERATE, environ_base={"REMOTE_ADDR": address}, headers=headers)


def assert_no_trace(token: str, answer, logs: str) -> None:
    """Neither the token nor its claims or signature appear anywhere the client or operator reads."""
    head, claims, signature = (token.split(".") + ["", ""])[:3]
    pieces = [token, claims, signature] if claims and signature else [token]
    shown = answer.get_data(as_text=True) + json.dumps(dict(answer.headers))
    for piece in pieces:
        assert piece not in shown
        assert piece not in logs


@pytest.mark.parametrize("kid", ["rsa-1", "ec-1", "ed-1"])
def test_a_valid_token_of_each_key_type_is_accepted_and_never_forwarded(auth_settings, idp, upstream, kid, caplog):
    # GIVEN sign-in on, and a token the provider signed with its RSA, EC or Ed25519 key
    token = idp.token(kid)
    assert jwt.get_unverified_header(token)["alg"] == ALGORITHMS[kid.split("-")[0]]
    # WHEN the app sends it as a Bearer token
    with caplog.at_level(logging.DEBUG):
        answer = generate(client_for(auth_settings), f"Bearer {token}")
    # THEN the model answers, and upstream only the server's token was sent
    assert answer.status_code == 200
    assert upstream.received[-1].headers["authorization"] == f"Bearer {TEST_TOKEN}"
    assert token not in json.dumps(upstream.received[-1].headers)
    assert_no_trace(token, answer, caplog.text)


def refusals(idp: IdentityProvider) -> dict[str, tuple[str, str]]:
    """name -> (Authorization value, what the refusal's sentence says)."""
    now = int(time.time())
    idp.add_key("rsa", "rsa-unpublished", publish=False)
    none_header = b64(json.dumps({"alg": "none", "kid": "rsa-1"}).encode())
    none_claims = b64(json.dumps(idp.claims()).encode())
    return {
        "expired": (f"Bearer {idp.token(exp=now - 120, iat=now - 720)}", "expired"),
        "not yet valid (nbf)": (f"Bearer {idp.token(nbf=now + 300)}", "not valid yet"),
        "issued in the future (iat)": (f"Bearer {idp.token(iat=now + 300)}", "not valid yet"),
        "wrong issuer": (f"Bearer {idp.token(iss='https://evil.example/')}", "another identity provider"),
        "wrong audience": (f"Bearer {idp.token(aud='another-app')}", "another audience"),
        "no expiry": (f"Bearer {idp.token(exp=None)}", "no exp claim"),
        "no subject": (f"Bearer {idp.token(sub=None)}", "no sub claim"),
        "alg none, empty signature": (f"Bearer {none_header}.{none_claims}.", "not a JWT"),
        "alg none, any signature": (f"Bearer {none_header}.{none_claims}.c2ln", "algorithm this proxy does not accept"),
        "HS256 signed with the public key's PEM": (
            f"Bearer {idp.forged({'alg': 'HS256', 'kid': 'rsa-1'}, idp.public_pem('rsa-1'))}",
            "algorithm this proxy does not accept",
        ),
        "HS256 signed with the published JWK": (
            f"Bearer {idp.forged({'alg': 'HS256', 'kid': 'ec-1'}, json.dumps(idp.published[1]).encode())}",
            "algorithm this proxy does not accept",
        ),
        "RS256 claimed for the EC key": (f"Bearer {idp.token('rsa-1', headers={'kid': 'ec-1'})}", "does not fit RS256"),
        "ES256 signature under the RSA key's kid": (
            f"Bearer {idp.token('ec-1', headers={'kid': 'rsa-1'})}",
            "does not fit ES256",
        ),
        "unknown key (kid)": (f"Bearer {idp.token('rsa-unpublished')}", "not one the identity provider publishes"),
        "no kid": (f"Bearer {jwt.encode(idp.claims(), idp.keys['rsa-1'], algorithm='RS256')}", "names no signing key"),
        "tampered claims": (
            "Bearer "
            + ".".join(idp.token().split(".")[:1] + [b64(json.dumps(idp.claims(sub="admin")).encode())])
            + "."
            + idp.token().split(".")[2],
            "signature does not verify",
        ),
        "empty Bearer": ("Bearer ", "not 'Bearer <token>'"),
        "another scheme": ("Basic dXNlcjpwYXNz", "not 'Bearer <token>'"),
        "not three parts": ("Bearer abc.def", "not a JWT"),
        "unreadable header": ("Bearer e30x.e30.c2ln", "header is not readable"),
    }


def test_every_refusal_is_a_401_token_invalid_saying_why_and_leaving_no_trace(auth_settings, idp, upstream, caplog):
    client = client_for(auth_settings)
    for name, (authorization, why) in refusals(idp).items():
        caplog.clear()
        with caplog.at_level(logging.DEBUG):
            answer = generate(client, authorization)
        body = answer.get_json()
        assert (answer.status_code, body["code"]) == (401, "token_invalid"), name
        assert why in body["error"], (name, body["error"])
        assert answer.headers["WWW-Authenticate"] == 'Bearer realm="hfproxy", error="invalid_token"', name
        token = authorization.partition(" ")[2]
        if len(token) > 8:
            assert_no_trace(token, answer, caplog.text)
    # AND nothing reached the model
    assert upstream.received == []


def test_on_the_openai_paths_a_refusal_is_an_authentication_error(auth_settings, idp, chat_settings, upstream):
    settings = chat_settings.with_changes(
        auth_jwks_url=auth_settings.auth_jwks_url,
        auth_issuer=auth_settings.auth_issuer,
        auth_audience=auth_settings.auth_audience,
    )
    body = {"messages": [{"role": "user", "content": "Hi"}]}
    answer = post_json(
        client_for(settings), "/api/v1/chat/completions", body, headers={"Authorization": f"Bearer {idp.token(sub='')}"}
    )
    assert answer.status_code == 401
    error = answer.get_json()["error"]
    assert (error["code"], error["type"]) == ("token_invalid", "authentication_error")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the test signs with it on purpose
def test_an_rsa_key_shorter_than_2048_bits_is_refused(auth_settings, idp):
    from cryptography.hazmat.primitives.asymmetric import rsa

    from tests.fakes.identity_provider import public_jwk

    weak = idp.keys["rsa-weak"] = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    idp.published.append(public_jwk(weak, "rsa-weak"))
    answer = generate(client_for(auth_settings), f"Bearer {idp.token('rsa-weak')}")
    assert answer.status_code == 401 and "too weak" in answer.get_json()["error"]


def test_the_algorithms_are_the_configured_ones_never_the_tokens(auth_settings, idp, upstream):
    # GIVEN only ES256 allowed
    client = client_for(auth_settings.with_changes(auth_algorithms=("ES256",)))
    # THEN a perfectly signed RS256 token is refused, an ES256 one accepted
    refused = generate(client, f"Bearer {idp.token('rsa-1')}")
    assert refused.status_code == 401 and "algorithm" in refused.get_json()["error"]
    assert generate(client, f"Bearer {idp.token('ec-1')}").status_code == 200


def test_a_small_clock_skew_is_tolerated(auth_settings, idp, upstream):
    now = int(time.time())
    client = client_for(auth_settings)
    assert generate(client, f"Bearer {idp.token(exp=now - 10)}").status_code == 200  # within the 30 s leeway
    assert generate(client, f"Bearer {idp.token(nbf=now + 10)}").status_code == 200


def test_with_sign_in_required_an_anonymous_call_is_401_auth_required(auth_settings, idp, upstream):
    client = client_for(auth_settings.with_changes(auth_required=True))
    anonymous = generate(client)
    assert anonymous.status_code == 401 and anonymous.get_json()["code"] == "auth_required"
    assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="hfproxy"'
    assert generate(client, f"Bearer {idp.token()}").status_code == 200
    assert len(upstream.received) == 1


def test_with_sign_in_optional_an_anonymous_call_is_answered(auth_settings, upstream):
    assert generate(client_for(auth_settings)).status_code == 200


def test_sign_in_guards_the_model_routes_only(auth_settings, idp):
    client = client_for(auth_settings.with_changes(auth_required=True))
    for path in ("/api/health", "/api/models", "/api/openapi.json"):
        assert client.get(path, headers={"Authorization": "Bearer junk"}).status_code == 200
    assert idp.fetches() == 0


def test_with_sign_in_off_a_bearer_value_is_ignored_and_never_forwarded(settings, upstream):
    answer = generate(client_for(settings), "Bearer some-jwt-the-proxy-does-not-check")
    assert answer.status_code == 200
    assert upstream.received[-1].headers["authorization"] == f"Bearer {TEST_TOKEN}"


def test_without_pyjwt_in_the_deployment_sign_in_is_a_500_naming_the_setting(auth_settings, idp, monkeypatch):
    import sys

    import shared.auth

    # GIVEN a deployment without PyJWT (an import of jwt fails), our modules not imported yet
    monkeypatch.setitem(sys.modules, "jwt", None)
    for name in ("jwt_users", "jwks"):
        monkeypatch.delitem(sys.modules, f"shared.auth.{name}", raising=False)
        monkeypatch.delattr(shared.auth, name, raising=False)
    answer = generate(client_for(auth_settings), f"Bearer {idp.token()}")
    assert answer.status_code == 500
    assert answer.get_json()["code"] == "server_misconfigured" and "AUTH_JWKS_URL" in answer.get_json()["error"]


def test_without_sign_in_configured_pyjwt_is_never_imported(tmp_path):
    import subprocess
    import sys

    probe = (
        "import sys; from werkzeug.test import Client; from shared.app import ProxyApp; "
        "from shared.settings import Settings; "
        "c = Client(ProxyApp(Settings(demo_mode=True))); "
        "r = c.post('/api/generate', json={'inputs': 'hi'}, headers={'Authorization': 'Bearer x.y.z'}); "
        "print(r.status_code, 'jwt' in sys.modules, 'cryptography' in sys.modules)"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert run.stdout.split() == ["200", "False", "False"]


def test_the_app_records_the_refusal_code(auth_settings, idp, telemetry):
    app = ProxyApp(auth_settings, telemetry=telemetry)
    from werkzeug.test import Client

    generate(Client(app), f"Bearer {idp.token(aud='x')}")
    assert telemetry.records[-1].code == "token_invalid"
