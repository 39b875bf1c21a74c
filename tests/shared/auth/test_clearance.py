"""The human check for anonymous use: a Turnstile token checked with a fake siteverify (a real
loopback server), then a clearance bound to the caller's address on every model call."""

from __future__ import annotations

import logging
import time
from urllib.parse import parse_qs

import pytest

from shared.auth import clearance
from tests.conftest import client_for, post_json
from tests.fakes.http_server import Reply
from tests.fakes.turnstile import GOOD_TOKEN as GOOD_TURNSTILE_TOKEN
from tests.fakes.turnstile import SECRET as TURNSTILE_SECRET
from tests.fakes.turnstile import SITE_KEY
from tests.shared.auth.conftest import closed_port_url
from tests.shared.auth.test_sign_in import GENERATE

ADDRESS = "203.0.113.7"


def clear(client, token: str = GOOD_TURNSTILE_TOKEN, address: str = ADDRESS):
    return post_json(client, "/api/clearance", {"token": token}, environ_base={"REMOTE_ADDR": address})


def generate(client, clearance_token: str | None, address: str = ADDRESS, **headers: str):
    if clearance_token is not None:
        headers["X-Clearance"] = clearance_token
    return post_json(client, "/api/generate", GENERATE, environ_base={"REMOTE_ADDR": address}, headers=headers)


def test_a_human_gets_a_clearance_and_calls_the_model_with_it(clearance_settings, siteverify, upstream):
    client = client_for(clearance_settings)
    # WHEN the page posts the widget's token
    answer = clear(client)
    # THEN the proxy asked siteverify with its secret, the token and the caller's address
    form = {k: v[0] for k, v in parse_qs(siteverify.received[-1].body.decode()).items()}
    assert form == {"secret": TURNSTILE_SECRET, "response": GOOD_TURNSTILE_TOKEN, "remoteip": ADDRESS}
    # AND answered a clearance for this address
    body = answer.get_json()
    assert answer.status_code == 200
    assert body["expires_in"] == 3600 and body["header"] == "X-Clearance"
    assert abs(body["expires_at"] - (time.time() + 3600)) < 5
    # WHEN the model is called with it, THEN it answers; without it, 403
    assert generate(client, body["clearance"]).status_code == 200
    refused = generate(client, None)
    assert (refused.status_code, refused.get_json()["code"]) == (403, "clearance_required")
    assert len(upstream.received) == 1


def test_a_refused_turnstile_token_gets_no_clearance(clearance_settings, upstream):
    answer = clear(client_for(clearance_settings), token="a-bot-made-this-up")
    assert answer.status_code == 403
    assert answer.get_json()["code"] == "turnstile_failed"
    assert "invalid-input-response" in answer.get_json()["error"]
    assert "clearance" not in answer.get_json()


@pytest.mark.parametrize("down", ["refused", "http_500", "not_json", "too_slow"])
def test_siteverify_unreachable_is_a_503_and_no_clearance(clearance_settings, siteverify, down):
    settings = clearance_settings
    if down == "refused":
        settings = settings.with_changes(turnstile_verify_url=closed_port_url("/siteverify"))
    elif down == "too_slow":
        siteverify.default = lambda received: Reply(json={"success": True}, delay=10)
        settings = settings.with_changes(request_deadline=1.0, deadline_margin=0.0)
    else:
        reply = Reply(status=500, json={}) if down == "http_500" else Reply(body=b"<html>", content_type="text/html")
        siteverify.default = lambda received: reply
    started = time.monotonic()
    answer = clear(client_for(settings))
    assert answer.status_code == 503
    assert answer.get_json()["code"] == "turnstile_unavailable" and answer.headers["Retry-After"] == "5"
    assert time.monotonic() - started < settings.request_deadline + 2.0


def test_a_wrong_widget_secret_is_the_operators_problem_not_the_visitors(clearance_settings):
    answer = clear(client_for(clearance_settings.with_changes(turnstile_secret="not-the-widget-secret")))
    assert answer.status_code == 500
    assert answer.get_json()["code"] == "server_misconfigured" and "TURNSTILE_SECRET" in answer.get_json()["error"]


def test_cloudflares_internal_error_is_a_503(clearance_settings, siteverify):
    siteverify.default = lambda received: Reply(json={"success": False, "error-codes": ["internal-error"]})
    assert clear(client_for(clearance_settings)).status_code == 503


def test_a_clearance_from_another_address_is_refused(clearance_settings, upstream):
    client = client_for(clearance_settings)
    token = clear(client).get_json()["clearance"]
    refused = generate(client, token, address="198.51.100.99")
    assert (refused.status_code, refused.get_json()["code"]) == (403, "clearance_invalid")
    assert "another address" in refused.get_json()["error"]
    assert upstream.received == []


def test_a_clearance_is_bound_to_the_ipv6_64_like_the_limits(clearance_settings, upstream):
    client = client_for(clearance_settings)
    token = clear(client, address="2001:db8:1:2::10").get_json()["clearance"]
    assert generate(client, token, address="2001:db8:1:2:aaaa::1").status_code == 200  # same /64
    assert generate(client, token, address="2001:db8:1:3::10").status_code == 403  # next /64


def tampered(token: str) -> list[str]:
    version, expires, nonce, mac = token.split(".")
    flip = "A" if mac[0] != "A" else "B"
    return [
        f"{version}.{int(expires) + 86400}.{nonce}.{mac}",  # a longer life
        f"{version}.{expires}.{nonce[:-1]}{'A' if nonce[-1] != 'A' else 'B'}.{mac}",
        f"{version}.{expires}.{nonce}.{flip}{mac[1:]}",
        f"c2.{expires}.{nonce}.{mac}",
        token + "x",
        "",
    ]


def test_a_tampered_clearance_is_refused(clearance_settings, upstream):
    client = client_for(clearance_settings)
    token = clear(client).get_json()["clearance"]
    for forged in tampered(token):
        refused = generate(client, forged)
        assert refused.status_code == 403, forged
        assert refused.get_json()["code"] in ("clearance_invalid", "clearance_required"), forged
    assert upstream.received == []


def test_an_expired_clearance_is_refused(clearance_settings, upstream):
    from shared.limits.identity import client_id

    token, _ = clearance.issue(clearance_settings, client_id(ADDRESS), now=time.time() - 3601)
    refused = generate(client_for(clearance_settings), token)
    assert refused.status_code == 403 and "expired" in refused.get_json()["error"]


def test_lowering_the_ttl_shortens_clearances_already_issued(clearance_settings, upstream):
    client = client_for(clearance_settings)
    token = clear(client).get_json()["clearance"]
    shorter = client_for(clearance_settings.with_changes(clearance_ttl=60))
    assert generate(shorter, token).status_code == 403


def test_a_clearance_signed_with_another_secret_is_refused(clearance_settings, upstream):
    token = clear(client_for(clearance_settings)).get_json()["clearance"]
    rotated = client_for(clearance_settings.with_changes(clearance_secret="a-new-secret-after-rotation-0123456789"))
    assert generate(rotated, token).status_code == 403


def test_signed_in_users_need_no_clearance(clearance_settings, auth_settings, idp, upstream):
    settings = clearance_settings.with_changes(
        auth_jwks_url=auth_settings.auth_jwks_url,
        auth_issuer=auth_settings.auth_issuer,
        auth_audience=auth_settings.auth_audience,
    )
    client = client_for(settings)
    assert generate(client, None, Authorization=f"Bearer {idp.token()}").status_code == 200
    assert generate(client, None).status_code == 403  # anonymous: still asked for one


def test_without_a_turnstile_secret_there_is_no_human_check(settings, upstream):
    client = client_for(settings)
    assert generate(client, None).status_code == 200
    off = clear(client)
    assert (off.status_code, off.get_json()["code"]) == (404, "clearance_off")


@pytest.mark.parametrize("body", [{}, {"token": ""}, {"token": 5}, {"token": "x" * 2049}, {"token": "t", "extra": 1}])
def test_a_malformed_clearance_request_is_a_400_and_cloudflare_is_not_asked(clearance_settings, siteverify, body):
    answer = post_json(client_for(clearance_settings), "/api/clearance", body)
    assert answer.status_code == 400 and answer.get_json()["code"] == "validation_error"
    assert siteverify.received == []


def test_the_clearance_route_is_never_counted(clearance_settings):
    client = client_for(clearance_settings.with_changes(rate_limit_per_minute=1))
    assert [clear(client).status_code for _ in range(3)] == [200, 200, 200]


def test_no_secret_or_clearance_reaches_a_log_line(clearance_settings, upstream, caplog):
    client = client_for(clearance_settings)
    with caplog.at_level(logging.DEBUG):
        token = clear(client).get_json()["clearance"]
        generate(client, token)
        generate(client, token, address="198.51.100.1")
        clear(client, token="a-bot-made-this-up")
    for secret in (TURNSTILE_SECRET, clearance_settings.clearance_secret, token, GOOD_TURNSTILE_TOKEN):
        assert secret not in caplog.text


def test_health_tells_the_page_the_site_key_and_cors_lets_it_send_the_header(clearance_settings):
    client = client_for(clearance_settings)
    assert client.get("/api/health").get_json()["access"] == {
        "sign_in": "off",
        "human_check": True,
        "turnstile_site_key": SITE_KEY,
    }
    preflight = client.options(
        "/api/generate",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-clearance",
        },
    )
    assert preflight.headers["Access-Control-Allow-Headers"] == "content-type, x-clearance"
